/**
 * What every venue's instruments in the config share (a FIX venue's, src/config/venues.ts, and the sim's,
 * src/config/sim-venue.ts): the fields of the kernel's instrument (src/domain/instruments.ts) as config values, and the
 * checks between them a per-field schema cannot state.
 */

import * as v from 'valibot'
import { NON_NEGATIVE_INPUT_DECIMAL_PATTERN, parseDecimal } from '../domain/decimal.ts'
import type { ConfigIssue } from './config-error.ts'

const MESSAGE_ID = 'expected an id of 1-64 characters [A-Za-z0-9._-], starting with a letter or digit'
/**
 * Venue names and symbols: no `#` and no `:`. A flatten's closes are keyed `flatten:<id>:<venue>:<symbol>`, those past
 * an instrument's first with `#<n>` added (kernel flatten.ts): a symbol `X#2` beside `X` would give two closes one key,
 * and the second would not be sent (specs/config/venues.test.ts).
 */
export const ID = v.pipe(v.string(MESSAGE_ID), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, MESSAGE_ID))
const MESSAGE_AMOUNT = 'expected a non-negative decimal string with at most 8 places and no leading zero, like "0.01" or "100"'
export const AMOUNT = v.pipe(v.string(MESSAGE_AMOUNT), v.regex(NON_NEGATIVE_INPUT_DECIMAL_PATTERN, MESSAGE_AMOUNT))

export function integerIn(min: number, max: number) {
  const message = `expected an integer between ${min} and ${max}`
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message))
}

export const ORDER_TYPES = ['limit', 'market'] as const
const TIME_IN_FORCE = ['GTC', 'IOC', 'FOK', 'DAY'] as const
export const ORDER_TYPES_MESSAGE = 'expected "limit" or "market"'

/**
 * The fields every venue's instruments share (a FIX venue's and the sim's): what the kernel's instrument holds
 * (src/domain/instruments.ts). Each kind adds its own price field and may change a default (sim-venue.ts).
 */
export const INSTRUMENT_FIELDS = {
  symbol: ID,
  baseAsset: v.pipe(v.string(), v.regex(/^[A-Z0-9]{2,12}$/, 'expected an asset code of 2-12 characters [A-Z0-9]')),
  quoteAsset: v.pipe(v.string(), v.regex(/^[A-Z0-9]{2,12}$/, 'expected an asset code of 2-12 characters [A-Z0-9]')),
  tickSize: AMOUNT,
  lotSize: AMOUNT,
  minQty: AMOUNT,
  maxQty: AMOUNT,
  minNotional: v.optional(AMOUNT, '0'),
  /** Limit prices further than this from the reference price are fat-finger rejects. */
  priceBandBps: v.optional(integerIn(1, 10_000), 500),
  orderTypes: v.optional(v.array(v.picklist(ORDER_TYPES, ORDER_TYPES_MESSAGE)), ['limit']),
  timeInForce: v.optional(v.array(v.picklist(TIME_IN_FORCE, 'expected "GTC", "IOC", "FOK" or "DAY"')), ['GTC', 'IOC', 'FOK', 'DAY']),
  postOnly: v.optional(v.boolean('expected true or false'), false),
  reduceOnly: v.optional(v.boolean('expected true or false'), false),
  /** The venue's request budget for this instrument; the runtime paces sends with it. */
  rateLimitPerSecond: v.optional(integerIn(1, 1_000_000), 50),
  /**
   * The book's thin-touch limit: visible size (base units) at the side an aggressive order takes below which it is
   * refused (DATA_THIN_BOOK). Unset: no such rule, and not in the digest.
   */
  touchQtyMin: v.optional(AMOUNT),
}

/** What the shared checks read of one configured instrument. */
interface InstrumentAmounts {
  symbol: string
  tickSize: string
  lotSize: string
  minQty: string
  maxQty: string
  touchQtyMin?: string | undefined
  orderTypes: readonly string[]
  timeInForce: readonly string[]
}

/**
 * Symbols unique on the venue; tick, lot and the quantity bounds positive, maxQty ≥ minQty; a thin-touch limit, when
 * set, positive; at least one order type and time in force. While the last three were the sim's checks only, a FIX venue's
 * instrument with minQty above maxQty, or no order type, loaded and then refused every order (QTY_ABOVE_MAX,
 * ORDER_TYPE_UNSUPPORTED) at run time.
 */
export function instrumentIssues(instruments: readonly InstrumentAmounts[], at: string, venue: string): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const symbols = new Set<string>()
  instruments.forEach((instrument, index) => {
    const where = `${at}.instruments.${index}`
    if (symbols.has(instrument.symbol)) issues.push({ path: `${where}.symbol`, message: `duplicate symbol "${instrument.symbol}" on venue "${venue}"` })
    symbols.add(instrument.symbol)
    for (const field of ['tickSize', 'lotSize', 'minQty', 'maxQty'] as const) {
      if (!isPositive(instrument[field])) issues.push({ path: `${where}.${field}`, message: `expected a positive amount, got ${JSON.stringify(instrument[field])}` })
    }
    if (isPositive(instrument.minQty) && parseDecimal(instrument.maxQty) < parseDecimal(instrument.minQty)) {
      issues.push({ path: `${where}.maxQty`, message: `must be ≥ minQty (${instrument.minQty}), got ${JSON.stringify(instrument.maxQty)}` })
    }
    if (instrument.touchQtyMin !== undefined && !isPositive(instrument.touchQtyMin)) {
      issues.push({ path: `${where}.touchQtyMin`, message: `expected a positive amount, got ${JSON.stringify(instrument.touchQtyMin)}` })
    }
    if (instrument.orderTypes.length === 0) issues.push({ path: `${where}.orderTypes`, message: 'expected at least one order type: an instrument that takes none can never be traded' })
    if (instrument.timeInForce.length === 0) issues.push({ path: `${where}.timeInForce`, message: 'expected at least one time in force: an instrument that takes none can never be traded' })
  })
  return issues
}

/** A decimal string the schema took (digits, an optional point) that is not zero. */
export function isPositive(amount: string): boolean {
  return /[1-9]/.test(amount)
}
