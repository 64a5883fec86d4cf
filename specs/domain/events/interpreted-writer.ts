/**
 * The interpreted payload writer as it was before the writers were compiled per record type (src/domain/events
 * binary-writer.ts as of d76ef13), kept as the reference the compiled writers are checked against byte for byte and
 * error for error (compiled-writer.test.ts). It walks the layout tree per value and writes JSON parts through
 * canonicalJson + TextEncoder. The compact format's kinds (words, records of scalars, varint object lengths) were
 * added with it, written from binary-layout.ts's description rather than from the compiled writer's code: a word by
 * searching the vocabulary, a record's keys by Array.prototype.sort, an object's members into a scratch writer first.
 */

import { AssertionError } from '../../../src/domain/assert.ts'
import { canonicalJson } from '../../../src/domain/canonical-json.ts'
import { formatDecimal, tryParseDecimal } from '../../../src/domain/decimal.ts'
import { UNITS_VARINT_LIMIT, type Layout, type LayoutField } from '../../../src/domain/events/binary-layout.ts'
import { VOCABULARY } from '../../../src/domain/events/vocabulary.ts'

const SCRATCH_BYTES_INITIAL = 4096
const encoder = new TextEncoder()

class Writer {
  bytes = new Uint8Array(SCRATCH_BYTES_INITIAL)
  view = new DataView(this.bytes.buffer)
  position = 0

  reserve(count: number): void {
    const needed = this.position + count
    if (needed <= this.bytes.length) return
    let size = this.bytes.length * 2
    while (size < needed) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.bytes.subarray(0, this.position))
    this.bytes = grown
    this.view = new DataView(grown.buffer)
  }

  byte(value: number): void {
    this.reserve(1)
    this.bytes[this.position++] = value
  }

  /** A non-negative safe integer, 7 bits per byte, low bits first. */
  varint(value: number): void {
    this.reserve(8)
    let rest = value
    while (rest >= 0x80) {
      this.bytes[this.position++] = (rest % 0x80) | 0x80
      rest = Math.floor(rest / 0x80)
    }
    this.bytes[this.position++] = rest
  }

  /**
   * -0 is written as 0: they are equal (===), canonical JSON (version 1, and the command record a standby decides
   * from) writes both as `0`, so a standby deciding the same command must get the same bytes whichever it holds.
   */
  float64(value: number): void {
    this.reserve(8)
    this.view.setFloat64(this.position, value === 0 ? 0 : value, true)
    this.position += 8
  }

  string(value: string): void {
    const length = value.length
    // ASCII (every id, code and decimal the kernel writes) goes straight in; anything else through the encoder.
    if (length < 0x80) {
      this.reserve(1 + length)
      const start = this.position + 1
      let index = 0
      for (; index < length; index++) {
        const code = value.charCodeAt(index)
        if (code >= 0x80) break
        this.bytes[start + index] = code
      }
      if (index === length) {
        this.bytes[this.position] = length
        this.position = start + length
        return
      }
    }
    // UTF-8 cannot hold a lone surrogate (the encoder would write U+FFFD and the log would differ from the state):
    // commands are made well-formed before the kernel decides (src/domain/well-formed.ts), so this is a bug.
    if (!value.isWellFormed()) throw new AssertionError('a string with a lone surrogate cannot be logged: make commands well-formed before deciding')
    const encoded = encoder.encode(value)
    this.varint(encoded.length)
    this.reserve(encoded.length)
    this.bytes.set(encoded, this.position)
    this.position += encoded.length
  }
}

let writer = new Writer()

/** The body's fields in layout order, as a fresh payload. */
export function writeRecordInterpreted(fields: readonly LayoutField[], body: Record<string, unknown>, where: string): Uint8Array {
  writer.position = 0
  writeFields(fields, body, where)
  return writer.bytes.slice(0, writer.position)
}

function writeFields(fields: readonly LayoutField[], body: Record<string, unknown>, where: string): void {
  for (const field of fields) writeValue(field.layout, body[field.key], where, field.key)
}

