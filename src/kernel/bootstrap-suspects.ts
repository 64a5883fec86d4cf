/**
 * Bootstrap suspects: the orders a start may resend. At every start, after the calls in flight were marked Unknown
 * (decideBootstrap), every Unknown order is marked a suspect (`order.suspect_marked`). Reconciliation then settles
 * it; if it proves the venue never received the order (Failed, not at the venue), the start resends it. The mark is
 * in the log, so a crash after the proof and before the resend's record leaves the next start a suspect that is
 * Failed and resendable, and it is resent then — without the mark, a Failed order looks like one proven absent while
 * running, which is never resent. Once the start has resent what it would, it clears the marks it left
 * (`order.suspect_cleared`): an order proven absent after that, while running, is not resent.
 *
 * apply keeps the mark only on Unknown and Failed orders (apply-order.ts): a resend (Enqueued) or any venue evidence
 * that the order existed ends it, so a resend is never recorded twice for one proof.
 */

import type { Order } from '../domain/orders.ts'
import { DONE_REPLY, type ClearSuspectsCommand, type Decision, type MarkSuspectsCommand } from './commands.ts'
import type { KernelState } from './state.ts'

/** Marks every Unknown order not marked yet; one marked by a start that did not finish stays marked. */
export function decideMarkSuspects(state: KernelState, command: MarkSuspectsCommand): Decision {
  const events = ordersWhere(state, (order) => order.status === 'Unknown' && !order.bootstrapSuspect).map((order) => ({
    type: 'order.suspect_marked' as const,
    atMs: command.nowMs,
    orderId: order.orderId,
  }))
  return { events, reply: DONE_REPLY }
}

/** Clears every mark left: the start is done resending. */
export function decideClearSuspects(state: KernelState, command: ClearSuspectsCommand): Decision {
  const events = ordersWhere(state, (order) => order.bootstrapSuspect).map((order) => ({
    type: 'order.suspect_cleared' as const,
    atMs: command.nowMs,
    orderId: order.orderId,
  }))
  return { events, reply: DONE_REPLY }
}

/** The orders held that match, in the state's order (insertion order: the same on every node and every replay). */
function ordersWhere(state: KernelState, matches: (order: Order) => boolean): Order[] {
  const found: Order[] = []
  for (const order of state.orders.values()) if (matches(order)) found.push(order)
  return found
}
