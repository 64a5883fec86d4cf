/**
 * Synthetic quantity a position holds until its true-up (src/kernel/synthetic-cover.ts): per order, the quantity its
 * synthetic fills booked that is still pending a true-up, and how much of it is still open in the cost basis.
 *
 * Why it is needed: positions use average cost (positions.ts). Each reducing fill releases a pro-rata share of the
 * whole cost basis, the synthetic fill's cash included, so after a reduction of c out of an open N only (N − c)/N of
 * the synthetic cash is still in the basis, whatever else the position holds. A true-up replaces that cash by the real
 * fill's: the change belongs in the basis in the same proportion, and in the realized PnL for the rest. Counting the
 * synthetic quantity as the last still open (min(|netQty|, qty)) is right only for a position that holds nothing else
 * and never flipped.
 *
 * The quantity is kept as ranges of the order's venue cumulative quantity, the coordinates the kernel matches real
 * fills in: a synthetic fill books what egress lacks below the venue's cumulative quantity it read — (cumQty − qty,
 * cumQty] while reports came in venue order, the gaps a report of a later range left otherwise (venue-ranges.ts) — and
 * a real fill covers (venueCumQty − lastQty, … + coveredQty] of it (`order.fill_covered`, just before its
 * `order.fill_trued_up`). Ranges matter because the real
 * fills behind one synthetic fill may differ in price, and a synthetic fill that reduced the position before opening
 * closed its first units: had the real fills come first, the first of them would have done the closing. So each
 * segment of a range keeps its own open fraction:
 *   - at the synthetic fill: 0 for the units that closed the position, 1 for those that opened it;
 *   - at every reducing fill since, times (N − c)/N; at a close to zero or a flip, 0 (a position that comes back to the
 *     same side opens at later fills' cash, none of the synthetic fill's).
 * A true-up puts Σ (units of each segment it covers × that segment's fraction) / its quantity of its cash change in
 * the basis, and removes what it covered. Each segment also keeps the price its synthetic fill booked at: the kernel
 * trues up at the average of everything the order has pending (pendingShareOf), which is a segment's own cash only
 * while the order's pending quantity was all booked at one price. An order may get synthetic fills at two prices (a
 * status read books at the venue's price, an amend between two reads changes it); the lot is then marked mixed until
 * it goes (the kernel keeps averaging over what was pending until nothing is), and each segment's change is its real
 * cash less its own synthetic cash (positions.ts applyTrueUpToPosition). When its quantity is not all within the range it covers (a real fill the
 * kernel matched to synthetic quantity booked as another's, say), the rest is taken from the order's first segments,
 * so the lot shrinks by what the kernel's pending quantity shrinks by. The lot goes when nothing is pending or its order
 * is retired (retention.ts: the ledger then counts that order's true-ups unbooked).
 *
 * Fractions are fixed-point in parts of FRACTION_ONE (10^18), rounded at each scaling: after k reductions a fraction
 * is off by about k × 10^-18, far below one unit of any cash change. Lots are replaced, never changed in place, so a
 * copy of a position's Map (ledger-clone.ts) is a deep copy.
 */

import { assert } from '../domain/assert.ts'
import type { Units } from '../domain/decimal.ts'

/** A whole fraction: a segment whose open fraction is FRACTION_ONE is all open. */
export const FRACTION_ONE = 10n ** 18n

/** Part of an order's venue cumulative quantity, (fromQty, toQty], booked by a synthetic fill. */
export interface SyntheticSegment {
  fromQty: Units
  toQty: Units
  /** The part of it still open in the position's cost basis, in parts of FRACTION_ONE (0 … FRACTION_ONE). */
  openFraction: bigint
  /** The price its synthetic fill booked at; null when unknown (kept by a build before prices: section format 3). */
  price: Units | null
}

export interface SyntheticLot {
  /** The order's synthetic quantity pending its true-up, in venue cumulative order, disjoint. */
  segments: readonly SyntheticSegment[]
  /** The range the order's last covered fill covers (`order.fill_covered`), until its true-up takes it. */
  cover: { fromQty: Units; toQty: Units } | null
  /**
   * Whether the order's synthetic quantity pending since the lot began was booked at two or more (known) prices: the
   * kernel's average (pendingShareOf) is then not each segment's own price, until the lot goes with nothing pending.
   */
  mixedPrices: boolean
}

/** Order id → lot; absent from a position while it has none. */
export type SyntheticLots = Map<string, SyntheticLot>

/** A part of a segment a true-up took. */
export interface TakenPiece {
  qty: Units
  openFraction: bigint
  price: Units | null
}

/**
 * What a true-up took of a lot: its quantity, Σ quantity × open fraction over what it took, the pieces, and whether
 * the lot is of mixed prices (SyntheticLot.mixedPrices).
 */
export interface TakenLot {
  qty: Units
  openWeight: bigint
  pieces: TakenPiece[]
  pricesMixed: boolean
}

/** Nothing taken: an order with no lot. */
export function noTakenLot(): TakenLot {
  return { qty: 0n, openWeight: 0n, pieces: [], pricesMixed: false }
}

/**
 * The synthetic fill of `orderId` just booked `ranges` of its venue cumulative quantity (venue-ranges.ts: most often
 * the one range (cumQty − qty, cumQty]) at `price`; its first `closedQty` units in venue order reduced the position.
 */
