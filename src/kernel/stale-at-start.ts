/**
 * Orders too old to send at a start. An order accepted (202) and still waiting in its lane when the process stopped
 * is sent by the executor once the next start runs it — however late that start comes: a limit priced an hour ago
 * would reach the market after an outage. So a start, before its executor may pick anything (src/runtime/bootstrap.ts),
 * ends every place still waiting whose acceptance is older than the start's resend window (resendAgeMsMax: the age
 * past which it resends nothing either), with reason STALE_AT_START, as the kill switches end waiting places
 * (kill-switch.ts): one never sent is canceled on the spot, its reservation released; one sent before and waiting to
 * go out again (a retry after a retryable answer) may have an earlier copy at the venue, so it goes Unknown with its
 * cancel wanted and is read back (cancel.ts), never sent again. Flatten's closes too: their size was taken from the
 * position at the flatten, which the venue news this start reads may have changed. An amend still waiting in Lane2
 * (requested, or back there after a retryable answer) whose request is older than the window fails the same way
 * (`order.amend_failed`, STALE_AT_START), as mode escalation fails a waiting amend: a new price decided for a market long
 * gone is not sent, and the order stands as it is, resting at its old terms.
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
import { attributionOf } from './attribution.ts'
import { cancelEvents } from './cancel.ts'
import { DONE_REPLY, type Decision, type ExpireStaleCommand } from './commands.ts'
import { emit, emitterFor } from './emit.ts'
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
  for (const { order, kind } of waitingWork(state)) {
    if (ordersLeft <= 0) break
    if (kind === 'amend') {
      const failed = staleAmendFailed(order, command)
      if (failed.length > 0) ordersLeft--
      events.push(...failed)
      continue
    }
    if (order.status !== 'Enqueued' || !staleAt(order, command.nowMs, command.ageMsMax)) continue
    const input = { atMs: command.nowMs, principalId: command.principal.id, reason: 'STALE_AT_START', unsentReason: 'STALE_AT_START', ...attributionOf(state, command) } as const
    const ended = cancelEvents(order, input) ?? []
    // Counted when it ends something: the start asks for parts until one ends none.
    if (ended.length > 0) ordersLeft--
    events.push(...ended)
  }
  return { events, reply: DONE_REPLY }
}

/** The failure of `order`'s amend waiting in Lane2 when it was requested longer ago than the window; none otherwise. */
function staleAmendFailed(order: Order, command: ExpireStaleCommand): DomainEvent[] {
  const amend = order.amend
  if (amend?.stage !== 'requested' || command.nowMs - amend.requestedAtMs <= command.ageMsMax) return []
  const ageS = Math.floor((command.nowMs - amend.requestedAtMs) / 1000)
  const detail = `amend ${amend.amendId} still waited at a start ${ageS} s after it was requested, past the resend window: not sent; the order stands at its old terms`
  const emitter = emitterFor(order)
  emit(emitter, { type: 'order.amend_failed', atMs: command.nowMs, orderId: order.orderId, amendId: amend.amendId, reason: 'STALE_AT_START', detail })
  return emitter.events
}

/** The places and amends waiting in a lane, by order id. */
function waitingWork(state: KernelState): { order: Order; kind: 'place' | 'amend' }[] {
  const found: { order: Order; kind: 'place' | 'amend' }[] = []
  for (const queue of state.queues) {
    for (const [orderId, kind] of queue) {
      if (kind !== 'place' && kind !== 'amend') continue
      const order = state.orders.get(orderId)
      if (order !== undefined) found.push({ order, kind })
    }
  }
  return found.sort((a, b) => (a.order.orderId < b.order.orderId ? -1 : a.order.orderId > b.order.orderId ? 1 : 0))
}
