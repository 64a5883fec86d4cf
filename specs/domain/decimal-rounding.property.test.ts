/**
 * The fixed-point arithmetic against exact rational arithmetic, over seeded random amounts of every sign and size (up
 * to 40 digits of units, past what a record holds): mulUnits, mulUnitsTwoWays, divUnits and roundToStep round as they
 * say — down toward −∞, up toward +∞, half-even to the nearest with ties to the even — and formatDecimal ∘
 * parseComputedDecimal is the identity. The seed is printed; replay one with DECIMAL_ROUNDING_SEED=<seed> (fixed by default, so CI runs are repeatable).
 */

import { describe, expect, test } from 'bun:test'
import { divUnits, formatDecimal, mulUnits, mulUnitsTwoWays, parseComputedDecimal, roundToStep, UNIT, type Rounding } from '../../src/domain/decimal.ts'

const SEED = process.env.DECIMAL_ROUNDING_SEED === undefined ? 600_601 : Number(process.env.DECIMAL_ROUNDING_SEED)
const ROUNDINGS: Rounding[] = ['down', 'up', 'half_even']

function rngOf(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** n / d (d > 0) rounded as asked, from floor division: the reference. */
function reference(n: bigint, d: bigint, rounding: Rounding): bigint {
  const floor = n >= 0n ? n / d : -((-n + d - 1n) / d)
  const rest = n - floor * d // 0 ≤ rest < d
  if (rest === 0n || rounding === 'down') return floor
  if (rounding === 'up') return floor + 1n
  if (2n * rest < d) return floor
  if (2n * rest > d) return floor + 1n
  return floor % 2n === 0n ? floor : floor + 1n
}

function amount(r: () => number): bigint {
  const digits = 1 + Math.floor(r() * 40)
  let text = ''
  for (let index = 0; index < digits; index++) text += String(Math.floor(r() * 10))
  // Small ones, ties and exact multiples come up often with few digits; a sign half the time.
  const value = BigInt(text)
  return r() < 0.5 ? -value : value
}

describe(`decimal rounding against exact arithmetic (seed ${SEED})`, () => {
  test('products, quotients and steps round as asked; texts round-trip', () => {
    const r = rngOf(SEED)
    for (let run = 0; run < 20_000; run++) {
      const a = amount(r)
      const b = amount(r)
      for (const rounding of ROUNDINGS) {
        expect(mulUnits(a, b, rounding)).toBe(reference(a * b, UNIT, rounding))
        if (b !== 0n) expect(divUnits(a, b, rounding)).toBe(b > 0n ? reference(a * UNIT, b, rounding) : reference(-a * UNIT, -b, rounding))
        const step = b < 0n ? -b : b
        if (step > 0n) expect(roundToStep(a, step, rounding)).toBe(reference(a, step, rounding) * step)
      }
      const [first, second] = mulUnitsTwoWays(a, b, 'up', 'half_even')
      expect([first, second]).toEqual([reference(a * b, UNIT, 'up'), reference(a * b, UNIT, 'half_even')])
      expect(parseComputedDecimal(formatDecimal(a))).toBe(a)
    }
  })
})
