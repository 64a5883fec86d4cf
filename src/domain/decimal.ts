/**
 * Fixed-point decimals for prices, quantities, notionals and fees. Never floating point (DESIGN §5).
 *
 * Every amount is a bigint scaled by 10^8 ("units"): "1.5" is 150_000_000n. Eight places cover crypto lot sizes and
 * equity ticks alike, and one scale for everything keeps arithmetic and comparison trivial. Decimal strings are the
 * only form that crosses the edges (API, config, log payloads); bigint units are the only form inside.
 */

export const DECIMAL_PLACES = 8
export const UNIT = 10n ** BigInt(DECIMAL_PLACES)

/** A scaled decimal amount (value × 10^8). Aliased for readability; it is a plain bigint. */
export type Units = bigint

export type Rounding = 'down' | 'up' | 'half_even'

const DECIMAL_PATTERN = /^(-)?(\d{1,20})(?:\.(\d{1,8}))?$/
/** What DECIMAL_PATTERN takes, in words, for the messages that refuse a text (a qty of 29 whole digits was told "8 places"). */
export const DECIMAL_TEXT_RULE = `a decimal string with at most 20 whole digits and ${DECIMAL_PLACES} places`

export class DecimalError extends Error {
  override readonly name = 'DecimalError'
}

/** Parses a decimal string exactly; more than 8 places, exponents, signs like "+", or blanks are errors. */
export function parseDecimal(text: string): Units {
  return unitsMatching(DECIMAL_PATTERN, text)
}

/** The same text with any number of whole digits. */
const COMPUTED_PATTERN = /^(-)?(\d+)(?:\.(\d{1,8}))?$/

/**
 * Like parseDecimal, with any number of whole digits: for amounts egress computed itself and wrote as formatDecimal's
 * text (a fill's cash is quantity × price, a balance a sum), which can pass the 20 whole digits parseDecimal bounds
 * input to. Never for input from outside.
 */
export function parseComputedDecimal(text: string): Units {
  return unitsMatching(COMPUTED_PATTERN, text)
}

function unitsMatching(pattern: RegExp, text: string): Units {
  const match = pattern.exec(text)
  if (match === null) {
    const rule = pattern === DECIMAL_PATTERN ? DECIMAL_TEXT_RULE : `a decimal string with at most ${DECIMAL_PLACES} places`
    throw new DecimalError(`expected ${rule}, got ${JSON.stringify(text)}`)
  }
  const [, sign, whole = '0', fraction = ''] = match
  // The digits of whole and fraction side by side are the units: one bigint made, none for the arithmetic.
  const units = BigInt(whole + fraction.padEnd(DECIMAL_PLACES, '0'))
  return sign === '-' ? -units : units
}

/** Whether parseDecimal reads `text`, without parsing it (a schema's check, before its transform parses). */
export function isDecimalText(text: string): boolean {
  return DECIMAL_PATTERN.test(text)
}

/**
 * Amount text as egress takes it from outside — an HTTP body's qty and price, the config file's amounts, none of which
 * may be negative: DECIMAL_PATTERN without a sign and without a leading zero before another digit ("0", "0.5" and
 * "100" are taken; "007.5", "00100" and "-5" are not). The rule counts whole digits, and "007.5" spent three of the
 * 20 on a number with one; JSON refuses such a number (RFC 8259) and the replication routes such an integer
 * (src/http/routes/replication.ts). Only at the edges: what egress reads back — the log, snapshots, the back office
 * store, a recorded order body the kernel re-decides — keeps parseDecimal and DECIMAL_PATTERN, and venue messages
 * their own parsers (FIX allows leading zeros in a float field), so nothing an older build or a venue wrote is refused.
 */
export const NON_NEGATIVE_INPUT_DECIMAL_PATTERN = /^(?:0|[1-9]\d{0,19})(?:\.\d{1,8})?$/
/** What NON_NEGATIVE_INPUT_DECIMAL_PATTERN takes, in words (with a sign's refusal said by the schema using it). */
export const INPUT_DECIMAL_TEXT_RULE = `${DECIMAL_TEXT_RULE}, without a leading zero`

/** Whether `text` is an amount egress takes from outside (NON_NEGATIVE_INPUT_DECIMAL_PATTERN): a schema's check, before it parses. */
export function isInputDecimalText(text: string): boolean {
  return NON_NEGATIVE_INPUT_DECIMAL_PATTERN.test(text)
}

/** Like parseDecimal but returns null instead of throwing, for validators. */
export function tryParseDecimal(text: string): Units | null {
  return DECIMAL_PATTERN.test(text) ? parseDecimal(text) : null
}

/**
 * Canonical texts of amounts formatted lately. Amounts repeat from order to order — instrument limits, prices on the
 * tick grid, lot quantities — and every guard's inputs and every log record format theirs, so a hit spares the bigint
 * → digits conversion (~170 ns against ~10 ns in a micro-benchmark; in bench:http's CPU profile formatDecimal fell
 * from 7.3 % to 0.9 % of serve's samples at full load). Bounded: emptied when it reaches
 * FORMATTED_TEXTS_MAX, so amounts that never repeat (running balances) cost one more Map write each, never memory.
 */
