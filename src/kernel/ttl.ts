/**
 * An order's time-to-live (spec 004 §8 "TTL"): the body's ttl_ms ends the order's life ttl_ms after its acceptance
 * (Order.expiresAtMs, set from `order.accepted`'s ttlMs). Decided from the command's time only, as every timed decision
 * of the kernel is, so replay, redecide and a standby reach the same end:
 *  - at the send: a place decided at or past the expiry is not sent (decideSend asks ttlEndOf first). An order never
 *    sent ends on the spot, Canceled with TTL_EXPIRED, its reservation released; one sent before and waiting to go out
 *    again (a retry, a resend) is never ended on egress's word: it goes Unknown with its cancel wanted and is read back
 *    (cancel.ts), so TTL never causes a resend. Nor is an amend sent at or past the expiry: the amend waiting in Lane2
 *    is superseded (AMEND_SUPERSEDED) and the order's cancel asked, as the timer's notice would;
 *  - by the runtime's expiry timer (`ttl_expire`, src/runtime/ttl-expiries.ts): an order still queued ends as above; an
 *    order that may be at the venue gets a cancel request (order.cancel_requested, reason TTL_EXPIRED) that waits in
 *    Lane0 as any cancel does; a place in flight or Unknown follows the cancel rules for such orders. A late timer
 *    (a crash, a failover) changes nothing the send check does not already hold: no order is sent past its expiry.
 */

import type { Order } from '../domain/orders.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import { attributionOf, UNATTRIBUTED, type Attribution } from './attribution.ts'
import { cancelEvents } from './cancel.ts'
import { DONE_REPLY, type Decision, type TtlExpireCommand } from './commands.ts'
import type { KernelState } from './state.ts'

/** Recorded as the principal of a cancel the time-to-live asked for: no person or bot asked. */
export const TTL_PRINCIPAL_ID = 'egress:ttl'

/** Whether the order's time-to-live has passed at `nowMs` (never, for an order without one). */
export function ttlPassed(order: Pick<Order, 'expiresAtMs'>, nowMs: number): boolean {
  return order.expiresAtMs !== null && nowMs >= order.expiresAtMs
}

/** Whether the order has a cancel asked for already (by anyone): the time-to-live then has nothing to add. */
function cancelAsked(order: Order): boolean {
  return order.status === 'CancelRequested' || order.status === 'CancelPending' || order.cancelWanted
}

/**
 * The events that end `order`'s life at `nowMs` because its time-to-live passed: null when it has not passed, the order
 * has no time-to-live, is done, or has its cancel asked for already. `attribution`: what its records are attributed
 * with (attribution.ts); none where only whether it ends is asked (the runtime's TtlExpiries).
 */
export function ttlEndOf(order: Order, nowMs: number, attribution: Attribution = UNATTRIBUTED): DomainEvent[] | null {
  if (!ttlPassed(order, nowMs) || cancelAsked(order)) return null
  return cancelEvents(order, { atMs: nowMs, principalId: TTL_PRINCIPAL_ID, reason: 'TTL_EXPIRED', unsentReason: 'TTL_EXPIRED', ...attribution })
}

/**
 * The runtime saw the order's expiry pass: its end as ttlEndOf gives it, or nothing (a notice too early by the
 * command's time, a repeat, an order that ended meanwhile). Never refused but for an order the kernel does not hold.
 */
export function decideTtlExpire(state: KernelState, command: TtlExpireCommand): Decision {
  const order = state.orders.get(command.orderId)
  if (order === undefined) return { events: [], reply: { kind: 'refused', reason: 'ORDER_NOT_FOUND', detail: command.orderId } }
  return { events: ttlEndOf(order, command.nowMs, attributionOf(state, command)) ?? [], reply: DONE_REPLY }
}
