import { describe, expect, test } from 'bun:test'
import { DecimalError, divUnits, formatDecimal, mulUnits, parseDecimal, roundToStep, tryParseDecimal } from '../../src/domain/decimal.ts'

const d = parseDecimal

describe('decimals', () => {
  test('parse and format round-trip canonical text', () => {
    for (const text of ['0', '1', '1.5', '-2.25', '0.00000001', '12345678901234567890.12345678']) {
      expect(formatDecimal(d(text))).toBe(text)
    }
    expect(formatDecimal(d('1.50000000'))).toBe('1.5')
    expect(formatDecimal(d('-0'))).toBe('0')
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
