/**
 * Invariants lane0-bounded and lane0-priority (run-seed.ts checks them after every step): a cancel waits in Lane0 no
 * longer than the calls ahead of it allow, and no Lane1–3 send goes out while Lane0 work ahead of it is eligible. A
 * violation whose signature matches a known executor bug (known-issues.ts) is marked with it.
 */

import type { Violation } from './invariants.ts'
import type { Lane0Wait, PriorityInversion } from './monitor.ts'
import { RECONCILE_RETRY_MS } from './seed-world.ts'
import type { StatusQuery, VenueWatch } from './venue-watch.ts'
import { T0 } from '../runtime/harness.ts'

export interface Lane0Context {
  /** Longest a single adapter call can take, as seen by the executor. */
  callMsMax: number
  watch: VenueWatch
  /** The Lane0 bound with `callsAhead` calls ahead of the cancel (SeedRunner.lane0BoundMs). */
  boundMs: (callsAhead: number) => number
}

/** The Lane0 waits and priority inversions a step saw (Monitor.drain), as violations. */
export function lane0Violations(drained: { lane0Waits: readonly Lane0Wait[]; inversions: readonly PriorityInversion[] }, context: Lane0Context): Violation[] {
  const { lane0Waits, inversions } = drained
  const violations: Violation[] = []
  for (const wait of lane0Waits) {
    const boundMs = context.boundMs(wait.callsAhead)
    if (wait.waitMs <= boundMs) continue
    const message = `cancel of ${wait.orderId} waited ${wait.waitMs} ms in Lane0 (eligible at ${wait.eligibleAtMs - T0}, sent at ${wait.sentAtMs - T0}, ${wait.callsAhead} call(s) ahead); bound ${boundMs} ms`
    // Overtaken because of a known executor bug, a cancel may wait for one more call and the executor's reconcile
    // back-off: never longer than that.
    const knownBoundMs = context.boundMs(wait.callsAhead + 1) + RECONCILE_RETRY_MS
    const causes = wait.overtakers.map((inversion) => knownInversion(inversion, context))
    if (heldByReconcile(context.watch.statusQueries(wait.orderId), { fromMs: wait.eligibleAtMs, toMs: wait.sentAtMs }, context.callMsMax)) causes.push('executor-reconcile-backoff-blocks-lane0')
    const cause = causes[0]
    const known = cause !== undefined && cause !== null && causes.every((other) => other !== null) && wait.waitMs <= knownBoundMs ? { known: cause } : {}
    violations.push({ invariant: 'lane0-bounded', message, ...known })
  }
  for (const inversion of inversions) {
    const message = `at ${inversion.atMs - T0} a Lane${inversion.sentLane} send of ${inversion.sentOrderId} went out while Lane0 work for ${inversion.lane0OrderId}, ahead of it, was eligible (${inversion.sameInstrument ? 'same' : 'another'} instrument)`
    const known = knownInversion(inversion, context)
    const queries = context.watch.statusQueries(inversion.lane0OrderId).map((query) => `${query.askedAtMs - T0}→${query.answeredAtMs === null ? '…' : `${query.answeredAtMs - T0}${query.ok ? '' : ' (no answer)'}`}`)
    const queried = queries.length === 0 ? '' : `; its reconcile queries: ${queries.join(', ')}`
    violations.push({ invariant: 'lane0-priority', message: message + queried, ...(known === null ? {} : { known }) })
  }
  return violations
}

/** The known executor bug an inversion's signature points to, if any. */
export function knownInversion(inversion: PriorityInversion, context: { callMsMax: number; watch: VenueWatch }): string | null {
  if (inversion.ownPlaceJustAnswered) return 'executor-busy-after-place-result'
  const held = heldByReconcile(context.watch.statusQueries(inversion.lane0OrderId), { fromMs: inversion.atMs, toMs: inversion.atMs }, context.callMsMax)
  return held ? 'executor-reconcile-backoff-blocks-lane0' : null
}

/**
 * Whether the executor may have held the order back for its reconcile at some time in [fromMs, toMs]: it does so
 * while a query is in flight (≤ one call) and, when the venue did not answer, for reconcileRetryMs after.
 */
function heldByReconcile(queries: readonly StatusQuery[], window: { fromMs: number; toMs: number }, callMsMax: number): boolean {
  return queries.some((query) => {
    const heldUntilMs = query.answeredAtMs === null ? Number.POSITIVE_INFINITY : query.answeredAtMs + (query.ok ? 0 : RECONCILE_RETRY_MS)
    return query.askedAtMs <= window.toMs && heldUntilMs >= window.fromMs && query.askedAtMs >= window.fromMs - callMsMax - RECONCILE_RETRY_MS
  })
}
