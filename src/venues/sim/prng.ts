/**
 * xoshiro128** 1.0 (Blackman & Vigna, public domain, https://prng.di.unimi.it/xoshiro128starstar.c), seeded through
 * splitmix32 so any 32-bit seed gives a well-mixed non-zero state. All of the sim venue's randomness comes from
 * instances of this class; the venue derives one independent stream per purpose (`deriveSeed`) so that, say,
 * switching faults off does not shift the price walk.
 */

export class Xoshiro128ss {
  #s0: number
  #s1: number
  #s2: number
  #s3: number

  /** From a raw 128-bit state (four uint32 words, not all zero). Use `Xoshiro128ss.fromSeed` normally. */
  constructor(s0: number, s1: number, s2: number, s3: number) {
    if ((s0 | s1 | s2 | s3) === 0) throw new RangeError('xoshiro128** state must not be all zero')
    this.#s0 = s0 >>> 0
    this.#s1 = s1 >>> 0
    this.#s2 = s2 >>> 0
    this.#s3 = s3 >>> 0
  }

  static fromSeed(seed: number): Xoshiro128ss {
    const mix = splitmix32(seed)
    return new Xoshiro128ss(mix(), mix(), mix(), mix() | 1)
  }

  /** The next uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0
    const t = this.#s1 << 9
    this.#s2 ^= this.#s0
    this.#s3 ^= this.#s1
    this.#s1 ^= this.#s2
    this.#s0 ^= this.#s3
    this.#s2 ^= t
    this.#s3 = rotl(this.#s3, 11)
    return result
  }

  /** Uniform in [0, 1) with 32 bits of resolution; for probabilities only, never for amounts. */
  nextFloat(): number {
    return this.nextUint32() / 2 ** 32
  }

  /** Uniform integer in [min, max] (inclusive), both safe integers with max - min < 2^32. */
  nextInt(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min || max - min >= 2 ** 32) {
      throw new RangeError(`nextInt needs integers min ≤ max with a span below 2^32, got [${min}, ${max}]`)
    }
    const span = max - min + 1
    // Rejection sampling removes modulo bias.
    const limit = 2 ** 32 - (2 ** 32 % span)
    for (;;) {
      const draw = this.nextUint32()
      if (draw < limit) return min + (draw % span)
    }
  }

  /** True with probability `p` (0 never draws true, 1 always). Always consumes one draw, so streams stay aligned. */
  chance(p: number): boolean {
    return this.nextFloat() < p
  }
}

/** A seed for one named stream of a seeded run: same (seed, label) → same stream. FNV-1a over the label. */
export function deriveSeed(seed: number, label: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0)
  for (let index = 0; index < label.length; index++) {
    hash = Math.imul(hash ^ label.charCodeAt(index), 0x01000193)
  }
  return hash >>> 0
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0
  return function nextSplitmix32(): number {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
