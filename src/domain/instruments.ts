/**
 * Instruments per venue×symbol (DESIGN §5): what the venue accepts and how prices and quantities round. The kernel
 * never sends an order an instrument does not support, and rounds price to tick and quantity down to lot first.
 */

import * as v from 'valibot'
import { parseDecimal } from './decimal.ts'
import {
  bpsSchema,
  countSchema,
  idSchema,
  nonNegativeUnitsSchema,
  orderTypeSchema,
  positiveUnitsSchema,
  tifSchema,
} from './schema-kit.ts'

export const instrumentSchema = v.strictObject({
  venue: idSchema,
  symbol: idSchema,
  baseAsset: idSchema,
  quoteAsset: idSchema,
  tickSize: positiveUnitsSchema,
  lotSize: positiveUnitsSchema,
  minQty: positiveUnitsSchema,
  maxQty: positiveUnitsSchema,
  minNotional: nonNegativeUnitsSchema,
  /** Limit prices further than this from the reference price are fat-finger rejects. */
  priceBandBps: bpsSchema,
  orderTypes: v.array(orderTypeSchema),
  timeInForce: v.array(tifSchema),
  postOnly: v.boolean(),
  reduceOnly: v.boolean(),
  /** The venue's request budget for this instrument; the runtime's throttler paces sends with it. */
  rateLimitPerSecond: countSchema,
  /**
   * Visible size (base units) at the side an aggressive order takes below which the book is thin (DATA_THIN_BOOK,
   * src/kernel/intake/book-check.ts). Absent: no such rule, and records written before it existed read so.
   */
  touchQtyMin: v.optional(positiveUnitsSchema),
})

export type Instrument = v.InferOutput<typeof instrumentSchema>
export type InstrumentInput = v.InferInput<typeof instrumentSchema>

/**
 * The key used everywhere for venue×symbol maps, serialisation slots and rate limits. An order's intake, its send and
 * its answers each look its instrument up, so the texts are kept (found by venue, then symbol) instead of built per
 * call. Bounded: the venue and symbol of a body are looked up before they are known to name an instrument, so the
 * kept texts are dropped all at once when INSTRUMENT_KEYS_MAX is reached.
 */
export function instrumentKey(venue: string, symbol: string): string {
  let bySymbol = instrumentKeys.get(venue)
  const known = bySymbol?.get(symbol)
  if (known !== undefined) return known
  const key = `${venue}:${symbol}`
  if (instrumentKeysCount >= INSTRUMENT_KEYS_MAX) {
    instrumentKeys.clear()
    instrumentKeysCount = 0
    bySymbol = undefined
  }
  if (bySymbol === undefined) instrumentKeys.set(venue, (bySymbol = new Map()))
  bySymbol.set(symbol, key)
  instrumentKeysCount += 1
  return key
}

const INSTRUMENT_KEYS_MAX = 4096
const instrumentKeys = new Map<string, Map<string, string>>()
let instrumentKeysCount = 0

/**
 * The sim venue's request budget per instrument (its default rateLimitPerSecond): the largest the config takes. The
 * sim takes whatever it is sent, so paper runs and the benchmarks are never paced by it; a FIX or JSONL venue's
 * default, 50, is (runtime/send-pacing.ts).
 */
export const SIM_RATE_LIMIT_PER_SECOND = 1_000_000

interface SimInstrumentSpec {
  symbol: string
  base: string
  tick: string
  lot: string
  minQty: string
  maxQty: string
  minNotional: string
  market: boolean
}

function simInstrument(spec: SimInstrumentSpec): Instrument {
  return {
    venue: 'sim',
    symbol: spec.symbol,
    baseAsset: spec.base,
    quoteAsset: 'USD',
    tickSize: parseDecimal(spec.tick),
    lotSize: parseDecimal(spec.lot),
    minQty: parseDecimal(spec.minQty),
    maxQty: parseDecimal(spec.maxQty),
    minNotional: parseDecimal(spec.minNotional),
    priceBandBps: 500,
    orderTypes: spec.market ? ['limit', 'market'] : ['limit'],
    timeInForce: ['GTC', 'IOC', 'FOK', 'DAY'],
    postOnly: true,
    reduceOnly: true,
    rateLimitPerSecond: SIM_RATE_LIMIT_PER_SECOND,
  }
}

/** The default instrument set of the `sim` venue: two crypto pairs and one equity traded in whole shares. */
export function defaultSimInstruments(): Instrument[] {
  return [
    simInstrument({ symbol: 'BTC-USD', base: 'BTC', tick: '0.01', lot: '0.0001', minQty: '0.0001', maxQty: '100', minNotional: '10', market: true }),
    simInstrument({ symbol: 'ETH-USD', base: 'ETH', tick: '0.01', lot: '0.001', minQty: '0.001', maxQty: '1000', minNotional: '10', market: true }),
    simInstrument({ symbol: 'AAPL', base: 'AAPL', tick: '0.01', lot: '1', minQty: '1', maxQty: '10000', minNotional: '1', market: true }),
  ]
}
