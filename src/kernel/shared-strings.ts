/**
 * One string instance per value where the state holds the same text in several places: an order's id is the key of
 * `orders` and of `terminalOrderIds`, its field, and its idempotency entry's `orderId`; its venue client id is also the
 * first of its client id chain; its reservation's asset is its quote or base asset. Applying events shares them
 * already (every place takes the event's string). A decoded snapshot need not: the idempotency columns make a string
 * per entry, so each held order's id was there twice, and JSON.parse shares a repeated string only as far as the
 * engine's own caches go (a heuristic, not a promise), so the rest is shared here explicitly.
 *
 * Why: JavaScriptCore's full collections mark every cell the heap holds, and at bench:http's live heap (an hour of
 * ended orders) a full cycle takes 100–260 ms during which requests queue: each string cell per held order counts.
 * Only which instance holds the text changes — the same keys, values, iteration order, digest and snapshot bytes.
 */

import type { Order } from '../domain/orders.ts'
import { idempotencyIndexKey, type IdempotencyEntry } from './state.ts'

/**
 * `orders`' entries keyed by each order's own orderId instance (a key that differs from its order's id stays as it
 * is), in their order: what the state's map is built from, with no Map in between (one pass at a snapshot load).
 */
export function* ordersKeyedByOwnId(orders: Map<string, Order>): Generator<[string, Order]> {
  for (const [orderId, order] of orders) {
    shareOrderStrings(order)
    yield [orderId === order.orderId ? order.orderId : orderId, order]
  }
}

/**
 * `ended` (terminalOrderIds)'s entries keyed by the held orders' own orderId instances, in the same order (a key that
 * differs from its order's id stays as it is: taking the order's would rename the entry, or merge it with another).
 */
export function* endedKeyedByOwnId(ended: Map<string, number>, orders: ReadonlyMap<string, Order>): Generator<[string, number]> {
  for (const [orderId, endedAtMs] of ended) {
    const own = orders.get(orderId)?.orderId
    yield [own === orderId ? own : orderId, endedAtMs]
  }
}

/** Points each held order's idempotency entry at the order's own orderId instance (one lookup per held order). */
export function shareIdempotencyOrderIds(idempotency: Map<string, IdempotencyEntry>, orders: ReadonlyMap<string, Order>): void {
  for (const order of orders.values()) {
    const entry = idempotency.get(idempotencyIndexKey(order.accountId, order.idempotencyKey))
    if (entry !== undefined && entry.orderId === order.orderId) entry.orderId = order.orderId
  }
}

/** The order's repeated strings as one instance each: its chain's first id, its reservation's asset. */
function shareOrderStrings(order: Order): void {
  const chain = order.clientIdChain
  if (chain[0] === order.venueClientOrderId) chain[0] = order.venueClientOrderId
  const reservation = order.reservation
  if (reservation.asset === order.quoteAsset) reservation.asset = order.quoteAsset
  else if (reservation.asset === order.baseAsset) reservation.asset = order.baseAsset
}
