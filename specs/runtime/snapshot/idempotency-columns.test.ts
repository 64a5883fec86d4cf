import { describe, expect, test } from 'bun:test'
import type { IdempotencyEntry } from '../../../src/kernel/state.ts'
import { decodeIdempotencyColumns, idempotencyColumns, idempotencyColumnsSliced } from '../../../src/runtime/snapshot/idempotency-columns.ts'

const HEADER_BYTES = 16
const DIGEST_BYTES = 32
const TIME_BYTES = 8

function digestOf(seed: number): string {
  return Array.from({ length: 32 }, (_, index) => ((seed * 31 + index * 7) & 0xff).toString(16).padStart(2, '0')).join('')
}

function accepted(seed: number, orderId: string): IdempotencyEntry {
  return { bodyDigest: digestOf(seed), orderId, outcome: 'accepted', reason: null, guard: null, decidedAtMs: 1_700_000_000_000 + seed }
}

/**
 * Accepted and rejected entries, ASCII and non-ASCII keys and order ids (a surrogate pair too; a U+FEFF opening the
 * order ids' text, which a decoder must not take for a byte-order mark), in a set order.
 */
function sampleIndex(): Map<string, IdempotencyEntry> {
  return new Map<string, IdempotencyEntry>([
    ['acct-a b-0', accepted(1, '\uFEFFdcf17993df6b3820d3cf')],
    ['acct-b b-1', { bodyDigest: digestOf(2), orderId: '4d05bb3f6d05da4e5bba', outcome: 'rejected', reason: 'INSUFFICIENT_POSITION', guard: 'reservation', decidedAtMs: 1_700_000_000_002 }],
    ['acct-a clé-é', accepted(3, 'ordre-ü')],
    ['acct-b key-😀', { bodyDigest: digestOf(4), orderId: '', outcome: 'rejected', reason: null, guard: null, decidedAtMs: 0 }],
    ['acct-a b-4', accepted(5, 'da35a408d55e5bad42e7')],
  ])
}

/** Where the columns of an index of `count` entries start (the layout in idempotency-columns.ts). */
function offsetsOf(count: number): { outcomes: number; digests: number; keys: number } {
  const outcomes = HEADER_BYTES + count * 4
  const digests = outcomes + count
  return { outcomes, digests, keys: digests + count * DIGEST_BYTES }
}

function refusal(bytes: Uint8Array): string {
  try {
    decodeIdempotencyColumns(bytes, 'idem')
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  }
  return 'decoded'
}

