/**
 * Read-only helpers for the runtime and the API: finding orders, folding a log into a state.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Order } from '../domain/orders.ts'
import { applyInPlace } from './apply.ts'
import { idempotencyIndexKey, initialState, type KernelState } from './state.ts'

/** The order a client knows by its idempotency key / client order id, if it was accepted. */
export function findOrderByKey(state: KernelState, accountId: string, idempotencyKey: string): Order | null {
  const entry = state.idempotency.get(idempotencyIndexKey(accountId, idempotencyKey))
  return entry === undefined ? null : (state.orders.get(entry.orderId) ?? null)
}

/** Folds events (with LSNs 1, 2, … unless given) into a fresh state: replay from scratch. */
export function replay(events: Iterable<DomainEvent | { event: DomainEvent; lsn: number }>): KernelState {
  const state = initialState()
  for (const item of events) {
    if ('lsn' in item && 'event' in item) applyInPlace(state, item.event, { lsn: item.lsn })
    else applyInPlace(state, item, { lsn: state.lastLsn + 1 })
  }
  return state
}

/** Orders that are Unknown, with how long they have been (Unknown dwell time is measured, §7). */
export function unknownOrders(state: KernelState, nowMs: number): { orderId: string; dwellMs: number }[] {
  const result: { orderId: string; dwellMs: number }[] = []
  for (const orderId of state.queues[3].keys()) {
    const order = state.orders.get(orderId)
    if (order?.unknownSinceMs != null) result.push({ orderId, dwellMs: nowMs - order.unknownSinceMs })
  }
  return result
}
