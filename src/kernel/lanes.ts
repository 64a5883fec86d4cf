/**
 * The executor's choice of what to do next (§6). Strict priority: Lane0 (cancel/close/flatten) first, always, then
 * Lane1 (reduce-only new), Lane2 (new and amends), Lane3 (reconcile queries); FIFO within a lane. Calls are pipelined
 * per venue×symbol (in-flight.ts): an item whose order already has a call in flight, or whose instrument has
 * callsPerInstrumentMax calls in flight, waits, and the scan moves on, so one slow symbol never blocks the rest.
 * Items backing off (retry-after, gate block, reconcile grace) wait until due.
 * Kill switches hold new orders here too, not just at intake: HALT holds Lane1/Lane2 places and amends, CANCEL_ONLY
 * every place and amend.
 *
 * The runtime loops: item = nextWork(state, …); decide a `send` for it with action = item.kind (place, cancel or
 * amend; the decision starts the order's call) or run the reconcile query (passing its order id in `busy` until the
 * answer is decided); repeat until null.
 */

import type { Lane } from '../domain/modes.ts'
import { callSlotFree, everyInstrumentFull } from './in-flight.ts'
import { switchHolds } from './send.ts'
import type { KernelState, WorkKind } from './state.ts'

export interface WorkItem {
  lane: Lane
  kind: WorkKind
  orderId: string
  venue: string
  symbol: string
}

export interface NextWorkOptions {
  nowMs: number
  /** Order ids the runtime is already working on outside the kernel's view: no work of any kind is picked for them. */
  busy?: Pick<ReadonlySet<string>, 'has'>
  /**
   * Order ids whose reconcile query is in flight or backing off: only their reconcile item is skipped, so a cancel
   * for the same order still goes first in Lane0.
   */
  reconcileHeld?: ReadonlySet<string>
}

const LANES = [0, 1, 2, 3] as const

export function nextWork(state: KernelState, options: NextWorkOptions): WorkItem | null {
  const callsBlocked = everyInstrumentFull(state)
  for (const lane of LANES) {
    // Lanes 0–2 hold venue calls only: with every instrument full none can start, so only Lane3 queries are looked at.
    if (callsBlocked && lane !== 3) continue
    for (const [orderId, kind] of state.queues[lane]) {
      const order = state.orders.get(orderId)
      if (order === undefined || order.notBeforeMs > options.nowMs || options.busy?.has(orderId) === true) continue
      if (kind === 'reconcile' && options.reconcileHeld?.has(orderId) === true) continue
      if (kind !== 'reconcile') {
        if (!callSlotFree(state, order)) continue
        if (switchHolds(state, order, kind) !== null) continue
      }
      return { lane, kind, orderId, venue: order.venue, symbol: order.symbol }
    }
  }
  return null
}

export function queueDepths(state: KernelState): [number, number, number, number] {
  return [state.queues[0].size, state.queues[1].size, state.queues[2].size, state.queues[3].size]
}
