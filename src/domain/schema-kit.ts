/**
 * Shared valibot building blocks. Amounts travel as canonical decimal strings and come out as bigint Units, so a
 * schema both validates a payload and converts it to the in-memory form (and canonical-json.ts converts back).
 */

import * as v from 'valibot'
import { DECIMAL_TEXT_RULE, INPUT_DECIMAL_TEXT_RULE, isDecimalText, isInputDecimalText, parseDecimal } from './decimal.ts'

/** A decimal string → Units (bigint). */
export const unitsSchema = v.pipe(
  v.string(),
  v.check(isDecimalText, `expected ${DECIMAL_TEXT_RULE}`),
  v.transform(parseDecimal),
)

export const positiveUnitsSchema = v.pipe(unitsSchema, v.check((units) => units > 0n, 'expected a positive amount'))

export const nonNegativeUnitsSchema = v.pipe(unitsSchema, v.check((units) => units >= 0n, 'expected a non-negative amount'))

/**
 * A positive amount from outside (an HTTP body's qty or price): as positiveUnitsSchema, and without a leading zero
 * (decimal.ts isInputDecimalText). Records keep the schemas above, so a log is read as it was written.
 */
export const positiveInputUnitsSchema = v.pipe(
  v.string(),
  v.check(isInputDecimalText, `expected ${INPUT_DECIMAL_TEXT_RULE}`),
  v.transform(parseDecimal),
  v.check((units) => units > 0n, 'expected a positive amount'),
)

/** Milliseconds since the Unix epoch (or a duration): a non-negative safe integer. */
export const msSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(0))

/**
 * The longest time-to-live an order may carry (ttl_ms): 24 hours. A bound, not a policy: an order meant to live longer
 * is a GTC order without one, and the bound keeps acceptedAt + ttl far inside a safe integer.
 */
export const TTL_MS_MAX = 24 * 60 * 60 * 1000

/** An order's time-to-live in ms: a positive integer up to TTL_MS_MAX. */
export const ttlMsSchema = v.pipe(
  v.number('expected a whole number of milliseconds'),
  v.safeInteger('expected a whole number of milliseconds'),
  v.minValue(1, 'expected a positive number of milliseconds'),
  v.maxValue(TTL_MS_MAX, `expected at most ${TTL_MS_MAX} ms (24 h)`),
)

export const countSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(0))

export const bpsSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(100_000))

/** Identifiers: 1–128 printable ASCII characters without spaces. */
export const idSchema = v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,128}$/, 'expected 1–128 printable ASCII characters'))

export const sideSchema = v.picklist(['buy', 'sell'])
export const orderTypeSchema = v.picklist(['limit', 'market'])
export const tifSchema = v.picklist(['GTC', 'IOC', 'FOK', 'DAY'])
