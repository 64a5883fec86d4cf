/**
 * A field egress refuses an inbound message over, and what the session Reject says of it: RefTagID (371) names the
 * tag, SessionRejectReason (373) what is wrong with it, in FIX's own terms — 1 a Required field missing, 5 a value
 * outside the field's enumeration or range ("Value is incorrect (out of range) for this tag": an ExecType FIX does not
 * define, a quantity of 0, one with more decimal places than egress holds), 6 a value not in the field's data format (a
 * letter where a float goes, a TransactTime that is no UTCTimestamp). Every Reject naming a tag said 6 before, so a
 * venue told of an ExecType it mistyped was pointed at a formatting fault.
 */

import { SessionRejectReason, type SessionRejectReasonCode } from './tags.ts'

/** The field a session Reject names, RefTagID (371), and why, SessionRejectReason (373). */
export interface RefusedField {
  tag: number
  reason: SessionRejectReasonCode
}

export interface Unreadable extends RefusedField {
  /** What was wrong and what was expected: the Reject's Text and the log line. */
  invalid: string
}

/** A field egress needs absent (FIX Required, or read where egress has nothing to stand in): 373=1. */
export function missingField(tag: number, invalid: string): Unreadable {
  return { invalid, tag, reason: SessionRejectReason.requiredTagMissing }
}

/** A value the field's enumeration or range does not hold: 373=5. */
export function valueOutOfRange(tag: number, invalid: string): Unreadable {
  return { invalid, tag, reason: SessionRejectReason.valueIncorrect }
}

/** A value not in the field's data format: 373=6. */
export function badFormat(tag: number, invalid: string): Unreadable {
  return { invalid, tag, reason: SessionRejectReason.incorrectDataFormat }
}

/**
 * A quantity, price or amount egress cannot take: absent is 1, not a FIX float (digits, an optional point and sign) 6,
 * and a float it cannot take (0 or below where it must be positive, more than 8 decimal places, past what a record
 * holds) 5.
 */
export function unreadableDecimal(tag: number, text: string | undefined, invalid: string): Unreadable {
  if (text === undefined) return missingField(tag, invalid)
  return FIX_FLOAT.test(text) ? valueOutOfRange(tag, invalid) : badFormat(tag, invalid)
}

/** FIX's float: "digits with optional decimal point and sign character". */
const FIX_FLOAT = /^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/
