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

describe('LineReader decoding', () => {
  test('a character split across chunks is read whole; a line that is not UTF-8 is skipped and counted, the next one read', () => {
    const reader = new LineReader()
    const bytes = encoder.encode('{"s":"é€"}\n')
    expect(reader.read(bytes.subarray(0, 7))).toEqual([])
    expect(reader.read(bytes.subarray(7, 9))).toEqual([])
    expect(reader.read(bytes.subarray(9))).toEqual(['{"s":"é€"}'])
    expect(reader.read(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d, 0x0a, ...encoder.encode('{"b":2}\n')]))).toEqual(['{"b":2}'])
    expect(reader.notUtf8Lines).toBe(1)
  })

  test('the bound is in bytes: a line of multi-byte characters past LINE_BYTES_MAX bytes ends the stream', () => {
    const reader = new LineReader()
    expect(reader.read(encoder.encode(`${'é'.repeat(LINE_BYTES_MAX / 2 + 1)}\n`))).toEqual([])
    expect(reader.overlong).toBe(true)
  })
})

describe('LineReader memory', () => {
  test('a line trickled a byte per chunk holds about its bytes, not an object per chunk', () => {
    // A venue sending a never-ending line one byte per TCP segment: each chunk was kept as its own copy, about 100
    // bytes of heap per byte sent, so the 1 MiB bound held some 100 MB per connection.
    const reader = new LineReader()
    const byte = encoder.encode('x')
    Bun.gc(true)
    const before = process.memoryUsage().heapUsed
    for (let sent = 0; sent < LINE_BYTES_MAX; sent++) reader.read(byte)
    Bun.gc(true)
    const held = process.memoryUsage().heapUsed - before
    expect(reader.overlong).toBe(false)
    expect(held).toBeLessThan(8 * LINE_BYTES_MAX)
    expect(reader.read(encoder.encode('\n'))).toEqual(['x'.repeat(LINE_BYTES_MAX)])
    expect(reader.read(byte)).toEqual([])
    expect(reader.read(encoder.encode('\n'))).toEqual(['x'])
  })
})
