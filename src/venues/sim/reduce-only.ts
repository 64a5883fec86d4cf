/**
 * reduce_only at the sim venue. The position an order may reduce is what its account holds of the base asset at the
 * venue: its starting balance and deposits (serve's paper fundings) plus what its trades moved; negative is a short.
 * A reduce-only sell needs a long of at least its quantity, a buy a short of at least its quantity.
 *
 * Real venues either refuse a reduce-only order that would open or increase a position, or trade past it, or trim it
 * to the position. The sim refuses it (SimReason.reduceOnlyWouldIncrease), the common choice, and one that never
 * leaves an order at a quantity its sender did not ask for. Other reduce-only orders resting on the same side are not
 * counted at placement (as most venues do); each is checked again before it trades (book.ts), and one the position
 * can no longer take is expired, unfilled, with that reason instead of filled. An amend is checked like a placement.
 */

import type { Units } from '../../domain/decimal.ts'
import type { Side } from '../adapter.ts'

/** Whether a reduce-only order on `side` trading `qty` more would pass the position `held` (base units, signed). */
export function reduceOnlyExceeds(side: Side, qty: Units, held: Units): boolean {
  const reducible = side === 'sell' ? held : -held
  return qty > reducible
}
