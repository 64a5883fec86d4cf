/**
 * Records of scalars in the compact binary format (binary-layout.ts): objects of string keys to strings, numbers,
 * booleans and null — a guard's inputs, which were most of an order's log bytes as JSON text. Written in key order,
 * keys and string values as words, each value after a tag byte; read back into the same object.
 */

import { AssertionError } from '../assert.ts'
import type { Reader } from './binary-cursor.ts'
import { memberOrderOfObject } from './member-order.ts'
import type { PayloadWriter } from './payload-writer.ts'
import { SchemaError } from './schema-error.ts'

/** The tag byte in front of each value. */
const TAG_NULL = 0
const TAG_FALSE = 1
const TAG_TRUE = 2
const TAG_WORD = 3
const TAG_NATURAL = 4
const TAG_NEGATIVE = 5
const TAG_FLOAT64 = 6

/**
 * Keys no record of scalars holds: `__proto__` cannot be an own member made by assignment (it sets the prototype),
 * and valibot's record schema drops all three, so the validating decoder would read another object than the trusted
 * one. Guard inputs are named in code; one of these is a bug.
 */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * Writes `value` (checked: a plain object of scalars; anything else is a bug in the code that built the event, an
 * AssertionError naming record type `where` and member `path`).
 */
export function writeScalarRecord(writer: PayloadWriter, value: unknown, where: string, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw mismatch(where, path, 'an object of scalars', value)
  const record = value as Record<string, unknown>
  const order = memberOrderOfObject(record)
  if (order === null) {
    writer.varint(0)
    return
  }
  const sorted = order.sorted
  for (let index = 0; index < sorted.length; index++) {
    const key = sorted[index] as string
    if (UNSAFE_KEYS.has(key)) throw new AssertionError(`${where}: member ${path} has the key ${key}, which no record can hold`)
  }
  // A member whose value is undefined is left out, as JSON (the plain format's guard inputs) leaves it out.
  let count = 0
  for (let index = 0; index < sorted.length; index++) if (record[sorted[index] as string] !== undefined) count++
  writer.varint(count)
  for (let index = 0; index < sorted.length; index++) {
    const key = sorted[index] as string
    const item = record[key]
    if (item === undefined) continue
    writer.word(key)
    writeScalar(writer, item, where, path, key)
  }
}

/** The member's path (`path`.`key`) is only put together for an error: this runs for every input of every guard. */
function writeScalar(writer: PayloadWriter, value: unknown, where: string, path: string, key: string): void {
  switch (typeof value) {
    case 'string':
      writer.byte(TAG_WORD)
      writer.word(value)
      return
    case 'boolean':
      writer.byte(value ? TAG_TRUE : TAG_FALSE)
      return
    case 'number':
      if (Number.isSafeInteger(value)) {
        // -0 is a safe integer ≥ 0: written as 0, as JSON writes it.
        writer.byte(value >= 0 ? TAG_NATURAL : TAG_NEGATIVE)
        writer.varint(value >= 0 ? value : -value)
        return
      }
      if (!Number.isFinite(value)) throw new AssertionError(`${where}: member ${path}.${key} is ${value}; a record holds only finite numbers`)
      writer.byte(TAG_FLOAT64)
      writer.float64(value)
      return
    case 'object':
      if (value === null) {
        writer.byte(TAG_NULL)
        return
      }
  }
  throw mismatch(where, `${path}.${key}`, 'a string, a number, a boolean or null', value)
}

function mismatch(where: string, path: string, expected: string, value: unknown): AssertionError {
  return new AssertionError(`${where}: member ${path} must be ${expected}, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`)
}

/**
 * Reads a record of scalars. `validate` (the input form) also refuses what the writer never makes: a float64 holding a
 * safe integer, a non-finite one, a negative zero; keys out of order or repeated and the unsafe keys are refused
 * in both forms (the object made would not be the one written).
 */
export function readScalarRecord(reader: Reader, validate: boolean): Record<string, unknown> {
  const count = reader.varint()
  reader.need(count * 2) // a key and a tag at least: a damaged count cannot loop past the payload
  const record: Record<string, unknown> = {}
  let previous = ''
  for (let index = 0; index < count; index++) {
    const at = reader.position
    const key = validate ? reader.word() : reader.trustedWord()
    if ((index > 0 && !(key > previous)) || UNSAFE_KEYS.has(key)) {
      throw new SchemaError('invalid_payload', `binary payload has a record key ${JSON.stringify(key.slice(0, 40))} out of order or not allowed at ${at}`)
    }
    previous = key
    record[key] = readScalar(reader, validate)
  }
  return record
}

function readScalar(reader: Reader, validate: boolean): unknown {
  const tag = reader.byte()
  switch (tag) {
    case TAG_NULL:
      return null
    case TAG_FALSE:
      return false
    case TAG_TRUE:
      return true
    case TAG_WORD:
      return validate ? reader.word() : reader.trustedWord()
    case TAG_NATURAL:
      return reader.varint()
    case TAG_NEGATIVE: {
      const magnitude = reader.varint()
      if (magnitude === 0 && validate) throw new SchemaError('invalid_payload', `binary payload has a negative zero at ${reader.position - 1}`)
      return -magnitude
    }
    case TAG_FLOAT64: {
      const value = reader.float64()
      if (validate && (Number.isSafeInteger(value) || !Number.isFinite(value))) {
        throw new SchemaError('invalid_payload', `binary payload has the number ${value} not in the form the writer makes at ${reader.position - 8}`)
      }
      return value
    }
  }
  throw new SchemaError('invalid_payload', `binary payload has value tag ${tag} at ${reader.position - 1}`)
}

/** Moves past a record of scalars (bounds checked). */
export function skipScalarRecord(reader: Reader): void {
  readScalarRecord(reader, false)
}
