/**
 * Orders the kernel has retired (terminal and beyond its bound, see src/kernel/retention.ts) are read back from the
 * log: their records, found through the log index, are folded with the kernel's own apply into a scratch state that
 * holds only the configuration. The result is the order exactly as the kernel held it when it was retired — the log
 * stays the one store of what happened, and the hot state stays bounded.
 *
 * A rebuild reads and folds every record the order has, so it costs what its history is long (an order amended 1,500
 * times: 7,500 records, ~150 ms of event loop). Only `GET /v1/orders/:id` shows the whole order; the other routes
 * naming an order, and a repeat of its key, read its intake record alone (order-lookup.ts, place-response.ts). Each
 * rebuild is kept (RETIRED_ORDERS_KEPT_MAX, the most recently asked), so asking again for one costs nothing: without
 * that, one order's long history asked for over and over held the event loop for seconds (review: 50 reads, 5.1 s).
 */

import type { Order } from '../domain/orders.ts'
import { applyInPlace, initialState, type KernelState } from '../kernel/index.ts'
import type { LoggedEvent, LogIndex } from './log-index.ts'

/** Rebuilt retired orders kept per log index, the most recently asked. */
export const RETIRED_ORDERS_KEPT_MAX = 1024

/**
 * The order rebuilt from its logged events, from its `order.accepted` on, or null if none. Records before it can only
 * be rejections of its key for a retryable reason (the retry that was accepted has the same order id); they changed
 * nothing.
 */
export function rebuildRetiredOrder(live: KernelState, orderId: string, events: readonly LoggedEvent[]): Order | null {
  const acceptedAt = events.findIndex(({ event }) => event.type === 'order.accepted')
  if (acceptedAt < 0 || events.slice(0, acceptedAt).some(({ event }) => event.type !== 'order.rejected')) return null
  const scratch = initialState()
  scratch.config = live.config
  scratch.instruments = live.instruments
  scratch.policies = live.policies
  for (let index = acceptedAt; index < events.length; index++) {
    const { event, lsn } = events[index] as LoggedEvent
    applyInPlace(scratch, event, { lsn })
  }
  return scratch.orders.get(orderId) ?? null
}

interface Kept {
  /** How many records the order had when it was rebuilt: a record added since makes the rebuild stale. */
  recordCount: number
  order: Order | null
}

const kept = new WeakMap<LogIndex, Map<string, Kept>>()

/**
 * The retired order `orderId` rebuilt from the records `logIndex` holds, kept for the next ask while it has as many
 * records; null when its records hold no acceptance to rebuild from.
 */
export function retiredOrderOf(live: KernelState, logIndex: LogIndex, orderId: string): Order | null {
  let orders = kept.get(logIndex)
  if (orders === undefined) {
    orders = new Map()
    kept.set(logIndex, orders)
  }
  const recordCount = logIndex.recordCountOf(orderId)
  const known = orders.get(orderId)
  // Moved to the end as it is asked: the oldest-asked goes first when the map is full.
  if (known !== undefined) orders.delete(orderId)
  const entry = known !== undefined && known.recordCount === recordCount ? known : { recordCount, order: rebuildRetiredOrder(live, orderId, logIndex.events(orderId)) }
  orders.set(orderId, entry)
  if (orders.size > RETIRED_ORDERS_KEPT_MAX) orders.delete(orders.keys().next().value as string)
  return entry.order
}