const formattedTexts = new Map<Units, string>()
const FORMATTED_TEXTS_MAX = 4096

/** Canonical text: no trailing zeros, no trailing dot, "-0" never appears. */
export function formatDecimal(units: Units): string {
  const known = formattedTexts.get(units)
  if (known !== undefined) return known
  const text = decimalText(units)
  if (formattedTexts.size >= FORMATTED_TEXTS_MAX) formattedTexts.clear()
  formattedTexts.set(units, text)
  return text
}

function decimalText(units: Units): string {
  const negative = units < 0n
  // One bigint → digits conversion and string slicing (no bigint division).
  const digits = (negative ? -units : units).toString()
  const wholeLength = digits.length - DECIMAL_PLACES
  const whole = wholeLength > 0 ? digits.slice(0, wholeLength) : '0'
  const fractionDigits = wholeLength > 0 ? digits.slice(wholeLength) : digits.padStart(DECIMAL_PLACES, '0')
  let end = fractionDigits.length
  while (end > 0 && fractionDigits.charCodeAt(end - 1) === 48) end--
  const text = end > 0 ? `${whole}.${fractionDigits.slice(0, end)}` : whole
  return negative ? `-${text}` : text
}

/**
 * BigInt(n) for a small whole number (a bps rate, a band's 10 000 + bps): JavaScriptCore makes a heap bigint for
 * every BigInt() call and every non-zero result, and the guards multiply by the same few rates for every order, so
 * the ones up to SMALL_BIGINTS_MAX are made once and kept (bounded by that index range). Others are made per call.
 */
export function smallBigInt(n: number): bigint {
  if (!Number.isInteger(n) || n < 0 || n > SMALL_BIGINTS_MAX) return BigInt(n)
  const known = smallBigInts[n]
  if (known !== undefined) return known
  const made = BigInt(n)
  smallBigInts[n] = made
  return made
}

const SMALL_BIGINTS_MAX = 20_000
const smallBigInts: (bigint | undefined)[] = []

/** a × b, both in units, rounded to units as asked. */
export function mulUnits(a: Units, b: Units, rounding: Rounding): Units {
  return divRound(a * b, UNIT, rounding)
}

/**
 * a × b in units rounded two ways, from one product and one division: the same as mulUnits(a, b, first) and
 * mulUnits(a, b, second). A fill books its cash rounded against the account and its notional half-even; bigint
 * division is the costly part of booking a fill in replay.
 */
export function mulUnitsTwoWays(a: Units, b: Units, first: Rounding, second: Rounding): [Units, Units] {
  const product = a * b
  const quotient = product / UNIT // truncates toward zero
  const remainder = product % UNIT
  return [roundQuotient(product, UNIT, quotient, remainder, first), roundQuotient(product, UNIT, quotient, remainder, second)]
}

/** a ÷ b in units, rounded as asked. */
export function divUnits(a: Units, b: Units, rounding: Rounding): Units {
  if (b === 0n) throw new DecimalError('division by zero')
  return divRound(a * UNIT, b, rounding)
}

/** Rounds `value` to a multiple of `step` (a tick or a lot). */
export function roundToStep(value: Units, step: Units, rounding: Rounding): Units {
  if (step <= 0n) throw new DecimalError(`step must be positive, got ${formatDecimal(step)}`)
  // Already on the step (a price on the tick, a quantity in whole lots: most orders): a remainder, no division.
  if (value % step === 0n) return value
  return divRound(value, step, rounding) * step
}

export function isMultipleOf(value: Units, step: Units): boolean {
  return step > 0n && value % step === 0n
}

export function minUnits(a: Units, b: Units): Units {
  return a < b ? a : b
}

export function maxUnits(a: Units, b: Units): Units {
  return a > b ? a : b
}

/** Integer division of numerator by denominator (> 0 after sign normalisation) with an explicit rounding mode. */
function divRound(numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  if (denominator < 0n) return divRound(-numerator, -denominator, rounding)
  const quotient = numerator / denominator // truncates toward zero
  return roundQuotient(numerator, denominator, quotient, numerator % denominator, rounding)
}

/** numerator ÷ denominator (> 0) rounded as asked, given the truncated quotient and the remainder. */
function roundQuotient(numerator: bigint, denominator: bigint, quotient: bigint, remainder: bigint, rounding: Rounding): bigint {
  if (remainder === 0n) return quotient
  const floor = numerator < 0n ? quotient - 1n : quotient
  switch (rounding) {
    case 'down':
      return floor
    case 'up':
      return floor + 1n
    case 'half_even': {
      // numerator - floor × denominator, the distance above the floor: the remainder, or remainder + denominator
      // below zero (where the floor is one under the truncated quotient).
      const twice = 2n * (numerator < 0n ? remainder + denominator : remainder)
      if (twice < denominator) return floor
      if (twice > denominator) return floor + 1n
      return floor % 2n === 0n ? floor : floor + 1n
    }
  }
}
