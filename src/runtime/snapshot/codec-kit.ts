/**
 * A small schema-driven codec: each codec turns one typed value into plain JSON and back, and checks every value it
 * decodes (type, nullability, record width), so a file written by a build with a different state shape is refused
 * with a message instead of being misread. Records are positional arrays in a fixed field order — compact, fast to
 * parse, and their field list is typed so that adding a field to a kernel type fails the typecheck until the codec
 * (and with it the schema fingerprint) follows.
 *
 * Maps and sets keep their insertion order: the kernel iterates them (FIFO queues, order scans), so a restored state
 * must iterate exactly like the original, not merely hold the same entries.
 */

import { SmallSet } from '../../domain/small-set.ts'

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }

export class CodecError extends Error {
  override readonly name = 'CodecError'
}

export interface Codec<T> {
  /** A stable text describing the encoding; hashed into the schema fingerprint. */
  readonly shape: string
  encode(value: T): Json
  decode(json: unknown, path: string): T
}

/**
 * Decoders pass their own path down unchanged on the success path (no string building per value: a snapshot holds
 * hundreds of thousands of them). Only when a member fails is the same (pure) decode run again by `rerunPrecisely`
 * with the exact path of every member, so the error names the first problem just as a path-building decode would.
 * The hot loops call it from a catch block instead of wrapping each value in closures (two closures per map entry
 * or record were a measurable part of a snapshot load).
 */
function rerunPrecisely(error: unknown, precise: () => void): never {
  if (error instanceof CodecError) precise()
  throw error
}

function fail(path: string, expected: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got.slice(0, 40)) : Array.isArray(got) ? `array(${got.length})` : String(got)
  throw new CodecError(`${path}: expected ${expected}, got ${shown}`)
}

export const str: Codec<string> = {
  shape: 'str',
  encode: (value) => value,
  decode: (json, path) => (typeof json === 'string' ? json : fail(path, 'a string', json)),
}

export const num: Codec<number> = {
  shape: 'num',
  encode: (value) => value,
  decode: (json, path) => (typeof json === 'number' && Number.isFinite(json) ? json : fail(path, 'a finite number', json)),
}

export const bool: Codec<boolean> = {
  shape: 'bool',
  encode: (value) => value,
  decode: (json, path) => (typeof json === 'boolean' ? json : fail(path, 'a boolean', json)),
}

const INTEGER_TEXT = /^-?\d{1,40}$/

/** A bigint (scaled Units) as its integer text — never through a float. */
export const big: Codec<bigint> = {
  shape: 'big',
  encode: (value) => value.toString(),
  decode: (json, path) => (typeof json === 'string' && INTEGER_TEXT.test(json) ? BigInt(json) : fail(path, 'an integer string', json)),
}

/**
 * A string restricted to a known list (states, sides, modes). `shapeName` replaces the list in the fingerprint for
 * open dictionaries (reason codes) whose growth does not change what an old value means.
 */
export function oneOf<const T extends string>(values: readonly T[], shapeName?: string): Codec<T> {
  const allowed = new Set<string>(values)
  return {
    shape: shapeName ?? `oneOf(${[...values].join('|')})`,
    encode: (value) => value,
    decode: (json, path) => (typeof json === 'string' && allowed.has(json) ? (json as T) : fail(path, `one of ${values.join(', ')}`, json)),
  }
}

/** A number restricted to a known list (lanes). */
export function oneOfNumbers<const T extends number>(values: readonly T[]): Codec<T> {
  const allowed = new Set<number>(values)
  return {
    shape: `oneOfNum(${values.join('|')})`,
    encode: (value) => value,
    decode: (json, path) => (typeof json === 'number' && allowed.has(json) ? (json as T) : fail(path, `one of ${values.join(', ')}`, json)),
  }
}

export function nullable<T>(inner: Codec<T>): Codec<T | null> {
  return {
    shape: `nullable(${inner.shape})`,
    encode: (value) => (value === null ? null : inner.encode(value)),
    decode: (json, path) => (json === null ? null : inner.decode(json, path)),
  }
}

/** An optional member: absent is written as null and read back absent (a record leaves the key out). */
export function absentOr<T>(inner: Codec<T>): Codec<T | undefined> {
  return {
    shape: `absentOr(${inner.shape})`,
    encode: (value) => (value === undefined ? null : inner.encode(value)),
    decode: (json, path) => (json === null ? undefined : inner.decode(json, path)),
  }
}

export function arrayOf<T>(inner: Codec<T>): Codec<T[]> {
  return {
    shape: `array(${inner.shape})`,
    encode: (values) => values.map((value) => inner.encode(value)),
    decode: (json, path) => {
      if (!Array.isArray(json)) fail(path, 'an array', json)
      const values = new Array<T>(json.length)
      try {
        for (let index = 0; index < json.length; index++) values[index] = inner.decode(json[index], path)
      } catch (error) {
        rerunPrecisely(error, () => json.forEach((item: unknown, index) => inner.decode(item, `${path}[${index}]`)))
      }
      return values
    },
  }
}

