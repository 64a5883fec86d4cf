/**
 * Seeded random record bodies for a binary layout (binary-layout.ts), for holding two payload writers to each other:
 * values of every kind at their edges (string lengths around the varint steps and the scratch buffer's size, non-ASCII
 * and astral text, -0, amounts around 2^53 and the 20-digit limit, free-form JSON with keys needing escapes, index keys,
 * holes, Maps and Sets), and, when `wrongRate` > 0, values that do not fit their layout in random places.
 */

import type { Layout, LayoutField } from '../../../src/domain/events/binary-layout.ts'
import { VOCABULARY } from '../../../src/domain/events/vocabulary.ts'

export type Random = () => number

const STRINGS = ['', 'a', 'BTC-USD', 'é', 'x€y', '😀', 'ab\u007fcd', 'tab\there', 'quote"back\\slash', '\uFEFFbom', 'bad \uFFFD', 'ключ']
const NUMBERS = [0, -0, 1, -1, 0.5, 12.5, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1_795_254_671_462]
const UNITS = [0n, 1n, -1n, 127n, 128n, 5_900_000_000_000n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n) + 1n, -(2n ** 53n), 10n ** 28n - 1n, -(10n ** 28n) + 1n]
const JSON_KEYS = ['a', 'b', 'ab', 'B', 'notional', 'price', 'z', '', 'é', 'k"ey', 'tab\t', '0', '10', '9', '01', '__proto__', 'constructor', 'toJSON', '😀']

/** A string of `length` code units: ASCII, or with a non-ASCII character somewhere. */
function stringOfLength(random: Random, length: number): string {
  const ascii = 'x'.repeat(length)
  if (length === 0 || random() < 0.6) return ascii
  const at = Math.floor(random() * length)
  return `${ascii.slice(0, at)}${random() < 0.5 ? 'é' : '中'}${ascii.slice(at + 1)}`
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T
}

export function randomString(random: Random): string {
  const roll = random()
  if (roll < 0.5) return pick(random, STRINGS)
  if (roll < 0.8) return stringOfLength(random, pick(random, [1, 20, 64, 126, 127, 128, 129, 300]))
  if (roll < 0.97) return Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(random, STRINGS)).join('')
  return stringOfLength(random, pick(random, [16_383, 16_384, 20_000]))
}

/** A free-form JSON part's value: what canonicalJson takes (records, arrays, scalars, Units, Maps, Sets, undefined members). */
export function randomJson(random: Random, depth = 0): unknown {
  const roll = random()
  if (depth >= 3 || roll < 0.4) return randomJsonScalar(random)
  if (roll < 0.75) {
    const object: Record<string, unknown> = {}
    const count = Math.floor(random() * 8)
    for (let index = 0; index < count; index++) {
      const key = random() < 0.7 ? pick(random, JSON_KEYS) : randomString(random).slice(0, 12)
      // `__proto__` as an own key, as JSON.parse makes it (an assignment would set the prototype instead).
      if (key === '__proto__') Object.defineProperty(object, key, { value: randomJsonScalar(random), enumerable: true, writable: true, configurable: true })
      else object[key] = random() < 0.1 ? undefined : randomJson(random, depth + 1)
    }
    return object
  }
  if (roll < 0.92) {
    const list: unknown[] = Array.from({ length: Math.floor(random() * 5) }, () => randomJson(random, depth + 1))
    if (random() < 0.1) list[list.length + 1] = 1 // a hole
    return list
  }
  if (roll < 0.96) return new Map(Array.from({ length: Math.floor(random() * 3) }, (_, index) => [pick(random, JSON_KEYS) + index, randomJsonScalar(random)]))
  return new Set(Array.from({ length: Math.floor(random() * 3) }, () => randomJsonScalar(random)))
}

function randomJsonScalar(random: Random): unknown {
  const roll = random()
  if (roll < 0.35) return randomString(random).slice(0, random() < 0.9 ? 40 : 400)
  if (roll < 0.6) return pick(random, NUMBERS)
  if (roll < 0.7) return random() < 0.5
  if (roll < 0.8) return null
  if (roll < 0.9) return pick(random, UNITS)
  return 'lone \uD800 and \uDC00 (JSON escapes them)'
}

/** A compact string: a word of the vocabulary, a string that is not one, or a word with a character more or less. */
function randomWord(random: Random): string {
  const roll = random()
  if (roll < 0.4) return pick(random, VOCABULARY)
  if (roll < 0.5) return `${pick(random, VOCABULARY)}${random() < 0.5 ? 'x' : ''}`.slice(0, random() < 0.5 ? undefined : -1)
  return randomString(random)
}

