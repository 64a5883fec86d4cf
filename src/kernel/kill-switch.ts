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
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { TradingSwitch } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import { cancelEvents } from './cancel.ts'
import { emit, emitterFor } from './emit.ts'
import type { KernelState } from './state.ts'

type HoldingSwitch = Exclude<TradingSwitch, 'normal'>

const REASON: Readonly<Record<HoldingSwitch, 'KILL_SWITCH_HALT' | 'KILL_SWITCH_CANCEL_ONLY'>> = {
  halted: 'KILL_SWITCH_HALT',
  cancel_only: 'KILL_SWITCH_CANCEL_ONLY',
}

/** The events that end the work `target` would hold, decided as the switch engages (before its `switch.changed`). */
export function endHeldWork(state: KernelState, input: { atMs: number; target: TradingSwitch; action: string; principalId: string }): DomainEvent[] {
  const { target } = input
  if (target === 'normal') return []
  const detail = `${input.action} engaged (trading switch ${target}) before the amend was sent: not sent, the order stands at its old terms`
  return endWaitingWork(state, { atMs: input.atMs, holding: target, principalId: input.principalId, amendDetail: detail })
}

/**
 * The events that end, at RESUME (before its `switch.changed`), the work an older build left held under the switch
 * being lifted: a log written before the switch ended its waiting places and amends as it engaged holds them queued,
 * and RESUME would send them, decided for a market long gone. They end now as this build ends them when the switch
 * engages, with that switch's reason, so nothing held goes out. This build leaves none such behind (places and amends
 * are refused under a switch, and one answered retryable is read back or failed), so on its own logs this ends
 * nothing. Deterministic (by order id): a standby re-deciding the RESUME decides the same, and replay applies what was
 * recorded.
 */
export function endWorkLeftHeld(state: KernelState, input: { atMs: number; principalId: string }): DomainEvent[] {
  const holding = state.tradingSwitch
  if (holding === 'normal') return []
  const detail = `held under the trading switch ${holding} by an older build, which did not end it as the switch engaged: ended at RESUME, not sent; the order stands at its old terms`
  return endWaitingWork(state, { atMs: input.atMs, holding, principalId: input.principalId, amendDetail: detail })
}

function endWaitingWork(state: KernelState, input: { atMs: number; holding: HoldingSwitch; principalId: string; amendDetail: string }): DomainEvent[] {
  const reason = REASON[input.holding]
  const events: DomainEvent[] = []
  // By order id: the same events whatever order the queues were restored in (replay or snapshot).
  for (const { order, work } of waitingWork(state).sort((a, b) => (a.order.orderId < b.order.orderId ? -1 : 1))) {
    if (work === 'place') {
      events.push(...(cancelEvents(order, { atMs: input.atMs, principalId: input.principalId, reason, unsentReason: reason }) ?? []))
      continue
    }
    const amend = order.amend
    if (amend === null) continue
    const emitter = emitterFor(order)
    emit(emitter, { type: 'order.amend_failed', atMs: input.atMs, orderId: order.orderId, amendId: amend.amendId, reason, detail: input.amendDetail })
    events.push(...emitter.events)
  }
  return events
}

/** Places (not flatten's closes) and amends (stage `requested`) waiting in a lane, not yet sent. */
function waitingWork(state: KernelState): { order: Order; work: 'place' | 'amend' }[] {
  const found: { order: Order; work: 'place' | 'amend' }[] = []
  for (const queue of state.queues) {
    for (const [orderId, kind] of queue) {
      const order = state.orders.get(orderId)
      if (order === undefined) continue
      if (kind === 'place' && order.flattenId === null) found.push({ order, work: 'place' })
      if (kind === 'amend' && order.amend?.stage === 'requested') found.push({ order, work: 'amend' })
    }
  }
  return found
}
