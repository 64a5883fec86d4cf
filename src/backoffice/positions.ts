/**
 * Positions per account × instrument: net quantity, cost basis (hence average cost), realized PnL on reductions and
 * fees, kept apart from PnL. Unrealized PnL is not stored: it depends on a mark price, supplied when asked.
 *
 * The cost basis is kept as the signed quote amount the open quantity cost (positive for a long, negative — cash
 * received — for a short), not as an average price, so no rounding accumulates: the invariant
 *   realizedPnl − costBasis = Σ cash legs of the position's fills
 * holds exactly, and a position closed to zero has realized exactly the cash it made.
 */

import { assert } from '../domain/assert.ts'
import { divUnits, mulUnits, type Units } from '../domain/decimal.ts'
import type { EventOf } from '../domain/events/index.ts'
import type { FillRecord } from './ledger-state.ts'
import type { TrackedOrder } from './orders.ts'
import { addSyntheticLot, FRACTION_ONE, noTakenLot, noteSyntheticCover, scaleSyntheticLots, takeSyntheticLot, type SyntheticLots, type TakenPiece } from './synthetic-lots.ts'
import type { VenueRange } from './venue-ranges.ts'

export interface Position {
  accountId: string
  venue: string
  symbol: string
  baseAsset: string
  quoteAsset: string
  /** Signed: positive long, negative short. */
  netQty: Units
  /** Signed quote amount the open quantity stands at (see the header). */
  costBasis: Units
  realizedPnl: Units
  /** Fees paid per asset (negative: rebates). */
  fees: Map<string, Units>
  boughtQty: Units
  soldQty: Units
  fillCount: number
  lastLsn: number
  /** Synthetic quantity pending its true-up, per order (synthetic-lots.ts); absent while none. Not in the query model. */
  syntheticLots?: SyntheticLots
}

export function positionKey(accountId: string, venue: string, symbol: string): string {
  return `${accountId}\n${venue}:${symbol}`
}

/** The position of the order's account and instrument, opened flat on first use. */
export function positionFor(positions: Map<string, Position>, order: TrackedOrder): Position {
  const key = positionKey(order.accountId, order.venue, order.symbol)
  let position = positions.get(key)
  if (position === undefined) {
    const { accountId, venue, symbol, baseAsset, quoteAsset } = order
    position = { accountId, venue, symbol, baseAsset, quoteAsset, netQty: 0n, costBasis: 0n, realizedPnl: 0n, fees: new Map(), boughtQty: 0n, soldQty: 0n, fillCount: 0, lastLsn: 0 }
    positions.set(key, position)
  }
  return position
}

/**
 * Applies one fill. The part that reduces the open quantity realizes PnL against its share of the cost basis; the
 * rest (the whole fill, or what is left after a flip through zero) opens at this fill's cash.
 */
export function applyFillToPosition(position: Position, fill: FillRecord): void {
  const signedQty = fill.side === 'buy' ? fill.qty : -fill.qty
  const reducing = position.netQty !== 0n && (position.netQty > 0n) !== (signedQty > 0n)
  const closeQty = reducing ? minAbs(position.netQty, signedQty) : 0n
  // The fill's cash is split between the closing and the opening part in proportion to quantity; the two parts add
  // up to the booked cash exactly.
  const closeCash = closeQty === 0n ? 0n : closeQty === fill.qty ? fill.cash : roundedShare(fill.cash, closeQty, fill.qty)
  const openCash = fill.cash - closeCash
  if (closeQty > 0n) {
    const open = abs(position.netQty)
    const basisClosed = closeQty === open ? position.costBasis : roundedShare(position.costBasis, closeQty, open)
    // Closing a long receives closeCash for the basis it paid; closing a short pays (closeCash < 0) against the
    // basis it received (basisClosed < 0). Either way the gain is the cash minus the basis it releases.
    position.realizedPnl += closeCash - basisClosed
    position.costBasis -= basisClosed
    if (position.syntheticLots !== undefined) scaleSyntheticLots(position.syntheticLots, closeQty, open)
  }
  position.costBasis -= openCash
  position.netQty += signedQty
  if (position.netQty === 0n) assert(position.costBasis === 0n, () => `flat position ${position.symbol} kept a cost basis`)
  if (fill.fee !== 0n) position.fees.set(fill.feeAsset, (position.fees.get(fill.feeAsset) ?? 0n) + fill.fee)
  if (fill.side === 'buy') position.boughtQty += fill.qty
  else position.soldQty += fill.qty
  position.fillCount += 1
  position.lastLsn = fill.lsn
}

