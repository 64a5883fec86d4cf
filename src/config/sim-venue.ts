/**
 * The built-in sim venue's instruments in the config: one `venues[]` entry `{ "type": "sim", "instruments": [...] }`,
 * so a paper user trades the symbols their strategy does rather than the built-in BTC-USD, ETH-USD and AAPL. Each
 * instrument is what a FIX venue's is (instrument-fields.ts) plus `openingPrice`, where the sim's price walk starts
 * (src/venues/sim/prices.ts); the defaults are the built-in instruments' (market orders, post-only and reduce-only on,
 * and a request budget of SIM_RATE_LIMIT_PER_SECOND: the sim takes them all).
 *
 * The list replaces the built-in one: a symbol it does not name is unknown (INSTRUMENT_UNKNOWN), and an account
 * policy naming one is refused at load (policy.ts). Without the entry, or with it and no `instruments`, the sim
 * trades exactly the built-in instruments — and a config without the entry keeps its digest.
 */

import * as v from 'valibot'
import { isMultipleOf, parseDecimal } from '../domain/decimal.ts'
import type { ConfigIssue } from './config-error.ts'
import { SIM_RATE_LIMIT_PER_SECOND } from '../domain/instruments.ts'
import { AMOUNT, INSTRUMENT_FIELDS, integerIn, instrumentIssues, isPositive, ORDER_TYPES, ORDER_TYPES_MESSAGE } from './instrument-fields.ts'

/** The sim venue's name: orders name it (`"venue": "sim"`, the order body's default) and so do instrument keys. */
export const SIM_VENUE_NAME = 'sim'

/** Bound on the sim's instruments: each holds a price walk and a per-symbol lane, and every policy lists them. */
export const SIM_INSTRUMENTS_MAX = 1_000

/**
 * The least `endedOrderRetentionMs`: the gateway re-sends an order it cannot tell was placed for up to a minute after
 * its acceptance (serve's resendAgeMsMax), and the sim must still know the order then, so a re-send of one it took is
 * refused as a duplicate client order id rather than placed a second time.
 */
export const SIM_ENDED_ORDER_RETENTION_MS_MIN = 60_000

/** Bounds of `ordersMax`: each order the sim holds costs memory in serve's own process (paper mode). */
export const SIM_ORDERS_MAX_RANGE = [1_000, 10_000_000] as const

const SIM_INSTRUMENT = v.strictObject({
  ...INSTRUMENT_FIELDS,
  orderTypes: v.optional(v.array(v.picklist(ORDER_TYPES, ORDER_TYPES_MESSAGE)), ['limit', 'market']),
  postOnly: v.optional(v.boolean('expected true or false'), true),
  reduceOnly: v.optional(v.boolean('expected true or false'), true),
  /** The sim takes whatever it is sent: not paced unless set (runtime/send-pacing.ts). */
  rateLimitPerSecond: v.optional(integerIn(1, 1_000_000), SIM_RATE_LIMIT_PER_SECOND),
  /** The sim's reference price at the start of a run, from which its price walk moves; a positive multiple of tickSize. */
  openingPrice: AMOUNT,
})

export const SIM_VENUE = v.strictObject({
  type: v.literal('sim', 'expected "sim"'),
  /** Optional, and only "sim": the built-in venue keeps its name. */
  name: v.optional(v.literal(SIM_VENUE_NAME, `expected "${SIM_VENUE_NAME}" (the built-in sim venue's name)`), SIM_VENUE_NAME),
  /**
   * Bound on the orders the sim holds: open ones, and ended ones younger than `endedOrderRetentionMs`. At it, with no
   * ended order old enough to forget, a place is rejected `venue_order_limit`. Unset: 100000.
   */
  ordersMax: v.optional(
    v.pipe(
      v.number('expected an integer'),
      v.integer('expected an integer'),
      v.minValue(SIM_ORDERS_MAX_RANGE[0], `expected at least ${SIM_ORDERS_MAX_RANGE[0]}`),
      v.maxValue(SIM_ORDERS_MAX_RANGE[1], `expected at most ${SIM_ORDERS_MAX_RANGE[1]}`),
    ),
  ),
  /** How long an ended order stays known to the sim (status, trades, client order ids), in ms. Unset: 300000. */
  endedOrderRetentionMs: v.optional(
    v.pipe(
      v.number('expected an integer'),
      v.integer('expected an integer'),
      v.minValue(SIM_ENDED_ORDER_RETENTION_MS_MIN, `expected at least ${SIM_ENDED_ORDER_RETENTION_MS_MIN} (the gateway re-sends for up to a minute: the sim must still know what it took)`),
      v.maxValue(86_400_000, 'expected at most 86400000 (a day)'),
    ),
  ),
  /** The sim's instruments, replacing the built-in ones; unset: the built-in ones. */
  instruments: v.optional(
    v.pipe(
      v.array(SIM_INSTRUMENT, 'expected a list of instruments'),
      v.minLength(1, 'expected at least one instrument'),
      v.maxLength(SIM_INSTRUMENTS_MAX, `expected at most ${SIM_INSTRUMENTS_MAX} instruments`),
    ),
  ),
})

export type SimVenueConfig = v.InferOutput<typeof SIM_VENUE>
export type SimInstrumentConfig = NonNullable<SimVenueConfig['instruments']>[number]

/** The sim's configured instruments, or undefined when the config leaves them built in. */
export function simInstrumentConfigs(venues: readonly { type: string }[] | undefined): SimInstrumentConfig[] | undefined {
  const entry = (venues ?? []).find((venue): venue is SimVenueConfig => venue.type === 'sim')
  return entry?.instruments
}

/** The sim entry's order store bounds (ordersMax, endedOrderRetentionMs) as SimVenueOptions; unset ones left to the sim's defaults. */
export function simStoreOptions(venues: readonly { type: string }[] | undefined): { ordersMax?: number; endedOrderRetentionMs?: number } {
  const entry = (venues ?? []).find((venue): venue is SimVenueConfig => venue.type === 'sim')
  return {
    ...(entry?.ordersMax === undefined ? {} : { ordersMax: entry.ordersMax }),
    ...(entry?.endedOrderRetentionMs === undefined ? {} : { endedOrderRetentionMs: entry.endedOrderRetentionMs }),
  }
}

/** The sim entry's own rules: the shared instrument checks (instrumentIssues), and an opening price the walk can start from. */
export function simVenueIssues(venue: SimVenueConfig, at: string): ConfigIssue[] {
  const instruments = venue.instruments ?? []
  const issues = instrumentIssues(instruments, at, SIM_VENUE_NAME)
  instruments.forEach((instrument, index) => {
    const where = `${at}.instruments.${index}`
    const { openingPrice, tickSize } = instrument
    if (!isPositive(openingPrice)) issues.push({ path: `${where}.openingPrice`, message: `expected a positive amount, got ${JSON.stringify(openingPrice)}` })
    else if (isPositive(tickSize) && !isMultipleOf(parseDecimal(openingPrice), parseDecimal(tickSize))) {
      issues.push({ path: `${where}.openingPrice`, message: `expected a multiple of tickSize (${tickSize}), got ${JSON.stringify(openingPrice)}` })
    }
  })
  return issues
}
