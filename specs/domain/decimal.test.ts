import { describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { DecimalError, divUnits, formatDecimal, mulUnits, mulUnitsTwoWays, parseDecimal, roundToStep, tryParseDecimal, UNIT } from '../../src/domain/decimal.ts'

const d = parseDecimal

describe('decimals', () => {
  test('parse and format round-trip canonical text', () => {
    for (const text of ['0', '1', '1.5', '-2.25', '0.00000001', '12345678901234567890.12345678']) {
      expect(formatDecimal(d(text))).toBe(text)
    }
    expect(formatDecimal(d('1.50000000'))).toBe('1.5')
    expect(formatDecimal(d('-0'))).toBe('0')
  })

  test('formatting is the same on a repeat, past the bound of remembered texts', () => {
    // 10 000 distinct amounts (more than are remembered), of both signs and all scales, then each again.
    const values = Array.from({ length: 10_000 }, (_, index) => BigInt(index - 5_000) * 10n ** BigInt(index % 20) + BigInt(index % 7))
    const first = values.map(formatDecimal)
    const repeated = values.map(formatDecimal)
    expect(repeated).toEqual(first)
    expect(first.map(d)).toEqual(values)
    expect(new Set(first).size).toBe(new Set(values).size)
  })

  test('malformed text is a DecimalError naming what was expected', () => {
    for (const text of ['', ' 1', '1e3', '+1', '1.', '.5', '1.123456789', 'NaN', '0x10']) {
      expect(() => d(text)).toThrow(DecimalError)
      expect(tryParseDecimal(text)).toBeNull()
    }
  })

  test('rounding to a step: down, up and half-even', () => {
    expect(roundToStep(d('1.234'), d('0.01'), 'down')).toBe(d('1.23'))
    expect(roundToStep(d('1.231'), d('0.01'), 'up')).toBe(d('1.24'))
    expect(roundToStep(d('1.23'), d('0.01'), 'up')).toBe(d('1.23'))
    expect(roundToStep(d('1.225'), d('0.01'), 'half_even')).toBe(d('1.22'))
    expect(roundToStep(d('1.235'), d('0.01'), 'half_even')).toBe(d('1.24'))
    expect(roundToStep(d('-1.234'), d('0.01'), 'down')).toBe(d('-1.24'))
    expect(() => roundToStep(d('1'), 0n, 'down')).toThrow(DecimalError)
  })

  test('multiplication and division round as asked', () => {
    expect(mulUnits(d('0.12345'), d('50000.005'), 'up')).toBe(d('6172.50061725'))
    expect(mulUnits(d('0.00000001'), d('0.5'), 'down')).toBe(0n)
    expect(mulUnits(d('0.00000001'), d('0.5'), 'up')).toBe(d('0.00000001'))
    expect(divUnits(d('1'), d('3'), 'down')).toBe(d('0.33333333'))
    expect(divUnits(d('2'), d('3'), 'half_even')).toBe(d('0.66666667'))
    expect(() => divUnits(d('1'), 0n, 'down')).toThrow(DecimalError)
  })
})

/** The rounding rules as first written (one division per call, the distance above the floor by multiplication). */
function referenceDivRound(numerator: bigint, denominator: bigint, rounding: 'down' | 'up' | 'half_even'): bigint {
  if (denominator < 0n) return referenceDivRound(-numerator, -denominator, rounding)
  const quotient = numerator / denominator
  if (numerator % denominator === 0n) return quotient
  const floor = numerator < 0n ? quotient - 1n : quotient
  if (rounding === 'down') return floor
  if (rounding === 'up') return floor + 1n
  const twice = 2n * (numerator - floor * denominator)
  if (twice < denominator) return floor
  if (twice > denominator) return floor + 1n
  return floor % 2n === 0n ? floor : floor + 1n
}

describe('multiplication rounded two ways', () => {
  const roundings = ['down', 'up', 'half_even'] as const
  const amount = fc.oneof(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: -300n, max: 300n }), fc.constantFrom(0n, 50_000_000n, -50_000_000n, 150_000_000n, -150_000_000n))

  test('mulUnitsTwoWays and mulUnits agree with the rounding rules as first written, for any signs and ties', () => {
    fc.assert(
      fc.property(amount, amount, fc.constantFrom(...roundings), fc.constantFrom(...roundings), (a, b, first, second) => {
        const expected = [referenceDivRound(a * b, UNIT, first), referenceDivRound(a * b, UNIT, second)]
        expect(mulUnitsTwoWays(a, b, first, second)).toEqual([expected[0] as bigint, expected[1] as bigint])
        expect(mulUnits(a, b, first)).toBe(expected[0] as bigint)
      }),
      { numRuns: 5_000, seed: 5 },
    )
  })

  test('divUnits and roundToStep keep the rounding rules as first written', () => {
    const positive = fc.bigInt({ min: 1n, max: 10n ** 12n })
    fc.assert(
      fc.property(amount, positive, fc.constantFrom(...roundings), (a, step, rounding) => {
        expect(divUnits(a, step, rounding)).toBe(referenceDivRound(a * UNIT, step, rounding))
        expect(roundToStep(a, step, rounding)).toBe(referenceDivRound(a, step, rounding) * step)
      }),
      { numRuns: 3_000, seed: 6 },
    )
  })
})

describe('decimal text refused: the message says the whole rule', () => {
  // A qty of 29 whole digits was refused "expected a decimal string with at most 8 places": the wrong reason.
  test('too many whole digits, and too many places, are both named in the refusal', async () => {
    const v = await import('valibot')
    const { unitsSchema } = await import('../../src/domain/schema-kit.ts')
    for (const text of ['1'.repeat(29), '1.123456789']) {
      const parsed = v.safeParse(unitsSchema, text)
      expect(parsed.success).toBe(false)
      expect(parsed.issues?.[0]?.message).toBe('expected a decimal string with at most 20 whole digits and 8 places')
      expect(() => parseDecimal(text)).toThrow(`expected a decimal string with at most 20 whole digits and 8 places, got "${text}"`)
    }
  })
})