/**
 * Notes the range of the order's venue cumulative quantity a real fill covers (`order.fill_covered`): its true-up
 * follows (synthetic-lots.ts). Nothing to note for an order with no lot.
 */
export function noteTrueUpCover(positions: Map<string, Position>, order: TrackedOrder, event: EventOf<'order.fill_covered'>): void {
  const lots = positions.get(positionKey(order.accountId, order.venue, order.symbol))?.syntheticLots
  const fromQty = event.venueCumQty - event.lastQty
  if (lots !== undefined) noteSyntheticCover(lots, order.orderId, { fromQty, toQty: fromQty + event.coveredQty })
}

/**
 * Notes what a true-up of the order will reprice (synthetic-lots.ts), in the position of its account and instrument:
 * the synthetic fill just applied (the kernel logs `order.synthetic_pending` with it), at the venue ranges it booked
 * (`ranges`, venue-ranges.ts). The position's side and size now say how much of it opened — all of it on a position on
 * its side that it did not flip, the part past zero when it flipped, none when it only reduced; the rest, its first
 * units in venue order, closed.
 */
export function noteSyntheticPending(
  positions: Map<string, Position>,
  order: TrackedOrder,
  pending: { qty: Units; price: Units; ranges: readonly VenueRange[] },
): void {
  const position = positions.get(positionKey(order.accountId, order.venue, order.symbol))
  assert(position !== undefined, () => `synthetic quantity of ${order.orderId} pending with no position: its fill was not booked`)
  const openQty = onSideOf(position, order.side) ? minAbs(position.netQty, pending.qty) : 0n
  position.syntheticLots ??= new Map()
  addSyntheticLot(position.syntheticLots, order.orderId, { ranges: pending.ranges, closedQty: pending.qty - openQty, price: pending.price })
}

/** Forgets the synthetic quantity of an order the ledger retired (retention.ts): no true-up of it is booked any more. */
export function dropSyntheticLot(position: Position, orderId: string): void {
  if (position.syntheticLots?.delete(orderId) === true && position.syntheticLots.size === 0) delete position.syntheticLots
}

/**
 * Applies a true-up: the cash of `qty` of the order's synthetic quantity becomes `realCash` (signed, as the account sees
 * it), a change of `cashDelta`, and a fee is paid. The part of the synthetic cash still open in the cost basis (by the
 * open fractions of what the true-up covers, synthetic-lots.ts) is replaced there by its share of the real cash; the
 * rest was realized since, so the rest of the change goes to the realized PnL. Either way the header's invariant
 * holds, and a flat position keeps no cost basis (its lots are all closed).
 *
 * The kernel's synthetic cash is its average over what the order has pending. While that was all booked at one price
 * it is each piece's own, and each piece takes an even share of the change. When the order's pending quantity was
 * booked at two or more prices, each piece's synthetic cash is its own (its segment's price): the basis takes
 * Σ fraction × (real cash − own synthetic cash), which is not zero even when the total change is (a sale between two
 * synthetic fills closed the cheaper one), and the realized PnL the rest of the change.
 *
 * The lot is consumed even when nothing is booked (a real fill at the synthetic price with no fee). Quantity the
 * order has no lot for — booked before the ledger kept lots (LedgerState.lotsUntrackedThroughLsn) — is split by the
 * rule of that time: open up to the position's size while it is on the order's side. `lotFallback`: whether a true-up
 * not within its cover may take the lot's first segments (synthetic-lots.ts takeSyntheticLot). Returns whether the
 * position changed.
 */
