/**
 * What HALT and CANCEL_ONLY do to work accepted and not yet sent. A kill switch is an operator's brake: it must not
 * leave risk-changing intentions queued behind it to fire when the brake comes off, minutes or hours after they were
 * asked for, at prices and sizes decided for a market that has moved on. So the switch ends them as it engages:
 * - an amend waiting in its lane (accepted, not yet at the venue, or back after a retryable answer: the venue did
 *   nothing) fails with the switch's reason (KILL_SWITCH_HALT / KILL_SWITCH_CANCEL_ONLY); the order stays open at its
 *   old terms and its extra reservation (the worst case of the amend above the order's own) is released, as for any
 *   amend that did not happen. One already at the venue is settled by its answer (amend/result.ts: a retryable answer
 *   under a switch fails it the same way).
 * Cancels are never touched (a switch holds none), nor are flatten's closing orders: HALT sends them and CANCEL_ONLY
 * holds them until RESUME or HALT, by design — they only reduce risk, and an operator asked for them.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { TradingSwitch } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import { emit, emitterFor } from './emit.ts'
import type { KernelState } from './state.ts'

type HoldingSwitch = Exclude<TradingSwitch, 'normal'>

const REASON: Readonly<Record<HoldingSwitch, 'KILL_SWITCH_HALT' | 'KILL_SWITCH_CANCEL_ONLY'>> = {
  halted: 'KILL_SWITCH_HALT',
  cancel_only: 'KILL_SWITCH_CANCEL_ONLY',
}

/** The events that end the work `target` would hold, decided as the switch engages (before its `switch.changed`). */
export function endHeldWork(state: KernelState, input: { atMs: number; target: TradingSwitch; action: string }): DomainEvent[] {
  const { target } = input
  if (target === 'normal') return []
  const events: DomainEvent[] = []
  // By order id: the same events whatever order the queues were restored in (replay or snapshot).
  for (const order of waitingAmends(state).sort((a, b) => (a.orderId < b.orderId ? -1 : 1))) {
    const amend = order.amend
    if (amend === null) continue
    const emitter = emitterFor(order)
    const detail = `${input.action} engaged (trading switch ${target}) before the amend was sent: not sent, the order stands at its old terms`
    emit(emitter, { type: 'order.amend_failed', atMs: input.atMs, orderId: order.orderId, amendId: amend.amendId, reason: REASON[target], detail })
    events.push(...emitter.events)
  }
  return events
}

/** Orders whose amend waits in a lane, not yet sent (stage `requested`). */
function waitingAmends(state: KernelState): Order[] {
  const found: Order[] = []
  for (const queue of state.queues) {
    for (const [orderId, kind] of queue) {
      const order = state.orders.get(orderId)
      if (kind === 'amend' && order?.amend?.stage === 'requested') found.push(order)
    }
  }
  return found
}
