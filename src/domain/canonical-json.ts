/**
 * Canonical JSON: the one serialisation used for log payloads, body digests and state digests. Object keys are sorted,
 * bigint amounts (Units) become canonical decimal strings, Maps become objects sorted by key, Sets (and SmallSets)
 * become sorted arrays, and undefined object members are omitted. Same value in, same bytes out — which is what makes
 * log payloads and replay digests comparable bit for bit.
 */

import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { assert } from './assert.ts'
import { formatDecimal } from './decimal.ts'
import { isMapLike } from './map-like.ts'
import { isSetLike } from './small-set.ts'

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** Converts a domain value into a plain JSON value in canonical form (sorted keys, decimals as strings). */
export function toCanonical(value: unknown): JsonValue {
  if (value === null) return null
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      assert(Number.isFinite(value), () => `canonical JSON holds only finite numbers, got ${value}`)
      return value
    case 'bigint':
      return formatDecimal(value)
    case 'object':
      return objectToCanonical(value)
    default:
      assert(false, `canonical JSON cannot hold a ${typeof value}`)
  }
}

function objectToCanonical(value: object): JsonValue {
  if (Array.isArray(value)) return value.map((item: unknown) => toCanonical(item))
  if (isSetLike(value)) {
    const items = [...value].map((item) => toCanonical(item))
    return items.sort((a, b) => compareText(JSON.stringify(a), JSON.stringify(b)))
  }
  const result: { [key: string]: JsonValue } = {}
  if (isMapLike(value)) {
    const entries: [string, unknown][] = [...(value as Map<unknown, unknown>)].map(([k, v]) => [String(k), v])
    for (const [key, member] of entries.sort(([a], [b]) => compareText(a, b))) {
      if (member !== undefined) result[key] = toCanonical(member)
    }
    return result
  }
  // Plain objects (every log record): the default sort orders strings by code unit, as compareText does, natively.
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record).sort()) {
    const member = record[key]
    if (member !== undefined) result[key] = toCanonical(member)
  }
  return result
}

/** Code-unit order, independent of locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(toCanonical(value))
}

/**
 * SHA-256 of the UTF-8 text, as hex. Bun's native hasher on the hot path (body digests, order ids: several per
 * request); @noble/hashes is the reference (sha256HexReference) and specs/domain/canonical-json.test.ts checks that
 * both agree.
 */
export function sha256Hex(text: string): string {
  return Bun.SHA256.hash(text, 'hex')
}

/**
 * The first `byteCount` bytes of sha256Hex(text), as hex (twice as many characters), in a string of their own.
 * `sha256Hex(text).slice(…)` gives the same text, but JavaScriptCore keeps a slice as a view of the whole 64-character
 * string: an id kept for every order (order ids) then holds 113 bytes of heap instead of 37.
 */
export function sha256HexPrefix(text: string, byteCount: number): string {
  // Hashed into one buffer kept for the purpose: a digest array of its own, and a view for the hex, per id were three
  // objects an order allocated. Synchronous, so no other call can overwrite it before the hex is read.
  Bun.SHA256.hash(text, prefixDigest)
  return prefixDigest.toString('hex', 0, Math.min(byteCount, prefixDigest.byteLength))
}

const prefixDigest = Buffer.alloc(32)

/** The same digest with @noble/hashes. */
export function sha256HexReference(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)))
}
