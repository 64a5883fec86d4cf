/**
 * The in-process sim venue's instruments as the config sets them (src/config/sim-venue.ts): the kernel's instruments
 * and the sim's own view of them (tick, lot, where the price walk starts). Without a `venues[]` entry of type "sim"
 * (or with one and no `instruments`) exactly the built-in ones, built as they always were, so the kernel's
 * configuration — and the `kernel.configured` record a start writes — is unchanged.
 */

import { SIM_VENUE_NAME, simInstrumentConfigs, type Config } from '../config/index.ts'
import { divUnits, formatDecimal, maxUnits, parseDecimal, roundToStep, smallBigInt } from '../domain/decimal.ts'
import { defaultSimInstruments, type Instrument } from '../domain/instruments.ts'
import { simInstrumentsFor } from '../runtime/paper.ts'
import type { SimInstrument } from '../venues/sim/index.ts'
import { kernelInstrumentOf } from './venue-instruments.ts'

export interface SimVenueInstruments {
  /** What the kernel decides orders for `"venue": "sim"` with. */
  instruments: Instrument[]
  /** What the sim venue trades: the same symbols, with their tick, lot and size rules, each with its opening price. */
  simInstruments: SimInstrument[]
}

export function simVenueInstruments(config: Pick<Config, 'venues'>): SimVenueInstruments {
  const configured = simInstrumentConfigs(config.venues)
  if (configured === undefined) {
    const instruments = defaultSimInstruments()
    return { instruments, simInstruments: simInstrumentsFor(instruments) }
  }
  return {
    instruments: configured.map((instrument) => kernelInstrumentOf(SIM_VENUE_NAME, instrument)),
    simInstruments: configured.map((instrument) => ({
      symbol: instrument.symbol,
      baseAsset: instrument.baseAsset,
      quoteAsset: instrument.quoteAsset,
      tick: parseDecimal(instrument.tickSize),
      lot: parseDecimal(instrument.lotSize),
      initialPrice: parseDecimal(instrument.openingPrice),
      // The kernel's size rules, so the venue refuses what the config says it does (sim/size-check.ts).
      minQty: parseDecimal(instrument.minQty),
      maxQty: parseDecimal(instrument.maxQty),
      minNotional: parseDecimal(instrument.minNotional),
    })),
  }
}

/**
 * The orders serve's paper banner shows: a limit buy the sim fills at once, on its first instrument, and one below the
 * market that rests (to cancel), both for the same quantity.
 */
export interface FirstOrderExample {
  symbol: string
  qty: string
  /**
   * Half the instrument's price band above the opening price, on a tick: within the band, and above the sim's price
   * whenever it is placed, so the sim fills it at once (at its price). At the opening price itself the order waited
   * for the walk to come back down to it: placed 40 s after a start, 2 min 18 s with the built-in sim (seed 1, the
   * same walk every start), where the banner and the README say the stream shows the fill.
   */
  price: string
  /** Half the instrument's price band below the opening price, on a tick: within the band, and far from a fill. */
  restingPrice: string
}

/**
 * The built-in one (0.01 BTC-USD at 61500, its opening price 60000 and band 500 bps; resting at 58000 as the README's)
 * without configured sim instruments; else the first configured instrument, for the least quantity (a multiple of the
 * lot) at or above minQty and minNotional at the resting price (so at the higher price too).
 */
export function firstOrderExample(config: Pick<Config, 'venues'>): FirstOrderExample {
  const first = simInstrumentConfigs(config.venues)?.[0]
  if (first === undefined) return { symbol: 'BTC-USD', qty: '0.01', price: '61500', restingPrice: '58000' }
  const opening = parseDecimal(first.openingPrice)
  const tick = parseDecimal(first.tickSize)
  const price = roundToStep((opening * smallBigInt(20_000 + first.priceBandBps)) / 20_000n, tick, 'down')
  const below = roundToStep((opening * smallBigInt(20_000 - first.priceBandBps)) / 20_000n, tick, 'down')
  const restingPrice = below > 0n ? below : opening
  const lot = parseDecimal(first.lotSize)
  const forNotional = divUnits(parseDecimal(first.minNotional), restingPrice, 'up')
  const qty = roundToStep(maxUnits(parseDecimal(first.minQty), forNotional), lot, 'up')
  return { symbol: first.symbol, qty: formatDecimal(qty), price: formatDecimal(price), restingPrice: formatDecimal(restingPrice) }
}