export function applyTrueUpToPosition(
  position: Position,
  trueUp: { orderId: string; side: 'buy' | 'sell'; qty: Units; realCash: Units; cashDelta: Units; fee: Units; feeAsset: string; lsn: number; lotFallback: boolean },
): boolean {
  const { qty, realCash, cashDelta } = trueUp
  const lot = position.syntheticLots === undefined ? noTakenLot() : takeSyntheticLot(position.syntheticLots, trueUp.orderId, qty, trueUp.lotFallback)
  if (position.syntheticLots?.size === 0) delete position.syntheticLots
  assert(cashDelta === 0n || qty > 0n, () => `a true-up of ${position.symbol} changes cash for no quantity`)
  // Synthetic quantity still open is on the position's side: leaving that side took a close to zero, which zeroed it.
  assert(lot.openWeight === 0n || onSideOf(position, trueUp.side), () => `synthetic lot of ${trueUp.orderId} open in a position off its side`)
  const trackedDelta = lot.qty === qty ? cashDelta : roundedShare(cashDelta, lot.qty, qty)
  const trackedOpenDelta = lot.openWeight === 0n ? 0n : lot.pricesMixed ? ownPriceOpenDelta(trueUp, lot.pieces) : roundedShare(trackedDelta, lot.openWeight, lot.qty * FRACTION_ONE)
  const openDelta = trackedOpenDelta + untrackedOpenDelta(position, trueUp.side, qty - lot.qty, cashDelta - trackedDelta)
  if (cashDelta === 0n && openDelta === 0n && trueUp.fee === 0n) return false
  position.costBasis -= openDelta
  position.realizedPnl += cashDelta - openDelta
  if (trueUp.fee !== 0n) position.fees.set(trueUp.feeAsset, (position.fees.get(trueUp.feeAsset) ?? 0n) + trueUp.fee)
  position.lastLsn = trueUp.lsn
  return true
}

/**
 * Σ fraction × (real cash − own synthetic cash) over the pieces taken, rounded half away from zero: each piece's real
 * cash its share of the true-up's by quantity, its synthetic cash what a fill of it at its segment's price books.
 */
function ownPriceOpenDelta(trueUp: { side: 'buy' | 'sell'; qty: Units; realCash: Units }, pieces: readonly TakenPiece[]): Units {
  const { side, qty, realCash } = trueUp
  let numerator = 0n
  for (const piece of pieces) {
    if (piece.openFraction === 0n) continue
    assert(piece.price !== null, 'a piece of a lot of mixed prices has its price')
    const ownCash = side === 'buy' ? -mulUnits(piece.qty, piece.price, 'up') : mulUnits(piece.qty, piece.price, 'down')
    numerator += piece.openFraction * (realCash * piece.qty - ownCash * qty)
  }
  return roundedShare(numerator, 1n, qty * FRACTION_ONE)
}

/** The rule before lots, for quantity with no lot: open up to the position's size while it is on the order's side. */
function untrackedOpenDelta(position: Position, side: 'buy' | 'sell', qty: Units, cashDelta: Units): Units {
  const openQty = qty > 0n && onSideOf(position, side) ? minAbs(position.netQty, qty) : 0n
  return openQty === 0n ? 0n : openQty === qty ? cashDelta : roundedShare(cashDelta, openQty, qty)
}

/** Average cost per unit of the open quantity (null when flat), rounded half-even. */
export function averageCost(position: Position): Units | null {
  if (position.netQty === 0n) return null
  return divUnits(abs(position.costBasis), abs(position.netQty), 'half_even')
}

/** Unrealized PnL at `mark`: what the open quantity is worth there minus what it stands at. */
export function unrealizedPnl(position: Position, mark: Units): Units {
  return mulUnits(position.netQty, mark, 'half_even') - position.costBasis
}

function roundedShare(amount: Units, part: Units, whole: Units): Units {
  assert(whole > 0n && part >= 0n && part <= whole, () => `share ${part} of ${whole} is out of range`)
  const numerator = amount * part
  // Round half away from zero, symmetric for longs and shorts.
  const half = whole / 2n
  return numerator >= 0n ? (numerator + half) / whole : -((-numerator + half) / whole)
}

/** Whether the position is open on `side` (long for a buy, short for a sell). */
function onSideOf(position: Position, side: 'buy' | 'sell'): boolean {
  return side === 'buy' ? position.netQty > 0n : position.netQty < 0n
}

function abs(value: Units): Units {
  return value < 0n ? -value : value
}

function minAbs(a: Units, b: Units): Units {
  return abs(a) < abs(b) ? abs(a) : abs(b)
}
