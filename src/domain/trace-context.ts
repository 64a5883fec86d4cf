/**
 * W3C Trace Context, level 1 (https://www.w3.org/TR/trace-context/): the `traceparent` value
 * `version-traceid-parentid-flags`, lowercase hex: version 2, trace id 32, parent id 16, flags 2 digits.
 *
 * Parsing is strict, as the recommendation asks: uppercase hex, a wrong length, an all-zero trace or parent id, or
 * version `ff` make the value invalid. A version above 00 is read by its version-00 prefix (the first 55 characters),
 * which must then end the value or be followed by `-` (the recommendation's rule for versions a reader does not know).
 * A hand-written scanner, not a regular expression: it runs on every order, cancel and amend.
 *
 * Pure: generating ids needs randomness, which is the HTTP layer's (src/http/trace.ts).
 */

import * as v from 'valibot'
import { assert } from './assert.ts'

export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string
  /** 16 lowercase hex digits, not all zero: the caller's span (parent-id). */
  parentId: string
  /** 2 lowercase hex digits: the trace flags (bit 0: sampled). */
  flags: string
}

/** The length of a version-00 value, and of the prefix read from a higher version. */
export const TRACEPARENT_LENGTH = 55
const TRACE_ID_START = 3
const PARENT_ID_START = 36
const FLAGS_START = 53

/** The value as a TraceContext, or null when it is not a valid `traceparent` (absent, empty, malformed). */
export function parseTraceparent(value: string | null | undefined): TraceContext | null {
  if (!isValidTraceparent(value)) return null
  return { traceId: value.slice(TRACE_ID_START, TRACE_ID_START + 32), parentId: value.slice(PARENT_ID_START, PARENT_ID_START + 16), flags: value.slice(FLAGS_START, FLAGS_START + 2) }
}

/** Whether parseTraceparent would read `value`; allocates nothing (the kernel checks every command's value). */
function isValidTraceparent(value: string | null | undefined): value is string {
  if (value === null || value === undefined || value.length < TRACEPARENT_LENGTH) return false
  if (!isHex(value, 0, 2)) return false
  const first = value.charCodeAt(0)
  const second = value.charCodeAt(1)
  if (first === F && second === F) return false
  const version00 = first === ZERO && second === ZERO
  if (version00 ? value.length !== TRACEPARENT_LENGTH : value.length > TRACEPARENT_LENGTH && value.charCodeAt(TRACEPARENT_LENGTH) !== DASH) return false
  if (value.charCodeAt(2) !== DASH || value.charCodeAt(PARENT_ID_START - 1) !== DASH || value.charCodeAt(FLAGS_START - 1) !== DASH) return false
  if (!isHex(value, TRACE_ID_START, 32) || !isHex(value, PARENT_ID_START, 16) || !isHex(value, FLAGS_START, 2)) return false
  return !isZero(value, TRACE_ID_START, 32) && !isZero(value, PARENT_ID_START, 16)
}

/** The version-00 `traceparent` of a context. */
export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.parentId}-${context.flags}`
}

/** True for a valid version-00 value, exactly as formatTraceparent writes it (what records carry). */
export function isTraceparent00(value: string): boolean {
  return value.length === TRACEPARENT_LENGTH && value.charCodeAt(0) === ZERO && value.charCodeAt(1) === ZERO && isValidTraceparent(value)
}

/** The trace id of a version-00 value (the characters after `00-`); the value must be one (isTraceparent00). */
export function traceIdOf(traceparent: string): string {
  return traceparent.slice(TRACE_ID_START, TRACE_ID_START + 32)
}

/** A recorded `traceparent`: version 00, as egress writes it. */
export const traceparentSchema = v.pipe(v.string(), v.check(isTraceparent00, 'expected a W3C traceparent, version 00, lowercase hex'))

const DASH = 0x2d
const ZERO = 0x30
const F = 0x66

function isHex(value: string, start: number, length: number): boolean {
  for (let index = start; index < start + length; index++) {
    const code = value.charCodeAt(index)
    // 0-9 and a-f only: the recommendation makes uppercase invalid.
    if (!((code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x66))) return false
  }
  return true
}

function isZero(value: string, start: number, length: number): boolean {
  for (let index = start; index < start + length; index++) if (value.charCodeAt(index) !== ZERO) return false
  return true
}

const NO_TRACE: { traceparent?: string } = Object.freeze({})

/** The `traceparent` member a record gets from its command: spread into the event (nothing when the command has none). */
export function traceMemberOf(command: { traceparent?: string }): { traceparent?: string } {
  const traceparent = checkedTraceparent(command)
  return traceparent === undefined ? NO_TRACE : { traceparent }
}

/** The command's `traceparent` for its record (checked, as traceMemberOf's), or undefined when it has none. */
export function checkedTraceparent(command: { traceparent?: string }): string | undefined {
  const traceparent = command.traceparent
  if (traceparent === undefined) return undefined
  // The HTTP layer hands the kernel only values it made (formatTraceparent); a record the decoder would refuse must
  // never reach the log, where it would stop every later replay.
  if (!isTraceparent00(traceparent)) assert(false, `a command's traceparent must be a version-00 W3C value, got ${JSON.stringify(traceparent)}`)
  return traceparent
}