/** A record of scalars (a guard's inputs): word and other keys, any scalar values, undefined members. */
function randomScalars(random: Random): Record<string, unknown> {
  const record: Record<string, unknown> = {}
  const count = Math.floor(random() * 10)
  for (let index = 0; index < count; index++) {
    const key = random() < 0.4 ? pick(random, VOCABULARY) : random() < 0.5 ? pick(random, STRINGS) : pick(random, JSON_KEYS.filter((item) => item !== '__proto__' && item !== 'constructor'))
    const roll = random()
    record[key] = roll < 0.35 ? randomWord(random) : roll < 0.65 ? pick(random, NUMBERS) : roll < 0.75 ? (random() - 0.5) * 10 ** Math.floor(random() * 20) : roll < 0.85 ? random() < 0.5 : roll < 0.95 ? null : undefined
  }
  return record
}

/** An object with `__proto__` as an own key, as JSON.parse makes it (an assignment would set the prototype instead). */
function withProtoKey(): Record<string, unknown> {
  const record: Record<string, unknown> = { a: 1 }
  Object.defineProperty(record, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true })
  return record
}

/** Values that do not fit `layout` (for the inner layout of nullable/optional too). */
function wrongValue(random: Random, layout: Layout): unknown {
  switch (layout.kind) {
    case 'string':
    case 'word':
      return pick(random, [42, null, undefined, 1n, {}, 'lone \uD83D surrogate', '\uDE00', 'é\uD800'])
    case 'scalars':
      return pick(random, [[], null, 'x', undefined, 5, { a: Number.NaN }, { b: Number.POSITIVE_INFINITY }, { c: 1n }, { d: {} }, { e: [1] }, { f: 'lone \uD800' }, { ['\uDC00']: 1 }, withProtoKey(), { constructor: 1, b: 2 }, { a: 1, prototype: 2 }])
    case 'number':
      return pick(random, ['1', Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null, undefined, 1n])
    case 'boolean':
      return pick(random, [0, 1, 'true', null, undefined])
    case 'units':
      return pick(random, [1, '1', null, undefined, 10n ** 28n, -(10n ** 28n), 10n ** 40n])
    case 'nullable':
    case 'optional':
      return wrongValue(random, layout.inner)
    case 'array':
      return pick(random, [{}, 'x', null, undefined, 3])
    case 'object':
      return pick(random, [[], null, 'x', undefined, 5])
    case 'json':
      return pick(random, [undefined, Number.NaN, () => 1, Symbol('s'), { a: Number.POSITIVE_INFINITY }, [undefined], { b: [1, Number.NaN] }, { c: () => 2 }])
  }
}

export function randomValue(random: Random, layout: Layout, wrongRate: number): unknown {
  if (wrongRate > 0 && random() < wrongRate) return wrongValue(random, layout)
  switch (layout.kind) {
    case 'string':
      return randomString(random)
    case 'word':
      return randomWord(random)
    case 'scalars':
      return randomScalars(random)
    case 'number':
      return random() < 0.5 ? pick(random, NUMBERS) : (random() - 0.5) * 10 ** Math.floor(random() * 20)
    case 'boolean':
      return random() < 0.5
    case 'units':
      return random() < 0.5 ? pick(random, UNITS) : BigInt(Math.floor((random() - 0.3) * 1e12))
    case 'nullable':
      return random() < 0.3 ? null : randomValue(random, layout.inner, wrongRate)
    case 'optional':
      return random() < 0.3 ? undefined : randomValue(random, layout.inner, wrongRate)
    case 'array':
      return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, layout.item, wrongRate))
    case 'object':
      return randomBody(random, layout.fields, wrongRate)
    case 'json':
      return randomJson(random)
  }
}

/** A body with the layout's members in a random insertion order; an optional member left undefined is left out. */
export function randomBody(random: Random, fields: readonly LayoutField[], wrongRate: number): Record<string, unknown> {
  const order = fields.map((field) => ({ field, rank: random() })).sort((a, b) => a.rank - b.rank)
  const body: Record<string, unknown> = {}
  for (const { field } of order) {
    const value = randomValue(random, field.layout, wrongRate)
    if (value !== undefined || field.layout.kind !== 'optional' || random() < 0.2) body[field.key] = value
  }
  return body
}

/** An order.rejected body (without `type`, as the writers take it) whose one guard failed with `inputs`. */
export function rejectedBodyWith(inputs: unknown): Record<string, unknown> {
  return {
    atMs: 1,
    orderId: 'o-1',
    accountId: null,
    idempotencyKey: null,
    bodyDigest: 'd',
    reason: 'POLICY_DENIED',
    guard: 'policy',
    decision: { principalId: 'p', roles: [], configDigest: 'c', buildCommit: 'b', nowMs: 2, guards: [{ guard: 'policy', outcome: 'fail', inputs }] },
  }
}
