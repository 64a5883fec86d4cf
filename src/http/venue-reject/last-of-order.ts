/**
 * The latest venue refusal of an order (`venue_reject` of GET /v1/orders/{id}), read from its records in the log and
 * never kept in the kernel state (the snapshot stays as it is, and old logs show it too). What was read is remembered
 * per order: the next read decodes only the records logged since. The memory is bounded (forgotten whole at the
 * bound: the next read of an order reads its records again).
 */

import type { LogIndex } from '../log-index.ts'
import { firstAfter } from '../log-index-forget.ts'
import { venueRejectOf, type VenueReject } from './of-event.ts'

/** Orders whose latest refusal is remembered, per log index; past it the memory starts again empty. */
export const ORDER_VENUE_REJECTS_REMEMBERED_MAX = 16_384

export interface LastVenueReject extends VenueReject {
  atMs: number
  lsn: number
}

interface Read {
  /** The highest LSN of the order's records read so far. */
  throughLsn: number
  last: LastVenueReject | null
}

const remembered = new WeakMap<LogIndex, Map<string, Read>>()

/**
 * The order's latest venue refusal; null when it has none the log still holds, undefined while the log index is still
 * being built after a restart (unknown yet: the caller leaves it out rather than say "none").
 */
export function lastVenueRejectOf(logIndex: LogIndex, orderId: string): LastVenueReject | null | undefined {
  if (!logIndex.complete) return undefined
  let known = remembered.get(logIndex)
  if (known === undefined) remembered.set(logIndex, (known = new Map()))
  const before = known.get(orderId) ?? { throughLsn: 0, last: null }
  const positions = logIndex.positionsOf(orderId)
  const fresh = positions.slice(firstAfter(positions, before.throughLsn))
  if (fresh.length === 0) return before.last
  let last = before.last
  for (const { lsn, event } of logIndex.read(fresh)) {
    const reject = venueRejectOf(event)
    if (reject !== null) last = { ...reject, atMs: event.atMs, lsn }
  }
  if (known.size >= ORDER_VENUE_REJECTS_REMEMBERED_MAX) known.clear()
  known.set(orderId, { throughLsn: fresh.at(-1) as number, last })
  return last
}

