/**
 * What HALT and CANCEL_ONLY do to work accepted and not yet sent. A kill switch is an operator's brake: it must not
 * leave risk-changing intentions queued behind it to fire when the brake comes off, minutes or hours after they were
 * asked for, at prices and sizes decided for a market that has moved on. So the switch ends them as it engages:
 * - an amend waiting in its lane (accepted, not yet at the venue, or back after a retryable answer: the venue did
 *   nothing) fails with the switch's reason (KILL_SWITCH_HALT / KILL_SWITCH_CANCEL_ONLY); the order stays open at its
 *   old terms and its extra reservation (the worst case of the amend above the order's own) is released, as for any
 *   amend that did not happen. One already at the venue is settled by its answer (amend/result.ts: a retryable answer
 *   under a switch fails it the same way).
 * - a new order waiting in its lane (Lane1 reduce-only and Lane2; the same as a client's cancel would do) ends: one
 *   never sent is canceled on the spot, releasing its reservation; one sent before (a resend, a retry after a
 *   retryable answer) may have an earlier copy at the venue, so it goes Unknown with a cancel wanted and is read back
 *   (cancel.ts). A place in flight answered retryable under a switch likewise goes Unknown with the cancel wanted
 *   (results.ts) instead of waiting in its lane for RESUME. All with the switch's reason.
 * Cancels are never touched (a switch holds none), nor are flatten's closing orders: HALT sends them and CANCEL_ONLY
 * holds them until RESUME or HALT, by design — they only reduce risk, and an operator asked for them. Orders already
 * at the venue stay: a switch stops what egress would send, it is not a flatten. A log of an older build, whose
 * switches held that work instead, is ended at the RESUME that lifts the switch (endWorkLeftHeld).
 *
 * Decided in parts when the command asks (KillSwitchCommand.ordersMax: the work of at most that many orders per
 * decision, the first by order id), so that a decision's records fit the log's queue: with lanes deeper than the queue
 * takes records, one decision ending all of it was refused as overloaded — the switch refused exactly when needed. The
 * switch still takes effect at once: the decision that engages it records `switch.changed` after the first part, and
 * the send gate holds every place and amend left waiting under it (send.ts switchHolds: a flatten's close under HALT is
 * not such work), so nothing of it goes out; the same switch asked again (the runtime asks: decision-parts.ts) ends
 * the next part, and decides nothing once none is left. RESUME ends what is left in parts before it lifts the switch:
 * the decision that finds `ordersMax` or fewer records `switch.changed` after them, as mode escalation does.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { TradingSwitch } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import type { Attribution } from './attribution.ts'
import { cancelEvents } from './cancel.ts'
import { emit, emitterFor } from './emit.ts'
import type { SwitchHoldReason } from './send.ts'
import type { KernelState } from './state.ts'

type HoldingSwitch = Exclude<TradingSwitch, 'normal'>

const REASON: Readonly<Record<HoldingSwitch, 'KILL_SWITCH_HALT' | 'KILL_SWITCH_CANCEL_ONLY'>> = {
  halted: 'KILL_SWITCH_HALT',
  cancel_only: 'KILL_SWITCH_CANCEL_ONLY',
}

/** Orders whose work one kill switch decision ends at most when a command asks for parts (KillSwitchCommand.ordersMax). */
export const KILL_SWITCH_ORDERS_MAX = 4096

/** Events that end waiting work, and whether that was all of it (`complete`). */
export interface EndedWork {
  events: DomainEvent[]
  complete: boolean
}

/**
 * The events that end the work `target` holds (the first `ordersMax` orders' by order id; null: all of it), decided as
 * the switch engages (before its `switch.changed`) or, asked again under it, after.
 */
export function endHeldWork(state: KernelState, input: { atMs: number; target: TradingSwitch; action: string; principalId: string; ordersMax: number | null } & Attribution): EndedWork {
  const { target } = input
  if (target === 'normal') return { events: [], complete: true }
  const detail = `${input.action} engaged (trading switch ${target}) before the amend was sent: not sent, the order stands at its old terms`
  return endWaitingWork(state, { ...input, holding: target, amendDetail: detail })
}

