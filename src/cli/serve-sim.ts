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
  /** What the sim venue trades: the same symbols, each with its opening price. */
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
    })),
  }
}

/**
 * The orders serve's paper banner shows: a limit buy the sim takes, on its first instrument at its opening price, and
 * one below the market that rests (to cancel), both for the same quantity.
 */
export interface FirstOrderExample {
  symbol: string
  qty: string
  price: string
  /** Half the instrument's price band below the opening price, on a tick: within the band, and far from a fill. */
  restingPrice: string
}

/**
 * The built-in one (0.01 BTC-USD at 60000, resting at 58000 as the README's) without configured sim instruments; else
 * the first configured instrument at its opening price, for the least quantity (a multiple of the lot) at or above
 * minQty and minNotional at the resting price (so at the opening price too).
 */
export function firstOrderExample(config: Pick<Config, 'venues'>): FirstOrderExample {
  const first = simInstrumentConfigs(config.venues)?.[0]
  if (first === undefined) return { symbol: 'BTC-USD', qty: '0.01', price: '60000', restingPrice: '58000' }
  const price = parseDecimal(first.openingPrice)
  const below = roundToStep((price * smallBigInt(20_000 - first.priceBandBps)) / 20_000n, parseDecimal(first.tickSize), 'down')
  const restingPrice = below > 0n ? below : price
  const lot = parseDecimal(first.lotSize)
  const forNotional = divUnits(parseDecimal(first.minNotional), restingPrice, 'up')
  const qty = roundToStep(maxUnits(parseDecimal(first.minQty), forNotional), lot, 'up')
  return { symbol: first.symbol, qty: formatDecimal(qty), price: formatDecimal(price), restingPrice: formatDecimal(restingPrice) }
}
