import { describe, expect, test } from 'bun:test'
import { LINE_BYTES_MAX, LineReader } from '../../../src/venues/jsonl/codec.ts'

const encoder = new TextEncoder()

describe('LineReader bound', () => {
  test('a line of exactly LINE_BYTES_MAX is read', () => {
    const reader = new LineReader()
    const line = 'x'.repeat(LINE_BYTES_MAX)
    expect(reader.read(encoder.encode(`${line}\n`))).toEqual([line])
    expect(reader.overlong).toBe(false)
  })

  test('a complete line past the bound ends the stream: the lines before it are returned, nothing after', () => {
    const reader = new LineReader()
    const chunk = `{"a":1}\n${'x'.repeat(LINE_BYTES_MAX + 1)}\n{"b":2}\n`
    expect(reader.read(encoder.encode(chunk))).toEqual(['{"a":1}'])
    expect(reader.overlong).toBe(true)
    expect(reader.read(encoder.encode('{"c":3}\n'))).toEqual([])
  })

  test('an unterminated tail past the bound ends the stream as well', () => {
    const reader = new LineReader()
    expect(reader.read(encoder.encode(`{"a":1}\n${'x'.repeat(LINE_BYTES_MAX)}`))).toEqual(['{"a":1}'])
    expect(reader.overlong).toBe(false)
    expect(reader.read(encoder.encode('x'))).toEqual([])
    expect(reader.overlong).toBe(true)
  })

  test('push throws RangeError past the bound (the server closes such a client)', () => {
    const reader = new LineReader()
    expect(() => reader.push(encoder.encode('x'.repeat(LINE_BYTES_MAX + 1)))).toThrow(RangeError)
  })
})