/**
 * The events that end, at RESUME (before its `switch.changed`), the work an older build left held under the switch
 * being lifted: a log written before the switch ended its waiting places and amends as it engaged holds them queued,
 * and RESUME would send them, decided for a market long gone. They end now as this build ends them when the switch
 * engages, with that switch's reason, so nothing held goes out. This build leaves none such behind (places and amends
 * are refused under a switch, and one answered retryable is read back or failed), so on its own logs this ends
 * nothing but the parts of a switch cut short (a crash, a part refused as overloaded). Deterministic (by order id): a standby re-deciding the RESUME decides the same, and replay applies what was
 * recorded.
 */
export function endWorkLeftHeld(state: KernelState, input: { atMs: number; principalId: string; ordersMax: number | null } & Attribution): EndedWork {
  const holding = state.tradingSwitch
  if (holding === 'normal') return { events: [], complete: true }
  const detail = `held under the trading switch ${holding}, not ended as the switch engaged (an older build's switch, or one whose parts were cut short): ended at RESUME, not sent; the order stands at its old terms`
  return endWaitingWork(state, { ...input, holding, amendDetail: detail })
}

/**
 * Whether any place or amend waits in a lane that a switch ends (the runtime asks for the next part while one does):
 * any account's, or with `accountId` that account's (its own switch, account-switch.ts).
 */
export function switchWorkLeft(state: KernelState, accountId: string | null = null): boolean {
  return waitingWork(state, accountId).length > 0
}

/**
 * The events that end the waiting work of one account whose own switch `holding` engages, or (at its RESUME) of one
 * whose switch left some held (its parts cut short): the same ending as the gateway's switch gives, that account's
 * work only, with the account's codes (ACCOUNT_HALTED, ACCOUNT_CANCEL_ONLY).
 */
export function endAccountWork(state: KernelState, input: { atMs: number; accountId: string; holding: HoldingSwitch; principalId: string; amendDetail: string; ordersMax: number | null } & Attribution): EndedWork {
  return endWaitingWork(state, { ...input, reason: ACCOUNT_REASON[input.holding] })
}

const ACCOUNT_REASON: Readonly<Record<HoldingSwitch, 'ACCOUNT_HALTED' | 'ACCOUNT_CANCEL_ONLY'>> = {
  halted: 'ACCOUNT_HALTED',
  cancel_only: 'ACCOUNT_CANCEL_ONLY',
}

function endWaitingWork(
  state: KernelState,
  input: { atMs: number; holding: HoldingSwitch; principalId: string; amendDetail: string; ordersMax: number | null; accountId?: string; reason?: SwitchHoldReason } & Attribution,
): EndedWork {
  const reason = input.reason ?? REASON[input.holding]
  const events: DomainEvent[] = []
  // By order id: the same events whatever order the queues were restored in (replay or snapshot).
  const found = waitingWork(state, input.accountId ?? null).sort((a, b) => (a.order.orderId < b.order.orderId ? -1 : 1))
  // null: all of it in one decision (a command without parts: a standby re-deciding an older leader's command record
  // must decide what that leader decided).
  const ordersMax = input.ordersMax === null ? found.length : Math.max(1, input.ordersMax)
  for (const { order, work } of found.slice(0, ordersMax)) {
    if (work === 'place') {
      const { configDigest, buildCommit } = input
      events.push(...(cancelEvents(order, { atMs: input.atMs, principalId: input.principalId, reason, unsentReason: reason, configDigest, buildCommit }) ?? []))
      continue
    }
    const amend = order.amend
    if (amend === null) continue
    const emitter = emitterFor(order)
    emit(emitter, { type: 'order.amend_failed', atMs: input.atMs, orderId: order.orderId, amendId: amend.amendId, reason, detail: input.amendDetail })
    events.push(...emitter.events)
  }
  return { events, complete: found.length <= ordersMax }
}

/** Places (not flatten's closes) and amends (stage `requested`) waiting in a lane, not yet sent (of `accountId`'s only). */
function waitingWork(state: KernelState, accountId: string | null): { order: Order; work: 'place' | 'amend' }[] {
  const found: { order: Order; work: 'place' | 'amend' }[] = []
  for (const queue of state.queues) {
    for (const [orderId, kind] of queue) {
      const order = state.orders.get(orderId)
      if (order === undefined || (accountId !== null && order.accountId !== accountId)) continue
      if (kind === 'place' && order.flattenId === null) found.push({ order, work: 'place' })
      if (kind === 'amend' && order.amend?.stage === 'requested') found.push({ order, work: 'amend' })
    }
  }
  return found
}
