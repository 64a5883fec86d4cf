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
import type { FillRecord } from './ledger.ts'

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
}

export function positionKey(accountId: string, venue: string, symbol: string): string {
  return `${accountId}\n${venue}:${symbol}`
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
 * Applies a true-up: the cash of `qty` the position booked earlier (a synthetic fill's) changes by `cashDelta` (signed,
 * as the account sees it), and a fee is paid. The part of that quantity still open carries its share of the change in
 * the cost basis; the part closed since realized it, so the change goes to the realized PnL. Either way the header's
 * invariant holds, and a flat position keeps no cost basis.
 */
export function applyTrueUpToPosition(position: Position, trueUp: { side: 'buy' | 'sell'; qty: Units; cashDelta: Units; fee: Units; feeAsset: string; lsn: number }): void {
  const { qty, cashDelta } = trueUp
  if (cashDelta !== 0n) {
    assert(qty > 0n, () => `a true-up of ${position.symbol} changes cash for no quantity`)
    const onSide = trueUp.side === 'buy' ? position.netQty > 0n : position.netQty < 0n
    const openQty = onSide ? minAbs(position.netQty, qty) : 0n
    const openDelta = openQty === 0n ? 0n : openQty === qty ? cashDelta : roundedShare(cashDelta, openQty, qty)
    position.costBasis -= openDelta
    position.realizedPnl += cashDelta - openDelta
  }
  if (trueUp.fee !== 0n) position.fees.set(trueUp.feeAsset, (position.fees.get(trueUp.feeAsset) ?? 0n) + trueUp.fee)
  position.lastLsn = trueUp.lsn
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

function abs(value: Units): Units {
  return value < 0n ? -value : value
}

function minAbs(a: Units, b: Units): Units {
  return abs(a) < abs(b) ? abs(a) : abs(b)
}