/**
 * A SmallSet (src/domain/small-set.ts): its members as a list, in insertion order. The shape is `set(…)`, as it was
 * when Order.execIds was a Set encoded the same way: the bytes did not change, so neither does the schema fingerprint,
 * and a snapshot written before loads unchanged.
 */
export function smallSetOf<T>(inner: Codec<T>): Codec<SmallSet<T>> {
  const list = arrayOf(inner)
  return {
    shape: `set(${inner.shape})`,
    encode: (values) => list.encode(values.members),
    decode: (json, path) => {
      const items = list.decode(json, path)
      const set = new SmallSet(items)
      if (set.size !== items.length) throw new CodecError(`${path}: a set holds a duplicate`)
      return set
    },
  }
}

export interface MapCodec<V> extends Codec<Map<string, V>> {
  readonly inner: Codec<V>
}

/** A Map with string keys as [key, value] pairs, in insertion order. */
export function mapOf<V>(inner: Codec<V>): MapCodec<V> {
  return {
    inner,
    shape: `map(${inner.shape})`,
    encode: (map) => {
      const pairs: Json[] = []
      for (const [key, value] of map) pairs.push([key, inner.encode(value)])
      return pairs
    },
    decode: (json, path) => {
      if (!Array.isArray(json)) fail(path, 'an array of [key, value] pairs', json)
      const map = new Map<string, V>()
      for (const pair of json as unknown[]) {
        if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') fail(path, 'a [key, value] pair', pair)
        const key = pair[0] as string
        let value: V
        try {
          value = inner.decode(pair[1], path)
        } catch (error) {
          rerunPrecisely(error, () => inner.decode(pair[1], `${path}[${JSON.stringify(key)}]`))
        }
        map.set(key, value)
      }
      // Map size tells a duplicate key without a lookup per entry; then find the first one for the message.
      if (map.size !== (json as unknown[]).length) {
        const seen = new Set<string>()
        for (const pair of json as [string, unknown][]) {
          if (seen.has(pair[0])) throw new CodecError(`${path}: duplicate key ${JSON.stringify(pair[0])}`)
          seen.add(pair[0])
        }
      }
      return map
    },
  }
}

/** Every field of T, each with its codec. `-?` makes a missing field a type error. */
export type Fields<T> = { [K in keyof T]-?: Codec<T[K]> }

export interface RecordCodec<T> extends Codec<T> {
  readonly fields: readonly [keyof T & string, Codec<unknown>][]
}

/** A record as a positional array in the order `fields` lists them. */
export function record<T>(name: string, fields: Fields<T>): RecordCodec<T> {
  const entries = Object.entries(fields) as [keyof T & string, Codec<unknown>][]
  const keys = entries.map(([key]) => key)
  const codecs = entries.map(([, codec]) => codec)
  const width = entries.length
  return {
    fields: entries,
    shape: `${name}{${entries.map(([key, codec]) => `${key}:${codec.shape}`).join(',')}}`,
    encode: (value) => {
      const row = new Array<Json>(width)
      for (let index = 0; index < width; index++) row[index] = (codecs[index] as Codec<unknown>).encode(value[keys[index] as keyof T & string])
      return row
    },
    decode: (json, path) => {
      if (!Array.isArray(json) || json.length !== width) fail(path, `${name} as an array of ${width} fields`, json)
      const value: Record<string, unknown> = {}
      try {
        for (let index = 0; index < width; index++) {
          const member = (codecs[index] as Codec<unknown>).decode(json[index], path)
          // An absent optional member (absentOr) stays absent, as the kernel holds it.
          if (member !== undefined) value[keys[index] as string] = member
        }
      } catch (error) {
        rerunPrecisely(error, () => {
          for (let index = 0; index < width; index++) (codecs[index] as Codec<unknown>).decode(json[index], `${path}.${keys[index] as string}`)
        })
      }
      return value as T
    },
  }
}

/** A fixed-length tuple of the same codec (the four lane queues). */
export function tupleOf<T, const N extends number>(inner: Codec<T>, length: N): Codec<T[] & { length: N }> {
  return {
    shape: `tuple${length}(${inner.shape})`,
    encode: (values) => values.map((value) => inner.encode(value)),
    decode: (json, path) => {
      if (!Array.isArray(json) || json.length !== length) fail(path, `an array of ${length}`, json)
      return json.map((item: unknown, index) => inner.decode(item, `${path}[${index}]`)) as T[] & { length: N }
    },
  }
}