function writeValue(layout: Layout, value: unknown, where: string, path: string): void {
  switch (layout.kind) {
    case 'string':
      if (typeof value !== 'string') throw mismatch(where, path, 'a string', value)
      writer.string(value)
      return
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw mismatch(where, path, 'a finite number', value)
      writer.float64(value)
      return
    case 'boolean':
      if (typeof value !== 'boolean') throw mismatch(where, path, 'a boolean', value)
      writer.byte(value ? 1 : 0)
      return
    case 'units':
      if (typeof value !== 'bigint') throw mismatch(where, path, 'Units (bigint)', value)
      writeUnits(value, where, path)
      return
    case 'nullable':
      if (value === null) return writer.byte(0)
      writer.byte(1)
      return writeValue(layout.inner, value, where, path)
    case 'optional':
      if (value === undefined) return writer.byte(0)
      writer.byte(1)
      return writeValue(layout.inner, value, where, path)
    case 'array':
      if (!Array.isArray(value)) throw mismatch(where, path, 'an array', value)
      writer.varint(value.length)
      for (let index = 0; index < value.length; index++) writeValue(layout.item, value[index], where, path)
      return
    case 'word':
      if (typeof value !== 'string') throw mismatch(where, path, 'a string', value)
      writeWord(value)
      return
    case 'scalars':
      writeScalars(value, where, path)
      return
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw mismatch(where, path, 'an object', value)
      if (layout.lengthPrefix === 'varint') {
        const outer = writer
        writer = new Writer()
        try {
          for (const field of layout.fields) writeValue(field.layout, (value as Record<string, unknown>)[field.key], where, field.key)
        } finally {
          const members = writer.bytes.slice(0, writer.position)
          writer = outer
          writer.varint(members.length)
          writer.reserve(members.length)
          writer.bytes.set(members, writer.position)
          writer.position += members.length
        }
        return
      }
      writer.reserve(4)
      const lengthAt = writer.position
      writer.position += 4
      // Nested members name themselves in an error (no path string is built per member on the hot path).
      for (const field of layout.fields) writeValue(field.layout, (value as Record<string, unknown>)[field.key], where, field.key)
      writer.view.setUint32(lengthAt, writer.position - lengthAt - 4, true)
      return
    }
    case 'json': {
      if (value === undefined) throw mismatch(where, path, 'a value', value)
      const bytes = encoder.encode(canonicalJson(value))
      writer.varint(bytes.length)
      writer.reserve(bytes.length)
      writer.bytes.set(bytes, writer.position)
      writer.position += bytes.length
      return
    }
  }
}

/** A compact string: 2 × its vocabulary index + 1, or 2 × its UTF-8 length and the bytes. */
function writeWord(value: string): void {
  const index = VOCABULARY.indexOf(value)
  if (index >= 0) return writer.varint(index * 2 + 1)
  if (!value.isWellFormed()) throw new AssertionError('a string with a lone surrogate cannot be logged: make commands well-formed before deciding')
  const encoded = encoder.encode(value)
  writer.varint(encoded.length * 2)
  writer.reserve(encoded.length)
  writer.bytes.set(encoded, writer.position)
  writer.position += encoded.length
}

function writeScalars(value: unknown, where: string, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw scalarMismatch(where, path, 'an object of scalars', value)
  const keys = Object.keys(value)
  const unsafe = keys.sort().find((key) => key === '__proto__' || key === 'constructor' || key === 'prototype')
  if (unsafe !== undefined) throw new AssertionError(`${where}: member ${path} has the key ${unsafe}, which no record can hold`)
  const members = keys.filter((key) => (value as Record<string, unknown>)[key] !== undefined)
  writer.varint(members.length)
  for (const key of members) {
    const item = (value as Record<string, unknown>)[key]
    writeWord(key)
    if (typeof item === 'string') {
      writer.byte(3)
      writeWord(item)
    } else if (typeof item === 'boolean') writer.byte(item ? 2 : 1)
    else if (item === null) writer.byte(0)
    else if (typeof item === 'number' && Number.isSafeInteger(item)) {
      writer.byte(item >= 0 ? 4 : 5)
      writer.varint(Math.abs(item))
    } else if (typeof item === 'number') {
      if (!Number.isFinite(item)) throw new AssertionError(`${where}: member ${path}.${key} is ${item}; a record holds only finite numbers`)
      writer.byte(6)
      writer.float64(item)
    } else throw scalarMismatch(where, `${path}.${key}`, 'a string, a number, a boolean or null', item)
  }
}

function scalarMismatch(where: string, path: string, expected: string, value: unknown): AssertionError {
  return new AssertionError(`${where}: member ${path} must be ${expected}, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`)
}

function writeUnits(value: bigint, where: string, path: string): void {
  const negative = value < 0n
  const magnitude = negative ? -value : value
  if (magnitude < UNITS_VARINT_LIMIT) {
    writer.byte(negative ? 1 : 0)
    writer.varint(Number(magnitude))
    return
  }
  const text = formatDecimal(value)
  // Every reader parses this text (parseDecimal: at most 20 integer digits): a record it refuses would stop every
  // later restart, so an amount beyond it is refused here, before anything is logged.
  if (tryParseDecimal(text) === null) throw new AssertionError(`${where}: member ${path} is ${text}, beyond the amounts a record can hold`)
  writer.byte(2)
  writer.string(text)
}

function mismatch(where: string, path: string, expected: string, value: unknown): AssertionError {
  return new AssertionError(`${where}: member ${path} must be ${expected}, got ${value === null ? 'null' : typeof value}`)
}
