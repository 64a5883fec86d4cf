/** A venue's instrument from the config (a FIX venue's or the sim's) as the kernel's instrument. */

import type { VenueInstrumentConfig } from '../config/index.ts'
import { parseDecimal } from '../domain/decimal.ts'
import type { Instrument } from '../domain/instruments.ts'

/** The fields the kernel's instrument takes; each venue kind's price field (referencePrice, openingPrice) is not one. */
export type InstrumentFieldsConfig = Omit<VenueInstrumentConfig, 'referencePrice'>

export function kernelInstrumentOf(venue: string, instrument: InstrumentFieldsConfig): Instrument {
  return {
    venue,
    symbol: instrument.symbol,
    baseAsset: instrument.baseAsset,
    quoteAsset: instrument.quoteAsset,
    tickSize: parseDecimal(instrument.tickSize),
    lotSize: parseDecimal(instrument.lotSize),
    minQty: parseDecimal(instrument.minQty),
    maxQty: parseDecimal(instrument.maxQty),
    minNotional: parseDecimal(instrument.minNotional),
    priceBandBps: instrument.priceBandBps,
    orderTypes: [...instrument.orderTypes],
    timeInForce: [...instrument.timeInForce],
    postOnly: instrument.postOnly,
    reduceOnly: instrument.reduceOnly,
    rateLimitPerSecond: instrument.rateLimitPerSecond,
    // Absent, not undefined: an instrument without the limit is recorded (kernel.configured) as before it existed.
    ...(instrument.touchQtyMin === undefined ? {} : { touchQtyMin: parseDecimal(instrument.touchQtyMin) }),
  }
}