export function addSyntheticLot(lots: SyntheticLots, orderId: string, booked: { ranges: readonly { fromQty: Units; toQty: Units }[]; closedQty: Units; price: Units }): void {
  const { ranges, closedQty, price } = booked
  const qty = ranges.reduce((sum, range) => sum + (range.toQty - range.fromQty), 0n)
  assert(ranges.length > 0 && closedQty >= 0n && closedQty <= qty, () => `synthetic lot of ${orderId}: ${closedQty} closed of ${qty}`)
  const added: SyntheticSegment[] = []
  let closedLeft = closedQty
  for (const { fromQty, toQty } of ranges) {
    assert(fromQty >= 0n && toQty > fromQty, () => `synthetic lot of ${orderId}: range (${fromQty}, ${toQty}]`)
    const closedTo = toQty - fromQty < closedLeft ? toQty : fromQty + closedLeft
    closedLeft -= closedTo - fromQty
    if (closedTo > fromQty) added.push({ fromQty, toQty: closedTo, openFraction: 0n, price })
    if (closedTo < toQty) added.push({ fromQty: closedTo, toQty, openFraction: FRACTION_ONE, price })
  }
  const lot = lots.get(orderId)
  const segments = [...(lot?.segments ?? []), ...added].sort((a, b) => (a.fromQty < b.fromQty ? -1 : a.fromQty > b.fromQty ? 1 : 0))
  // A lot with a segment of unknown price (section format 3) stays as that build split it: by the kernel's average.
  const pricesKnown = lot === undefined || lot.segments.every((segment) => segment.price !== null)
  const mixedPrices = (lot?.mixedPrices ?? false) || (pricesKnown && (lot?.segments.some((segment) => segment.price !== price) ?? false))
  lots.set(orderId, { segments, cover: lot?.cover ?? null, mixedPrices })
}

/**
 * A fill closed `closeQty` of the position's open `openQty`: every segment keeps (open − closed)/open of its fraction,
 * as the basis keeps that share of every cash that made it (positions.ts applyFillToPosition).
 */
export function scaleSyntheticLots(lots: SyntheticLots, closeQty: Units, openQty: Units): void {
  assert(closeQty > 0n && closeQty <= openQty, () => `closing ${closeQty} of an open ${openQty}`)
  for (const [orderId, lot] of lots) {
    if (lot.segments.every((segment) => segment.openFraction === 0n)) continue
    const segments = lot.segments.map((segment) => {
      const openFraction = closeQty === openQty ? 0n : roundedRatio(segment.openFraction * (openQty - closeQty), openQty)
      return { ...segment, openFraction }
    })
    lots.set(orderId, { ...lot, segments })
  }
}

/** A real fill of the order covers (fromQty, toQty] of its venue cumulative quantity: its true-up follows. */
export function noteSyntheticCover(lots: SyntheticLots, orderId: string, cover: { fromQty: Units; toQty: Units }): void {
  const lot = lots.get(orderId)
  if (lot !== undefined) lots.set(orderId, { ...lot, cover })
}

/**
 * Takes `qty` of the order's lot for its true-up: what the last cover names first, then (`fallback`) the first
 * segments. Less than `qty` for synthetic quantity booked before lots were kept (LedgerState.lotsUntrackedThroughLsn):
 * an order accepted before then may have such quantity pending beside its lot, and a cover outside its lot is taken
 * to be that (no fallback), not the lot's newer quantity. The lot goes once nothing of it is left.
 */
export function takeSyntheticLot(lots: SyntheticLots, orderId: string, qty: Units, fallback = true): TakenLot {
  const lot = lots.get(orderId)
  if (lot === undefined) return noTakenLot()
  let segments = lot.segments
  const taken: TakenLot = { ...noTakenLot(), pricesMixed: lot.mixedPrices }
  if (lot.cover !== null) segments = cut(segments, lot.cover, qty, taken)
  if (fallback && taken.qty < qty && segments.length > 0) {
    const all = { fromQty: (segments[0] as SyntheticSegment).fromQty, toQty: (segments[segments.length - 1] as SyntheticSegment).toQty }
    segments = cut(segments, all, qty - taken.qty, taken)
  }
  if (segments.length === 0) lots.delete(orderId)
  else lots.set(orderId, { segments, cover: null, mixedPrices: lot.mixedPrices })
  return taken
}

/** `segments` without the first `qtyMax` units within `range`; what it removed is added to `taken`. */
function cut(segments: readonly SyntheticSegment[], range: { fromQty: Units; toQty: Units }, qtyMax: Units, taken: TakenLot): SyntheticSegment[] {
  const kept: SyntheticSegment[] = []
  let left = qtyMax
  for (const segment of segments) {
    const from = segment.fromQty > range.fromQty ? segment.fromQty : range.fromQty
    let to = segment.toQty < range.toQty ? segment.toQty : range.toQty
    if (to - from > left) to = from + left
    if (to <= from) {
      kept.push(segment)
      continue
    }
    left -= to - from
    taken.qty += to - from
    taken.openWeight += (to - from) * segment.openFraction
    taken.pieces.push({ qty: to - from, openFraction: segment.openFraction, price: segment.price })
    if (segment.fromQty < from) kept.push({ ...segment, toQty: from })
    if (to < segment.toQty) kept.push({ ...segment, fromQty: to })
  }
  return kept
}

/** `numerator / denominator` rounded half up (both non-negative). */
function roundedRatio(numerator: bigint, denominator: bigint): bigint {
  return (numerator * 2n + denominator) / (denominator * 2n)
}
