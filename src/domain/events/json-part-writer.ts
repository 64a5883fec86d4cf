/**
 * The JSON parts of a binary payload (layout kind `json`: guard inputs, the kernel config's free-form members) written
 * straight into the payload buffer: the same bytes as `TextEncoder.encode(canonicalJson(value))` with its varint
 * length in front, without building the canonical copy, the text or the encoded array first.
 *
 * Same output as canonicalJson (src/domain/canonical-json.ts), case by case: keys sorted by code unit, undefined
 * members left out, a sparse array's holes as null, Units as their decimal string, numbers as JSON.stringify writes
 * them (ToString for a finite number) and the same AssertionError for a non-finite number or a value JSON cannot
 * hold. What canonicalJson does through JS object semantics rather than its own code takes canonicalJson itself: a Map
 * or a Set, and an object with a key that starts with a digit (as every array index does) or is `__proto__` (a
 * canonical copy lists index keys first, in numeric order, and drops `__proto__`). The key order and each key's
 * escaped text are remembered per key sequence (member-order.ts). A string takes JSON.stringify unless it is printable
 * ASCII without a quote or a backslash, which JSON writes as it is.
 */

import { assert } from '../assert.ts'
import { canonicalJson } from '../canonical-json.ts'
import { formatDecimal } from '../decimal.ts'
import { isMapLike } from '../map-like.ts'
import { isSetLike } from '../small-set.ts'
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-bytes.ts'
import { memberOrderOfObject } from './member-order.ts'
import type { PayloadWriter } from './payload-writer.ts'

/** Integers below this in magnitude are written by PayloadWriter.integer (int32 arithmetic). */
const SMALL_INTEGER_LIMIT = 2 ** 31

/** `value` as a JSON part: varint byte length, then its canonical JSON text in UTF-8. */
export function writeJsonPart(writer: PayloadWriter, value: unknown): void {
  const lengthAt = writer.beginVarintPrefixed()
  writeJson(writer, value)
  writer.endVarintPrefixed(lengthAt)
}

function writeJson(writer: PayloadWriter, value: unknown): void {
  if (value === null) return writer.utf8('null')
  switch (typeof value) {
    case 'string':
      return writeJsonString(writer, value)
    case 'boolean':
      return writer.utf8(value ? 'true' : 'false')
    case 'number':
      assert(Number.isFinite(value), () => `canonical JSON holds only finite numbers, got ${value}`)
      // JSON.stringify writes a finite number as ToString does (-0 as 0); small integers digit by digit.
      return Number.isInteger(value) && value > -SMALL_INTEGER_LIMIT && value < SMALL_INTEGER_LIMIT ? writer.integer(value) : writer.utf8(String(value))
    case 'bigint':
      return writeJsonString(writer, formatDecimal(value))
    case 'object':
      if (Array.isArray(value)) return writeJsonArray(writer, value)
      if (isMapLike(value) || isSetLike(value)) return writer.utf8(canonicalJson(value))
      return writeJsonObject(writer, value as Record<string, unknown>)
    default:
      assert(false, `canonical JSON cannot hold a ${typeof value}`)
  }
}

function writeJsonArray(writer: PayloadWriter, list: readonly unknown[]): void {
  writer.byte(OPEN_BRACKET)
  for (let index = 0; index < list.length; index++) {
    if (index > 0) writer.byte(COMMA)
    const item = list[index]
    // canonicalJson maps the array: a hole stays a hole (JSON null); an undefined item is refused.
    if (item === undefined && !(index in list)) writer.utf8('null')
    else writeJson(writer, item)
  }
  writer.byte(CLOSE_BRACKET)
}

function writeJsonObject(writer: PayloadWriter, object: Record<string, unknown>): void {
  const order = memberOrderOfObject(object)
  if (order === null) return writer.utf8('{}')
  if (!order.plain) return writer.utf8(canonicalJson(object))
  const { heads, sorted } = order
  writer.byte(OPEN_BRACE)
  let written = 0
  for (let index = 0; index < sorted.length; index++) {
    const member = object[sorted[index] as string]
    if (member === undefined) continue
    if (written++ > 0) writer.byte(COMMA)
    writer.raw(heads[index] as Uint8Array)
    writeJson(writer, member)
  }
  writer.byte(CLOSE_BRACE)
}

/** A JSON string literal: printable ASCII without a quote or backslash as it is, anything else as JSON.stringify writes it. */
function writeJsonString(writer: PayloadWriter, text: string): void {
  const length = text.length
  writer.reserve(length + 2)
  const bytes = writer.bytes
  const start = writer.position
  bytes[start] = QUOTE
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index)
    if (code < 0x20 || code > 0x7f || code === QUOTE || code === BACKSLASH) return writer.utf8(JSON.stringify(text))
    bytes[start + 1 + index] = code
  }
  bytes[start + 1 + length] = QUOTE
  writer.position = start + length + 2
}
