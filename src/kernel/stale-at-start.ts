/**
 * Orders too old to send at a start. An order accepted (202) and still waiting in its lane when the process stopped
 * is sent by the executor once the next start runs it — however late that start comes: a limit priced an hour ago
 * would reach the market after an outage. So a start, before its executor may pick anything (src/runtime/bootstrap.ts),
 * ends every place still waiting whose acceptance is older than the start's resend window (resendAgeMsMax: the age
 * past which it resends nothing either), with reason STALE_AT_START, as the kill switches end waiting places
 * (kill-switch.ts): one never sent is canceled on the spot, its reservation released; one sent before and waiting to
 * go out again (a retry after a retryable answer) may have an earlier copy at the venue, so it goes Unknown with its
 * cancel wanted and is read back (cancel.ts), never sent again. Flatten's closes too: their size was taken from the
 * position at the flatten, which the venue news this start reads may have changed.
 *
 * The window is in the command, so replay, redecide and a standby decide the same; by order id, so the events are the
 * same whatever order the queues were restored in. One decision ends at most `ordersMax` of them when the command asks
 * for parts (the start asks again until a decision ends none): more places waiting than the log's queue takes records
 * had the one decision refused OVERLOADED, and the start failed, every start after it too. Each part is one append: a
 * crash leaves each order ended or not, and the next start, later still, ends the rest. Only a start asks: the steady
 * state is unchanged.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Order } from '../domain/orders.ts'
import { cancelEvents } from './cancel.ts'
import { DONE_REPLY, type Decision, type ExpireStaleCommand } from './commands.ts'
import type { KernelState } from './state.ts'

/** Whether `order`, accepted at acceptedAtMs, is past the window at `nowMs` (the start's resend rule, bootstrap.ts). */
export function staleAt(order: Pick<Order, 'acceptedAtMs'>, nowMs: number, ageMsMax: number): boolean {
  return nowMs - order.acceptedAtMs > ageMsMax
}

/** Orders one expire_stale decision ends at most when the command asks for parts (ExpireStaleCommand.ordersMax). */
export const STALE_AT_START_ORDERS_MAX = 4096

export function decideExpireStale(state: KernelState, command: ExpireStaleCommand): Decision {
  const events: DomainEvent[] = []
  let ordersLeft = command.ordersMax === undefined ? Infinity : Math.min(command.ordersMax, STALE_AT_START_ORDERS_MAX)
  for (const order of waitingPlaces(state)) {
    if (order.status !== 'Enqueued' || !staleAt(order, command.nowMs, command.ageMsMax)) continue
    if (ordersLeft-- <= 0) break
    const input = { atMs: command.nowMs, principalId: command.principal.id, reason: 'STALE_AT_START', unsentReason: 'STALE_AT_START' } as const
    events.push(...(cancelEvents(order, input) ?? []))
  }
  return { events, reply: DONE_REPLY }
}

/** The orders whose place waits in a lane, by order id. */
function waitingPlaces(state: KernelState): Order[] {
  const found: Order[] = []
  for (const queue of state.queues) {
    for (const [orderId, kind] of queue) {
      const order = kind === 'place' ? state.orders.get(orderId) : undefined
      if (order !== undefined) found.push(order)
    }
  }
  return found.sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0))
}
