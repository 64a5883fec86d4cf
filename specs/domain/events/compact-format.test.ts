/**
 * The compact binary format (payload version 3) read from crafted bytes: words, records of scalars and varint object
 * lengths in every form the writer makes, and the forms it never makes refused as SchemaError — by the validating
 * reader always, by the trusted one wherever reading on would make another object than the one written.
 */

import { describe, expect, test } from 'bun:test'
import { AssertionError } from '../../../src/domain/assert.ts'
import type { LayoutField } from '../../../src/domain/events/binary-layout.ts'
import { compileRecordDecoder, type RecordDecoder } from '../../../src/domain/events/binary-reader.ts'
import { encodeEvent, SchemaError, type DomainEvent } from '../../../src/domain/events/index.ts'
import { VOCABULARY, wordIndexOf } from '../../../src/domain/events/vocabulary.ts'
import { rejectedBodyWith } from './random-bodies.ts'

const encoder = new TextEncoder()

function varint(value: number): number[] {
  const bytes: number[] = []
  let rest = value
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  bytes.push(rest)
  return bytes
}

/** A string that is not a word: 2 × its byte length, then its bytes. */
function text(value: string): number[] {
  const bytes = [...encoder.encode(value)]
  return [...varint(bytes.length * 2), ...bytes]
}

function word(value: string): number[] {
  const index = wordIndexOf(value)
  if (index < 0) throw new Error(`${value} is not a word`)
  return varint(index * 2 + 1)
}

function float64(value: number): number[] {
  const bytes = new Uint8Array(8)
  new DataView(bytes.buffer).setFloat64(0, value, true)
  return [...bytes]
}

function readers(fields: readonly LayoutField[]): { input: RecordDecoder; trusted: RecordDecoder } {
  return { input: compileRecordDecoder(fields, 'input') as RecordDecoder, trusted: compileRecordDecoder(fields, 'trusted') as RecordDecoder }
}

/** The decoder's answer for `bytes`: the body, or 'refused' for a SchemaError (anything else fails the spec). */
function read(decode: RecordDecoder, bytes: number[]): Record<string, unknown> | 'refused' {
  try {
    return decode(new Uint8Array(bytes))
  } catch (error) {
    if (error instanceof SchemaError) return 'refused'
    throw error
  }
}

describe('compact format: words', () => {
  const { input, trusted } = readers([{ key: 's', layout: { kind: 'word' } }])

  test('a word is its index; any other string its bytes; both decoders agree', () => {
    expect(read(input, word('buy'))).toEqual({ s: 'buy' })
    expect(read(trusted, word('buy'))).toEqual({ s: 'buy' })
    expect(read(input, text('BTC-USD'))).toEqual({ s: 'BTC-USD' })
    expect(read(trusted, text('é€😀'))).toEqual({ s: 'é€😀' })
    expect(read(input, text(''))).toEqual({ s: '' })
  })

  test('a word written out as text is refused by the validating reader (one value, one encoding)', () => {
    expect(read(input, text('buy'))).toBe('refused')
    expect(read(trusted, text('buy'))).toEqual({ s: 'buy' })
  })

  test('an index beyond the vocabulary, a cut string and bytes that are not UTF-8 are refused', () => {
    const beyond = varint(VOCABULARY.length * 2 + 1)
    expect(read(input, beyond)).toBe('refused')
    expect(read(trusted, beyond)).toBe('refused')
    expect(read(input, [...varint(20), 0x61])).toBe('refused')
    expect(read(trusted, [...varint(20), 0x61])).toBe('refused')
    expect(read(input, [4, 0xc0, 0x80])).toBe('refused')
    expect(read(input, [0x82, 0x00, 0x61])).toBe('refused') // a length in two bytes where one does
  })

  test('the writer writes every word as its index and every other string as its bytes', () => {
    // mode.changed in layout order: atMs, buildCommit and configDigest (absent here: one 0 byte each), mode, note, principalId.
    const bytesOf = (note: string): number[] => [...encodeEvent({ type: 'mode.changed', atMs: 1, mode: 'paper', principalId: 'p', note }).payload]
    for (const value of VOCABULARY) expect(bytesOf(value)).toEqual([...float64(1), 0, 0, ...word('paper'), ...word(value), ...text('p')])
    expect(bytesOf('buyx')).toEqual([...float64(1), 0, 0, ...word('paper'), ...text('buyx'), ...text('p')])
  })
})

