/**
 * How a flatten closes one holding under its instrument's size rules (guard 6's, sizeReason: min quantity, max
 * quantity, min notional, in whole lots). flatten.ts sent one close for the whole holding and read none of them but
 * minQty: a holding above maxQty went out as one close the venue refuses (150 BTC on a BTC-USD of maxQty 100), so the
 * position stayed open, and a holding below minQty got no close and no word, the answer reading as if it were closed.
 *
 * Now the holding, rounded down to the lot, is closed in as few closes as maxQty allows, each of at most maxQty
 * (rounded down to the lot) and at least the smallest close the rules take at the close's price. Where the last would
 * be under that, it takes what it lacks from the ones before, as far as they stay at it. What no close can take — under
 * the lot, under minQty or minNotional, or past the closes one flatten sends — is left, with the rule it misses: the
 * flatten names it in its answer's not_closed and raises FLATTEN_NOT_CLOSED for it.
 *
 * At most FLATTEN_CLOSES_PER_INSTRUMENT_MAX closes per instrument and flatten (fewer when the caller's budget is lower:
 * flatten.ts counts closes past each instrument's first against ordersMax), so one holding cannot fill the log's queue
 * or the instrument's send lane with thousands of orders (a maxQty configured far below the holdings). What is left past
 * it is named FLATTEN_CLOSES_MAX; a new flatten, once these closes have ended, closes the next ones.
 */

import { divUnits, maxUnits, mulUnits, roundToStep, smallBigInt, type Units } from '../domain/decimal.ts'
import type { Instrument } from '../domain/instruments.ts'
import type { ReasonCode } from '../domain/reasons.ts'

/** Closes one flatten decides per instrument at most: the rest is named FLATTEN_CLOSES_MAX and left to a new flatten. */
export const FLATTEN_CLOSES_PER_INSTRUMENT_MAX = 100

/** The closes of one holding and what they leave. */
export interface CloseSizes {
  /** Each close's quantity, the largest first: whole lots, within the instrument's size rules at the close price. */
  qtys: Units[]
  /** What no close takes (0 when none is left). */
  left: Units
  /** Why `left` is left: FLATTEN_CLOSES_MAX, QTY_BELOW_MIN, NOTIONAL_BELOW_MIN or QTY_ABOVE_MAX; null when none is. */
  reason: ReasonCode | null
}

/** The closes of `available` (positive) on `instrument` at the close price `price` (positive), at most `closesMax` (≥ 1). */
export function closeSizes(available: Units, instrument: Instrument, at: { price: Units; closesMax: number }): CloseSizes {
  const lot = instrument.lotSize
  const total = roundToStep(available, lot, 'down')
  const largest = roundToStep(instrument.maxQty, lot, 'down')
  const smallest = smallestClose(instrument, at.price)
  if (total < smallest || largest < smallest) return leaving(available, [], instrument, at.price)
  const needed = ceilDiv(total, largest)
  const allowed = smallBigInt(Math.min(at.closesMax, FLATTEN_CLOSES_PER_INSTRUMENT_MAX))
  if (needed > allowed) return { qtys: repeat(largest, allowed), left: available - largest * allowed, reason: 'FLATTEN_CLOSES_MAX' }
  // Fewer than `needed` closes cannot take it all, and `needed` closes can when each can hold the smallest.
  if (needed * smallest > total) return leaving(available, repeat(largest, needed - 1n), instrument, at.price)
  const qtys = repeat(largest, needed - 1n)
  qtys.push(total - largest * (needed - 1n))
  lendToLast(qtys, smallest)
  return leaving(available, qtys, instrument, at.price)
}

/**
 * The smallest close the instrument takes at `price`: whole lots, at least minQty, and its notional (rounded down, as
 * sizeReason reads it) at least minNotional.
 */
function smallestClose(instrument: Instrument, price: Units): Units {
  const lot = instrument.lotSize
  const forNotional = divUnits(instrument.minNotional, price, 'up')
  return maxUnits(lot, maxUnits(roundToStep(instrument.minQty, lot, 'up'), roundToStep(forNotional, lot, 'up')))
}

/** Moves lots from the closes before the last to the last until it holds `smallest`, keeping each at `smallest` or more. */
function lendToLast(qtys: Units[], smallest: Units): void {
  const lastIndex = qtys.length - 1
  let lacking = smallest - (qtys[lastIndex] as Units)
  for (let index = lastIndex - 1; index >= 0 && lacking > 0n; index--) {
    const lent = (qtys[index] as Units) - smallest < lacking ? (qtys[index] as Units) - smallest : lacking
    qtys[index] = (qtys[index] as Units) - lent
    qtys[lastIndex] = (qtys[lastIndex] as Units) + lent
    lacking -= lent
  }
}

/** `qtys` and what they leave of `available`, with the first rule that what is left misses. */
function leaving(available: Units, qtys: Units[], instrument: Instrument, price: Units): CloseSizes {
  const left = qtys.reduce((rest, qty) => rest - qty, available)
  return { qtys, left, reason: left === 0n ? null : leftReason(left, instrument, price) }
}

/**
 * Why `left` cannot be closed: its whole lots under minQty (under the lot: none), or their notional under minNotional;
 * else the instrument takes no close at all (its maxQty, rounded down to the lot, under the smallest close).
 */
function leftReason(left: Units, instrument: Instrument, price: Units): ReasonCode {
  const lots = roundToStep(left, instrument.lotSize, 'down')
  if (lots < instrument.minQty) return 'QTY_BELOW_MIN'
  if (mulUnits(lots, price, 'down') < instrument.minNotional) return 'NOTIONAL_BELOW_MIN'
  return 'QTY_ABOVE_MAX'
}

function repeat(qty: Units, count: bigint): Units[] {
  return Array.from({ length: Number(count) }, () => qty)
}

function ceilDiv(a: Units, b: Units): bigint {
  return (a + b - 1n) / b
}
