import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { canonicalJson, sha256Hex, sha256HexPrefix, sha256HexReference, toCanonical } from '../../src/domain/canonical-json.ts'
import { SmallSet } from '../../src/domain/small-set.ts'
import { formatDecimal, parseDecimal, UNIT } from '../../src/domain/decimal.ts'

/** The definition canonicalJson must match byte for byte: build the canonical tree, then stringify it. */
const reference = (value: unknown): string => JSON.stringify(toCanonical(value))

/** formatDecimal as first written (bigint division), the reference for the faster one. */
function formatDecimalReference(units: bigint): string {
  const negative = units < 0n
  const magnitude = negative ? -units : units
  const fraction = (magnitude % UNIT).toString().padStart(8, '0').replace(/0+$/, '')
  const text = fraction.length > 0 ? `${magnitude / UNIT}.${fraction}` : `${magnitude / UNIT}`
  return negative ? `-${text}` : text
}

const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('0', '1', '2', '10', '007', '4294967294', '4294967295', '-1', '__proto__', 'a', 'b'))
const leaf = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.boolean(),
  fc.constant(null),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
)
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object'), tie('map'), tie('set')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(key, fc.oneof(tie('value'), fc.constant(undefined)), { maxKeys: 6 }),
  map: fc.array(fc.tuple(fc.oneof(key, fc.integer({ min: 0, max: 20 })), fc.oneof(tie('value'), fc.constant(undefined))), { maxLength: 5 }).map((entries) => new Map<unknown, unknown>(entries)),
  set: fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
}))

describe('canonical JSON', () => {
  test('canonicalJson is exactly JSON.stringify(toCanonical(value)) for arbitrary nested values', () => {
    fc.assert(
      fc.property(value, (input) => {
        expect(canonicalJson(input)).toBe(reference(input))
      }),
      { numRuns: 3_000, seed: 20261121 },
    )
  })

  test('the edge cases the direct writer handles by hand', () => {
    const cases: unknown[] = [
      { b: 1, a: 2, 10: 'x', 2: 'y', __proto__x: 1 },
      JSON.parse('{"__proto__": {"a": 1}, "z": 1}'),
      new Map<unknown, unknown>([[1, 'number key'], ['1', 'text key'], ['x', undefined]]),
      new Map<unknown, unknown>([['k', 1], ['k ', undefined]]),
      new Set([3, '3', [1], { a: 1 }]),
      { amount: 123_456_789n, negative: -5n, zero: 0n, nested: [{ u: undefined, v: null }] },
      -0,
      'ünïcödé ✓ "quoted" \\ \n',
    ]
    for (const input of cases) expect(canonicalJson(input)).toBe(reference(input))
    expect(() => canonicalJson({ bad: Number.NaN })).toThrow()
    expect(() => canonicalJson([undefined])).toThrow()
  })

  test('formatDecimal agrees with the bigint-division definition and round-trips through parseDecimal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 28n) + 1n, max: 10n ** 28n - 1n }), (units) => {
        expect(formatDecimal(units)).toBe(formatDecimalReference(units))
        expect(parseDecimal(formatDecimal(units))).toBe(units)
      }),
      { numRuns: 5_000, seed: 7 },
    )
    for (const units of [0n, 1n, -1n, 10n ** 8n, -(10n ** 8n), 12_300_000_000n, 100n, 99_999_999n]) expect(formatDecimal(units)).toBe(formatDecimalReference(units))
  })

  test("the native hot-path SHA-256 (Bun's) gives the same hex digests as @noble/hashes", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(sha256Hex(text)).toBe(sha256HexReference(text))
      }),
      { numRuns: 1_000, seed: 11 },
    )
    for (const text of ['', 'abc', 'x'.repeat(10_000), '\uD800 lone surrogate']) expect(sha256Hex(text)).toBe(sha256HexReference(text))
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  test('sha256HexPrefix is the head of sha256Hex', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), fc.integer({ min: 0, max: 40 }), (text, byteCount) => {
        expect(sha256HexPrefix(text, byteCount)).toBe(sha256Hex(text).slice(0, 2 * Math.min(byteCount, 32)))
      }),
      { numRuns: 500, seed: 12 },
    )
  })

  test('a SmallSet is written as a Set is: its members sorted, whatever order they were added in', () => {
    const members = ['sim-x9', 'sim-x10', 'a', 'sim-x1']
    expect(canonicalJson({ execIds: new SmallSet(members) })).toBe(canonicalJson({ execIds: new Set(members) }))
    expect(canonicalJson(new SmallSet(members))).toBe('["a","sim-x1","sim-x10","sim-x9"]')
  })
})
