/**
 * The latest venue refusal of an order (`venue_reject` of GET /v1/orders/{id}), read from its records in the log and
 * never kept in the kernel state (the snapshot stays as it is, and old logs show it too). The log index keeps the
 * positions of the records that may carry one (log-index.ts venueRefusalPositionsOf), so a read decodes only those,
 * newest first, up to the first that is a venue's refusal: never the order's whole history (an order amended thousands
 * of times held the event loop for as long as its history was long at its first read). What was read is remembered per
 * order: the next read decodes only the refusal records logged since. The memory is bounded (forgotten whole at the
 * bound: the next read of an order reads its refusal records again).
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
  /** The highest LSN of the order's refusal records read so far. */
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
  const positions = logIndex.venueRefusalPositionsOf(orderId)
  const freshFrom = firstAfter(positions, before.throughLsn)
  if (freshFrom === positions.length) return before.last
  let last = before.last
  // Newest first: an amend the kernel failed for its own reasons (a timeout, a halt) is no venue's refusal; read on.
  for (let index = positions.length - 1; index >= freshFrom; index--) {
    const [logged] = logIndex.read([positions[index] as number])
    const reject = logged === undefined ? null : venueRejectOf(logged.event)
    if (logged !== undefined && reject !== null) {
      last = { ...reject, atMs: logged.event.atMs, lsn: logged.lsn }
      break
    }
  }
  if (known.size >= ORDER_VENUE_REJECTS_REMEMBERED_MAX) known.clear()
  known.set(orderId, { throughLsn: positions.at(-1) as number, last })
  return last
}
