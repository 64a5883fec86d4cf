/**
 * A Bloom filter over string keys: "certainly not here", or "maybe". GenerationalMap keeps one per generation so a
 * lookup of a key a generation does not hold (every new order's, every old order's in the younger generations) skips
 * that generation's Map. Over 15 generations of 4,096 keys a missing key's lookup fell from ~216 ns to ~94 ns, and an
 * old key's from ~234 ns to ~118 ns (a micro-benchmark). bench:http does not show it: its maps reach 7 generations,
 * and there the lookups' cost is the youngest generation's (hashing each new key string), which this does not change.
 * It pays where more orders are held: past ~65k keys a map keeps 16 to 33 generations (generational-map.ts).
 *
 * The hash is FNV-1a in JavaScript: ~8 ns for a 20-character order id already in cache, where Bun.hash's crc32 and
 * wyhash cost ~20 ns more (the call into native code); reading a key not in cache costs far more than either, and
 * the map hashes a key just after its youngest generation's lookup has read it (s45, a micro-benchmark).
 *
 * The bits are a typed array, so setting them is no write the collector has to remember (see generational-map.ts).
 * Keys are never removed (a Bloom filter cannot forget): a filter that has taken `capacity` × 2 keys says so
 * (`saturated`) and its owner rebuilds it from the keys it holds, so a generation whose keys come and go keeps
 * answering "not here". A non-string key has no hash (`NO_HASH`) and is "maybe" everywhere.
 */

/** What keyHash gives a key it cannot hash: every filter answers "maybe" for it. */
export const NO_HASH = -1

/** Bits per key a filter is sized for: with two probes, about 1.4 % false "maybe" at capacity. */
const BITS_PER_KEY = 16
const BITS_MIN = 1024

/** FNV-1a over the UTF-16 code units of a string key, as a non-negative 31-bit integer; NO_HASH for any other key. */
export function keyHash(key: unknown): number {
  if (typeof key !== 'string') return NO_HASH
  let hash = 0x811c9dc5
  for (let index = 0; index < key.length; index++) {
    hash ^= key.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 1
}

export class KeyFilter {
  // Not readonly only so that copy() can set them.
  private bits: Uint32Array
  private mask: number
  private addsMax: number
  private adds = 0

  /** A filter for about `capacity` keys. */
  constructor(capacity: number) {
    let bitCount = BITS_MIN
    while (bitCount < capacity * BITS_PER_KEY) bitCount *= 2
    this.bits = new Uint32Array(bitCount >>> 5)
    this.mask = bitCount - 1
    this.addsMax = Math.max(1, capacity) * 2
  }

  /** A filter holding every key of `keys`, sized for them (and at least `capacity`). */
  static of(keys: Iterable<unknown>, count: number, capacity = count): KeyFilter {
    const filter = new KeyFilter(Math.max(count, capacity))
    for (const key of keys) filter.add(keyHash(key))
    return filter
  }

  /** A filter answering as this one does, that keys can be added to without changing it: its bits copied, not its keys hashed again. */
  copy(): KeyFilter {
    const copy = new KeyFilter(0)
    copy.bits = this.bits.slice()
    copy.mask = this.mask
    copy.addsMax = this.addsMax
    copy.adds = this.adds
    return copy
  }

  /** More keys were added than the filter was sized for: its "maybe" answers are no longer worth asking. */
  get saturated(): boolean {
    return this.adds > this.addsMax
  }

  add(hash: number): void {
    if (hash === NO_HASH) return
    this.adds++
    const first = hash & this.mask
    const second = secondProbe(hash) & this.mask
    this.bits[first >>> 5]! |= 1 << (first & 31)
    this.bits[second >>> 5]! |= 1 << (second & 31)
  }

  /** False only if no key with this hash was ever added. */
  mayHold(hash: number): boolean {
    if (hash === NO_HASH) return true
    const first = hash & this.mask
    if ((this.bits[first >>> 5]! & (1 << (first & 31))) === 0) return false
    const second = secondProbe(hash) & this.mask
    return (this.bits[second >>> 5]! & (1 << (second & 31))) !== 0
  }
}

/** A second bit position, independent enough of the first (a murmur-style finaliser of the same hash). */
function secondProbe(hash: number): number {
  let mixed = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
  mixed ^= mixed >>> 13
  mixed = Math.imul(mixed, 0xc2b2ae35)
  return (mixed ^ (mixed >>> 16)) >>> 0
}
