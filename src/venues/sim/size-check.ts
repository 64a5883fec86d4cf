/**
 * The instrument's size rules at the sim venue: minimum and maximum quantity and minimum notional, as a real venue's
 * filters refuse an order that misses them (Binance's LOT_SIZE and NOTIONAL, FIX OrdRejReason 13). Egress checks the
 * same rules at intake and again at the send (src/kernel/intake/guard-capability.ts sizeReason, src/kernel/send.ts);
 * the venue checking them too is what lets a paper run show a venue's refusal when the two disagree (a config the
 * gateway reads with rules looser than the venue's) and what egress does with it.
 *
 * The notional is quantity × price rounded down, as the gateway's: a limit order's at its limit, a market order's at
 * the reference price it would trade at. An amend is checked at its new total quantity and price.
 */

import { mulUnits, type Units } from '../../domain/decimal.ts'
import type { SimInstrument } from './options.ts'
import { SimReason } from './reasons.ts'

/** The size rule an order of `qty` at `price` misses on `instrument`, the first of min, max, notional; null when none. */
export function sizeProblem(qty: Units, price: Units, instrument: SimInstrument): string | null {
  if (instrument.minQty !== undefined && qty < instrument.minQty) return SimReason.qtyBelowMin
  if (instrument.maxQty !== undefined && qty > instrument.maxQty) return SimReason.qtyAboveMax
  if (instrument.minNotional !== undefined && mulUnits(qty, price, 'down') < instrument.minNotional) return SimReason.notionalBelowMin
  return null
}