describe('idempotency columns', () => {
  test('round trip: same entries in the same order; the sliced encoder writes the same bytes at any slice size', async () => {
    const index = sampleIndex()
    const bytes = idempotencyColumns(index)
    const decoded = decodeIdempotencyColumns(bytes, 'idem')
    expect([...decoded]).toEqual([...index])
    expect(idempotencyColumns(decoded)).toEqual(bytes)
    for (const entriesPerSlice of [1, 2, 3, 100]) {
      let pauses = 0
      const sliced = await idempotencyColumnsSliced(index, { entriesPerSlice, pause: async () => void pauses++ })
      expect(sliced).toEqual(bytes)
      expect(pauses).toBe(Math.floor(index.size / entriesPerSlice))
    }
    expect([...decodeIdempotencyColumns(idempotencyColumns(new Map()), 'idem')]).toEqual([])
  })

  test('what cannot be written exactly is refused when encoding', () => {
    expect(() => idempotencyColumns(new Map([['a k', { ...accepted(1, 'o'), bodyDigest: digestOf(1).toUpperCase() }]]))).toThrow(/body digest is not 64 lowercase hex/)
    expect(() => idempotencyColumns(new Map([['a k', { ...accepted(1, 'o'), bodyDigest: 'ab' }]]))).toThrow(/body digest is not 64 lowercase hex/)
    expect(() => idempotencyColumns(new Map([['a k', { ...accepted(1, 'o'), reason: 'INSUFFICIENT_POSITION' }]]))).toThrow(/an accepted entry holds a reason/)
    expect(() => idempotencyColumns(new Map([['a \uD800k', accepted(1, 'o')]]))).toThrow(/keys hold a lone surrogate/)
    expect(() => idempotencyColumns(new Map([['a k', accepted(1, 'o\uDC00')]]))).toThrow(/order ids hold a lone surrogate/)
    // Two halves of a pair in two strings would join into a valid character: each string is checked on its own.
    expect(() => idempotencyColumns(new Map([['a k\uD83D', accepted(1, 'o')], ['\uDE00 k', accepted(2, 'p')]]))).toThrow(/keys hold a lone surrogate/)
    expect(() => idempotencyColumns(new Map([['a '.padEnd(0x10000, 'k'), accepted(1, 'o')]]))).toThrow(/longer than 65535 characters/)
  })

  test('a damaged block is refused with what is wrong, never misread', () => {
    const index = sampleIndex()
    const count = index.size
    const bytes = idempotencyColumns(index)
    const at = offsetsOf(count)
    const edited = (edit: (copy: Uint8Array, view: DataView) => void): Uint8Array => {
      const copy = bytes.slice()
      edit(copy, new DataView(copy.buffer))
      return copy
    }
    expect(refusal(bytes.subarray(0, 10))).toMatch(/idem: 10 bytes is shorter than the columns' header/)
    expect(refusal(bytes.subarray(0, bytes.byteLength - 1))).toMatch(/idem: columns for 5 entries .* do not add up/)
    expect(refusal(edited((_, view) => view.setUint32(0, count + 1, true)))).toMatch(/do not add up/)
    expect(refusal(edited((_, view) => view.setUint32(4, view.getUint32(4, true) + 1, true)))).toMatch(/do not add up/)
    // A key's length off by one: the lengths no longer add up to the text.
    expect(refusal(edited((_, view) => view.setUint16(HEADER_BYTES, 11, true)))).toMatch(/idem\.keys: lengths add up to \d+ characters, the text holds \d+/)
    expect(refusal(edited((_, view) => view.setUint16(HEADER_BYTES + count * 2 + 2, 21, true)))).toMatch(/idem\.orderIds: lengths add up/)
    // Invalid UTF-8 in the keys' text.
    expect(refusal(edited((copy) => void (copy[at.keys] = 0xff)))).toMatch(/idem\.keys: not valid UTF-8/)
    // Outcomes: an unknown one, a rejected one without its reason, a reason for an accepted one.
    expect(refusal(edited((copy) => void (copy[at.outcomes] = 0x78)))).toMatch(/idem\[0\]: outcome must be a \(accepted\) or r/)
    expect(refusal(edited((copy) => void (copy[at.outcomes + 4] = 0x72)))).toMatch(/idem\[4\]: outcome must be a \(accepted\) or r/)
    expect(refusal(edited((copy) => void (copy[at.outcomes + 1] = 0x61)))).toMatch(/idem\.rejected: expected \[position of a rejected entry/)
    // Two keys made equal ("acct-a b-0" and "acct-b b-1" differ in two characters).
    expect(refusal(edited((copy) => {
      const second = at.keys + 'acct-a b-0'.length
      copy[second + 5] = 'a'.charCodeAt(0)
      copy[second + 9] = '0'.charCodeAt(0)
    }))).toMatch(/idem: duplicate keys/)
    // The rejected list must be JSON (the times follow it).
    expect(refusal(edited((copy) => void (copy[copy.byteLength - count * TIME_BYTES - 1] = 0x7b)))).toMatch(/idem\.rejected: not UTF-8 JSON/)
    // A time that is not one: negative, fractional, NaN.
    for (const time of [-1, 0.5, Number.NaN]) {
      expect(refusal(edited((_, view) => view.setFloat64(bytes.byteLength - TIME_BYTES, time, true)))).toMatch(/idem\[4\]: decidedAtMs .* is not a time/)
    }
  })

  test('a block of format 20 or older has no times: read with each entry decided at 0; one with times is refused as such, and the reverse', () => {
    const index = sampleIndex()
    const bytes = idempotencyColumns(index)
    const older = bytes.subarray(0, bytes.byteLength - index.size * TIME_BYTES)
    const decoded = decodeIdempotencyColumns(older, 'idem', { times: false })
    expect([...decoded]).toEqual([...index].map(([key, entry]) => [key, { ...entry, decidedAtMs: 0 }]))
    expect(() => decodeIdempotencyColumns(bytes, 'idem', { times: false })).toThrow(/do not add up/)
    expect(() => decodeIdempotencyColumns(older, 'idem')).toThrow(/do not add up/)
  })

  test('an entry whose time cannot be written exactly is refused when encoding', () => {
    for (const decidedAtMs of [-1, 1.5, Number.NaN]) {
      expect(() => idempotencyColumns(new Map([['a k', { ...accepted(1, 'o'), decidedAtMs }]]))).toThrow(/decidedAtMs .* is not a time/)
    }
  })
})
