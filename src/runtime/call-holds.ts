/**
 * What holds a place or amend whose send was decided, durable now, its venue call not yet made (venue-call.ts
 * callVenue). The record waited for the disk or the HA standby, and the operator may have pulled a brake meanwhile:
 * - a kill switch that holds it (HALT: places but flatten's closes, and amends; CANCEL_ONLY: both), the gateway's or
 *   the order's account's own: HALT or CANCEL_ONLY answered means nothing new reaches the venue after it;
 * - a mode change since the decision: the send was decided under the mode of its time (its gate verdict names it).
 *   Made after an escalation (paper → live) it would go out on a paper decision; after a change to shadow, where
 *   nothing is sent, it would go out all the same.
 * Not called, it is answered as a venue that did nothing would answer (retryable), which the kernel settles under the
 * state as it is now: under a switch the amend fails and the place is read back with its cancel wanted, a flatten's
 * close waits for RESUME (results.ts, amend/result.ts); after an escalation the place, whose cancel the change asked
 * for, is read back; after a change that reaches less the send is decided again under the new mode. Cancels are never
 * held: they reduce risk.
 */

import type { Order } from '../domain/orders.ts'
import { switchHolds, switchHoldText, type KernelState } from '../kernel/index.ts'
import type { SendRequested } from './venue-send.ts'

/** The reason the call must not be made now, or null when it may. */
export function callHeld(state: KernelState, order: Order, requested: SendRequested): string | null {
  if (requested.type === 'order.cancel_send_requested') return null
  const held = switchHolds(state, order, requested.type === 'order.send_requested' ? 'place' : 'amend')
  if (held !== null) return `${held}: the ${switchHoldText(state, order, held)}, engaged after the send was decided; not called`
  if (requested.gate.mode !== state.mode) return `MODE_CHANGED: decided in ${requested.gate.mode}, the mode is ${state.mode} now; not called`
  return null
}

/**
 * Whether a retryable answer's reason is one the executor gave on the venue's behalf, the venue never called: a call
 * held here (a switch's code or MODE_CHANGED, as callHeld words it) or by the HA send gate (HA_STANDBY_UNCONFIRMED,
 * ha/leader-sync.ts). Each leads with its code and a colon. What reads the log tells them apart by it from a venue's
 * own retryable answer: the story of an order (routes/order-log.ts) and the send → venue ack latency (order-timings.ts).
 */
export function heldBeforeVenue(reason: string): boolean {
  return HELD_BEFORE_VENUE.some((code) => reason.startsWith(`${code}:`))
}

const HELD_BEFORE_VENUE = ['HA_STANDBY_UNCONFIRMED', 'KILL_SWITCH_HALT', 'KILL_SWITCH_CANCEL_ONLY', 'ACCOUNT_HALTED', 'ACCOUNT_CANCEL_ONLY', 'MODE_CHANGED'] as const
