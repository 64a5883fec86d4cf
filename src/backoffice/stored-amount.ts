/**
 * Amounts read back from the query model. The store writes every amount as formatDecimal's text, and what it writes
 * the back office computed itself: a fill's cash is quantity × price, a balance a sum. Either can have more whole digits
 * than parseDecimal accepts (20: its bound is for input, one parsed amount), so reading with parseDecimal threw on a row
 * the store had just written — a fill of 10 at 99999999999999999999 (prices the venue reports are booked as reported)
 * made every read of the balances, the postings (hence every reconcile run) and the fills throw from then on. This
 * reads any length of whole digits, with the same at most 8 places and the same canonical form.
 */

import { DECIMAL_PLACES, DecimalError, UNIT, type Units } from '../domain/decimal.ts'

const STORED_PATTERN = /^(-)?(\d+)(?:\.(\d{1,8}))?$/

/** An amount the store wrote (formatDecimal's text), whatever its number of whole digits. */
export function parseStoredAmount(text: string): Units {
  const match = STORED_PATTERN.exec(text)
  if (match === null) throw new DecimalError(`expected a stored decimal with at most ${DECIMAL_PLACES} places, got ${JSON.stringify(text)}`)
  const [, sign, whole = '0', fraction = ''] = match
  const units = BigInt(whole) * UNIT + BigInt(fraction.padEnd(DECIMAL_PLACES, '0'))
  return sign === '-' ? -units : units
}
