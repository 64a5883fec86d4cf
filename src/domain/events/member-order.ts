/**
 * The canonical member order of a JSON object (keys sorted by UTF-16 code unit, as canonicalJson writes them), with
 * each member's `"key":` head in UTF-8, remembered per key sequence: the objects written as JSON parts (a guard's
 * inputs) are built by a handful of code paths, each always with the same keys in the same order, so the sort and the
 * key escaping are done once per path instead of once per record. A key sequence is recognised by comparing it key by
 * key with a remembered one (same keys in the same order: same sorted order), never by a hash that could collide.
 */

const encoder = new TextEncoder()

/** Sequences remembered at most (a bound on memory if free-form objects with ever new keys come through). */
export const MEMBER_ORDERS_CACHED_MAX = 256

/** Keys beyond this many are sorted by Array.prototype.sort (an insertion sort is quadratic). */
const INSERTION_SORT_KEYS_MAX = 24

export interface MemberOrder {
  /** The keys in the object's own order (Object.keys), as looked up. */
  readonly keys: readonly string[]
  /** The keys in canonical order. */
  readonly sorted: readonly string[]
  /** `"key":` in UTF-8 for each key of `sorted`. */
  readonly heads: readonly Uint8Array[]
  /**
   * False when a key is an array index or `__proto__`, which a canonical copy made with JS objects treats apart (index
   * keys first in numeric order, `__proto__` dropped): the caller then writes the object through canonicalJson.
   */
  readonly plain: boolean
}

const byFirstKey = new Map<string, MemberOrder[]>()
let cachedCount = 0

/** The member order of an object whose Object.keys are `keys` (not empty). */
export function memberOrderOf(keys: readonly string[]): MemberOrder {
  const candidates = byFirstKey.get(keys[0] as string)
  if (candidates !== undefined) {
    for (let index = 0; index < candidates.length; index++) {
      const candidate = candidates[index] as MemberOrder
      if (sameKeys(candidate.keys, keys)) return candidate
    }
  }
  const order = computeMemberOrder(keys)
  if (cachedCount < MEMBER_ORDERS_CACHED_MAX) {
    if (candidates === undefined) byFirstKey.set(keys[0] as string, [order])
    else candidates.push(order)
    cachedCount++
  }
  return order
}

/**
 * memberOrderOf(Object.keys(value)), without making the keys array when a remembered sequence matches (a guard's
 * inputs: several records of scalars per order): a plain object's for-in order is its Object.keys order. Null when
 * `value` has no keys. Any other object, or a sequence not remembered, goes through Object.keys.
 */
export function memberOrderOfObject(value: object): MemberOrder | null {
  const prototype = Object.getPrototypeOf(value) as unknown
  if (prototype === Object.prototype || prototype === null) {
    let first: string | undefined
    for (const key in value) {
      first = key
      break
    }
    if (first === undefined) return null
    const candidates = byFirstKey.get(first)
    if (candidates !== undefined) {
      for (let index = 0; index < candidates.length; index++) {
        const candidate = candidates[index] as MemberOrder
        if (keysInOrder(candidate.keys, value)) return candidate
      }
    }
  }
  const keys = Object.keys(value)
  return keys.length === 0 ? null : memberOrderOf(keys)
}

/** Whether `value`'s keys, in for-in order, are `keys`. */
function keysInOrder(keys: readonly string[], value: object): boolean {
  let index = 0
  for (const key in value) {
    if (key !== keys[index]) return false
    index++
  }
  return index === keys.length
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false
  return true
}

function computeMemberOrder(keys: readonly string[]): MemberOrder {
  const sorted = [...keys]
  sortByCodeUnit(sorted)
  const plain = sorted.every((key) => !isIndexLike(key) && key !== '__proto__')
  return { keys: [...keys], sorted, heads: sorted.map((key) => encoder.encode(`${JSON.stringify(key)}:`)), plain }
}

/** A key starting with a digit: every array index does (and other such keys go the exact, slower way too). */
function isIndexLike(key: string): boolean {
  const first = key.charCodeAt(0)
  return first >= 0x30 && first <= 0x39
}

/** Sorts by UTF-16 code unit, as Array.prototype.sort orders strings. */
function sortByCodeUnit(keys: string[]): void {
  if (keys.length > INSERTION_SORT_KEYS_MAX) {
    keys.sort()
    return
  }
  for (let index = 1; index < keys.length; index++) {
    const key = keys[index] as string
    let at = index - 1
    while (at >= 0 && (keys[at] as string) > key) {
      keys[at + 1] = keys[at] as string
      at--
    }
    keys[at + 1] = key
  }
}