describe('compact format: records of scalars', () => {
  const { input, trusted } = readers([{ key: 'r', layout: { kind: 'scalars' } }])

  test('every kind of value reads back, keys as words or text', () => {
    const bytes = [7, ...word('ageMs'), 5, 5, ...text('f'), 6, ...float64(0.25), ...text('n'), 0, ...word('openOrders'), 4, ...varint(300), ...word('price'), 3, ...text('60000.07'), ...word('side'), 3, ...word('buy'), ...text('t'), 2]
    const expected = { r: { ageMs: -5, f: 0.25, n: null, openOrders: 300, price: '60000.07', side: 'buy', t: true } }
    expect(read(input, bytes)).toEqual(expected)
    expect(read(trusted, bytes)).toEqual(expected)
    expect(read(input, [0])).toEqual({ r: {} })
  })

  // __proto__ would set the object's prototype; valibot's record drops all three keys, so the validating decoder would
  // read another object than the trusted one.
  test('keys out of order, repeated, __proto__, constructor or prototype are refused by both decoders', () => {
    const cases = [
      [2, ...text('b'), 4, 1, ...text('a'), 4, 2],
      [2, ...text('a'), 4, 1, ...text('a'), 4, 2],
      [1, ...text('__proto__'), 0],
      [1, ...text('constructor'), 0],
      [2, ...text('a'), 0, ...text('prototype'), 0],
    ]
    for (const bytes of cases) {
      expect(read(input, bytes)).toBe('refused')
      expect(read(trusted, bytes)).toBe('refused')
    }
  })

  test('numbers in a form the writer never makes are refused by the validating reader', () => {
    for (const value of [3, -7, 0, Number.NaN, Number.POSITIVE_INFINITY]) expect(read(input, [1, ...text('a'), 6, ...float64(value)])).toBe('refused')
    expect(read(input, [1, ...text('a'), 5, 0])).toBe('refused') // a negative zero
    expect(read(input, [1, ...text('a'), 4, 0x85, 0x00])).toBe('refused') // 5 in two bytes
    expect(read(input, [1, ...text('a'), 6, ...float64(2 ** 60)])).toEqual({ r: { a: 2 ** 60 } }) // beyond the safe integers
  })

  test('an unknown tag, a count beyond the payload and a cut value are refused by both decoders', () => {
    for (const bytes of [[1, ...text('a'), 7], [100, ...text('a'), 0], [1, ...text('a'), 6, 0, 0], [1, ...text('a'), 3]]) {
      expect(read(input, bytes)).toBe('refused')
      expect(read(trusted, bytes)).toBe('refused')
    }
  })
})

describe('compact format: what the writer refuses', () => {
  test('guard inputs with a key no record holds are refused when written (AssertionError), not logged', () => {
    const rejected = (inputs: Record<string, unknown>): DomainEvent => ({ type: 'order.rejected', ...rejectedBodyWith(inputs) }) as unknown as DomainEvent
    expect(() => encodeEvent(rejected({ constructor: 1 }))).toThrow(/has the key constructor/)
    expect(() => encodeEvent(rejected({ a: 1, prototype: true }))).toThrow(AssertionError)
    expect(() => encodeEvent(rejected({ a: Number.NaN }))).toThrow(/finite numbers/)
    expect(() => encodeEvent(rejected({ a: [1] }))).toThrow(/must be a string, a number, a boolean or null, got an array/)
    expect(encodeEvent(rejected({ a: 1, b: undefined })).payload).toEqual(encodeEvent(rejected({ a: 1 })).payload)
  })
})

describe('compact format: objects with a varint length', () => {
  const { input, trusted } = readers([{ key: 'o', layout: { kind: 'object', fields: [{ key: 'a', layout: { kind: 'boolean' } }], lengthPrefix: 'varint' } }])

  test('an object reads within its length; a length past the payload or not its members\' is refused', () => {
    expect(read(input, [1, 1])).toEqual({ o: { a: true } })
    expect(read(trusted, [1, 0])).toEqual({ o: { a: false } })
    for (const bytes of [[5, 1], [2, 1, 0], [0, 1], [0x81, 0x00, 1]]) {
      expect(read(input, bytes)).toBe('refused')
      expect(read(trusted, bytes)).toBe('refused')
    }
  })
})
