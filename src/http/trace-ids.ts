/**
 * Random trace and span ids for egress's spans (trace.ts): lowercase hex, never all zero (the recommendation makes an
 * all-zero id invalid). Every traced request draws one: a new trace's whole `traceparent`, or a span id in a caller's
 * trace.
 *
 * The bytes come from crypto.getRandomValues in pools, and each pool is written out once as text: one version-00,
 * sampled `traceparent` (`00-<trace id>-<span id>-01`) per 24 random bytes. A new trace is then one slice of that text
 * and a span id another: built per request, a trace was two id slices, a format argument and three strings of the
 * template joining them (per digit pair before that, a string object each).
 */

import { TRACEPARENT_LENGTH } from '../domain/trace-context.ts'

export interface RandomHex {
  /** A new trace: a version-00 `traceparent`, sampled, with a trace id and a span id of its own. */
  newTraceparent(): string
  /** A span id (16 digits) for egress's span in a caller's trace. */
  spanId(): string
}

/** A trace id and a span id per entry. */
const ENTRY_BYTES = 24
const TRACE_ID_BYTES = 16
/** Where an entry's span id starts in its text (`00-` and the trace id and `-` before it). */
const SPAN_ID_START = 36
const SPAN_ID_DIGITS = 16
const ENTRIES_PER_POOL = 256

const HEX_DIGITS = new TextEncoder().encode('0123456789abcdef')
const DASH = 0x2d
const ZERO = 0x30
const ONE = 0x31

/**
 * Ids from crypto.getRandomValues (`fill`: a spec's own bytes), `entriesPerPool` requests' worth drawn and written out
 * as text at a time.
 */
export function cryptoRandomHex(entriesPerPool: number = ENTRIES_PER_POOL, fill: (pool: Uint8Array) => void = fillRandom): RandomHex {
  const pool = new Uint8Array(entriesPerPool * ENTRY_BYTES)
  const written = new Uint8Array(entriesPerPool * TRACEPARENT_LENGTH)
  let text = ''
  let next = entriesPerPool
  /** Where the next usable entry starts in `text`: one whose ids are not all zero. */
  const nextEntry = (): number => {
    for (;;) {
      if (next === entriesPerPool) {
        fill(pool)
        text = writeTraceparents(pool, written)
        next = 0
      }
      const entry = next++
      const start = entry * ENTRY_BYTES
      if (!allZero(pool, start, TRACE_ID_BYTES) && !allZero(pool, start + TRACE_ID_BYTES, ENTRY_BYTES - TRACE_ID_BYTES)) return entry * TRACEPARENT_LENGTH
    }
  }
  return {
    newTraceparent() {
      const start = nextEntry()
      return text.slice(start, start + TRACEPARENT_LENGTH)
    },
    spanId() {
      const start = nextEntry() + SPAN_ID_START
      return text.slice(start, start + SPAN_ID_DIGITS)
    },
  }
}

function fillRandom(pool: Uint8Array): void {
  crypto.getRandomValues(pool)
}

/** Each 24 bytes of `pool` as a sampled version-00 `traceparent`, one after another in `into`, as one string. */
function writeTraceparents(pool: Uint8Array, into: Uint8Array): string {
  let at = 0
  for (let entry = 0; entry < pool.length; entry += ENTRY_BYTES) {
    into[at++] = ZERO
    into[at++] = ZERO
    into[at++] = DASH
    at = writeHex(pool, entry, TRACE_ID_BYTES, into, at)
    into[at++] = DASH
    at = writeHex(pool, entry + TRACE_ID_BYTES, ENTRY_BYTES - TRACE_ID_BYTES, into, at)
    into[at++] = DASH
    into[at++] = ZERO
    into[at++] = ONE
  }
  return Buffer.from(into.buffer, into.byteOffset, at).toString('latin1')
}

function writeHex(bytes: Uint8Array, start: number, count: number, into: Uint8Array, at: number): number {
  for (let index = start; index < start + count; index++) {
    const byte = bytes[index] as number
    into[at++] = HEX_DIGITS[byte >> 4] as number
    into[at++] = HEX_DIGITS[byte & 0x0f] as number
  }
  return at
}

function allZero(pool: Uint8Array, start: number, bytes: number): boolean {
  for (let index = start; index < start + bytes; index++) if (pool[index] !== 0) return false
  return true
}
