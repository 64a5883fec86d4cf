/**
 * Where an order's booked quantity stands in the venue's cumulative quantity, for placing its synthetic fills there
 * (synthetic-lots.ts keeps a synthetic fill's quantity as ranges of the venue's cumulative quantity, the coordinates
 * the kernel covers real fills in: `order.fill_covered`).
 *
 * Egress books an order's fills in the order they arrive; the venue numbers them in the order they executed. The two
 * agree while reports come in venue order, and a synthetic fill (src/kernel/reconcile.ts syntheticFill) books up to the
 * venue's cumulative quantity V what egress lacks below it — (cumQty − qty, cumQty] in both. They part when a report
 * of a later venue range is booked before a status read covers an earlier one: the report's own quantity stands at its
 * venue range (its `order.fill` says where: `venueCumQty`, payload version 11), and the read's synthetic fill then
 * stands for the gaps left below V, not for egress's last units. Placed at egress's, a true-up's cover (venue ranges)
 * missed the lot and took another order's units, its price difference going to realized PnL instead of the basis.
 *
 * So the ledger's order keeps the venue ranges egress has booked for it (TrackedOrder.venueRanges), absent while they
 * are (0, cumQty] — every order whose reports came in venue order, every order of a log written before the member
 * existed — so most orders hold nothing more and fold as before. A fill is placed:
 *   - a real fill with its `venueCumQty`: the top `lastQty` of its venue range, (venueCumQty − lastQty, venueCumQty]
 *     (its bottom, if any, a synthetic fill covered);
 *   - a synthetic fill, a real fill without a place (a report with no cumulative quantity, a record written before the
 *     member), or one whose range is not free (a venue contradicting itself, a trade list missing older trades): the
 *     lowest units not booked yet. For a synthetic fill those are the gaps below its V: egress's cumQty is V after it,
 *     so the gaps below V are exactly its quantity — unless a report above V came before a read that saw less, when
 *     there are more of them and it takes the lowest.
 * A synthetic fill placed other than at (cumQty − qty, cumQty] leaves its ranges on the order (syntheticRanges) for
 * its `order.synthetic_pending`, which the kernel logs right after it, to take (takeSyntheticRanges).
 *
 * The ranges are sorted, disjoint and merged when they touch, and add up to the order's cumQty; each fill adds at most
 * one range, and a synthetic fill fills every gap below it, so an order holds a handful at most between two reads.
 * Lists are replaced, never changed in place (a cloned ledger shares them).
 */

import type { Units } from '../domain/decimal.ts'
import type { EventOf } from '../domain/events/index.ts'
import type { TrackedOrder } from './orders.ts'

/** A range of an order's venue cumulative quantity, (fromQty, toQty]. */
export interface VenueRange {
  fromQty: Units
  toQty: Units
}

/** Places the fill `event` of `order` in its venue cumulative quantity (see the header): before the fill moves its cumQty. */
export function placeFill(order: TrackedOrder, event: EventOf<'order.fill'>): void {
  if (order.syntheticRanges !== undefined) delete order.syntheticRanges
  const { lastQty, venueCumQty } = event
  const cumQty = order.cumQty + lastQty
  // Venue order and egress's agree, and this fill keeps them so (no place of its own, or the next units): nothing kept.
  if (order.venueRanges === undefined && (venueCumQty === undefined || venueCumQty === cumQty)) return
  const booked = bookedRangesOf(order)
  const own = event.synthetic || venueCumQty === undefined ? null : freeRange(booked, { fromQty: venueCumQty - lastQty, toQty: venueCumQty })
  const placed = own === null ? lowestFree(booked, lastQty) : [own]
  const after = merged([...booked, ...placed])
  const first = after[0]
  if (after.length === 1 && first !== undefined && first.fromQty === 0n && first.toQty === cumQty) delete order.venueRanges
  else order.venueRanges = after
  const at = placed[0]
  if (event.synthetic && !(placed.length === 1 && at !== undefined && at.fromQty === order.cumQty && at.toQty === cumQty)) order.syntheticRanges = placed
}

/**
 * The venue ranges the order's synthetic fill of `qty` just booked (placeFill), taken off the order: its own when it
 * left them, else (cumQty − qty, cumQty].
 */
export function takeSyntheticRanges(order: TrackedOrder, qty: Units): readonly VenueRange[] {
  const ranges = order.syntheticRanges
  if (ranges === undefined) return [{ fromQty: order.cumQty - qty, toQty: order.cumQty }]
  delete order.syntheticRanges
  return ranges
}

/**
 * What is wrong with venue ranges read from a snapshot section (`value`, TrackedOrder.venueRanges or syntheticRanges),
 * or null: absent, or a non-empty list of ranges from zero up, in order and disjoint, within `total` when one is given
 * (venueRanges add up to the order's cumQty).
 */
export function venueRangesProblem(value: unknown, total: Units | null): string | null {
  if (value === undefined) return null
  if (!Array.isArray(value) || value.length === 0) return 'not a list of ranges'
  let previousToQty = 0n
  let sum = 0n
  for (const range of value as unknown[]) {
    const { fromQty, toQty } = (range ?? {}) as { fromQty?: unknown; toQty?: unknown }
    if (typeof fromQty !== 'bigint' || typeof toQty !== 'bigint' || fromQty < previousToQty || toQty <= fromQty) return 'its ranges are not ranges in order and disjoint'
    previousToQty = toQty
    sum += toQty - fromQty
  }
  return total === null || sum === total ? null : `its ranges add up to ${sum}, not ${total}`
}

function bookedRangesOf(order: TrackedOrder): readonly VenueRange[] {
  return order.venueRanges ?? (order.cumQty > 0n ? [{ fromQty: 0n, toQty: order.cumQty }] : [])
}

/** `range` when it is a range from zero up that no booked range overlaps, else null. */
function freeRange(booked: readonly VenueRange[], range: VenueRange): VenueRange | null {
  if (range.fromQty < 0n || range.toQty <= range.fromQty) return null
  return booked.some((taken) => taken.fromQty < range.toQty && range.fromQty < taken.toQty) ? null : range
}

/** The lowest `qty` units no booked range holds, as ranges in order. */
function lowestFree(booked: readonly VenueRange[], qty: Units): VenueRange[] {
  const placed: VenueRange[] = []
  let left = qty
  let from = 0n
  for (const taken of booked) {
    if (left === 0n) break
    const gap = taken.fromQty - from
    if (gap > 0n) {
      const part = gap < left ? gap : left
      placed.push({ fromQty: from, toQty: from + part })
      left -= part
    }
    from = taken.toQty
  }
  if (left > 0n) placed.push({ fromQty: from, toQty: from + left })
  return placed
}

/** Disjoint ranges sorted, those that touch made one. */
function merged(ranges: readonly VenueRange[]): VenueRange[] {
  const sorted = [...ranges].sort((a, b) => (a.fromQty < b.fromQty ? -1 : a.fromQty > b.fromQty ? 1 : 0))
  const out: VenueRange[] = []
  for (const range of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && last.toQty === range.fromQty) out[out.length - 1] = { fromQty: last.fromQty, toQty: range.toQty }
    else out.push(range)
  }
  return out
}
