import { describe, expect, test } from 'bun:test'
import { deriveSeed, Xoshiro128ss } from '../../../src/venues/sim/prng.ts'

describe('xoshiro128**', () => {
  test('matches the C reference implementation from a known state', () => {
    // State and outputs from the reference xoshiro128starstar.c (as published with the xoshiro-6502 test data).
    const rng = new Xoshiro128ss(0x964d4a0c, 0xd40ab895, 0xad7fdecb, 0x3006f0f0)
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([
      0xf1391922, 0x6fe53806, 0xa5be2840, 0xf510ee70,
    ])
  })

  test('matches the published sequence from state (0, 1, 2, 3)', () => {
    const rng = new Xoshiro128ss(0, 1, 2, 3)
    expect(Array.from({ length: 5 }, () => rng.nextUint32())).toEqual([5760, 17280, 2966400, 32451840, 2604340873])
  })

  test('the same seed gives the same stream and different seeds differ', () => {
    const draw = (seed: number) => {
      const rng = Xoshiro128ss.fromSeed(seed)
      return Array.from({ length: 8 }, () => rng.nextUint32())
    }
    expect(draw(7)).toEqual(draw(7))
    expect(draw(7)).not.toEqual(draw(8))
    expect(deriveSeed(7, 'faults')).not.toBe(deriveSeed(7, 'fills'))
    expect(deriveSeed(7, 'faults')).toBe(deriveSeed(7, 'faults'))
  })

  test('nextInt stays within its inclusive bounds and reaches both ends', () => {
    const rng = Xoshiro128ss.fromSeed(1)
    const seen = new Set<number>()
    for (let index = 0; index < 2_000; index++) {
      const value = rng.nextInt(-2, 2)
      expect(value).toBeGreaterThanOrEqual(-2)
      expect(value).toBeLessThanOrEqual(2)
      seen.add(value)
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2])
    expect(() => rng.nextInt(3, 2)).toThrow(/min ≤ max/)
  })

  test('chance(0) is never true and chance(1) always is', () => {
    const rng = Xoshiro128ss.fromSeed(3)
    for (let index = 0; index < 1_000; index++) {
      expect(rng.chance(0)).toBe(false)
      expect(rng.chance(1)).toBe(true)
    }
  })

  test('an all-zero state is refused', () => {
    expect(() => new Xoshiro128ss(0, 0, 0, 0)).toThrow(/all zero/)
  })
})
