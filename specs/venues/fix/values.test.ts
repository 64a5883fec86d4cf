import { describe, expect, test } from 'bun:test'
import { parseUtcTimestamp, formatUtcTimestamp } from '../../../src/venues/fix/time.ts'
import { formatFixDecimal, parseFixDecimal, parseFixOrdStatus, parseFixSide } from '../../../src/venues/fix/values.ts'

describe('FIX values', () => {
  test('decimals parse exactly, never through a float', () => {
    expect(parseFixDecimal('100')).toBe(100_00000000n)
    expect(parseFixDecimal('1.5')).toBe(1_50000000n)
    expect(parseFixDecimal('.5')).toBe(50000000n)
    expect(parseFixDecimal('-2.000000000000')).toBe(-2_00000000n)
    expect(parseFixDecimal('0.00000001')).toBe(1n)
    expect(parseFixDecimal('0.1')).toBe(10000000n) // 0.1 is not 0.1000000000000000055…
    expect(parseFixDecimal('12345678901234567890.12345678')).toBe(1234567890123456789012345678n)
  })

  test('values egress cannot hold exactly are null, not rounded', () => {
    for (const text of ['0.000000001', '1e5', '', '.', '-', '1.2.3', '+1', ' 1', 'NaN', '1,5']) expect(parseFixDecimal(text), text).toBeNull()
    expect(parseFixDecimal(undefined)).toBeNull()
  })

  test('format is the canonical decimal string', () => {
    expect(formatFixDecimal(150_50000000n)).toBe('150.5')
    expect(formatFixDecimal(1n)).toBe('0.00000001')
  })

  test('sides and statuses', () => {
    expect(parseFixSide('1')).toBe('buy')
    expect(parseFixSide('5')).toBe('sell')
    expect(parseFixSide('9')).toBeNull()
    expect(parseFixOrdStatus('1')).toBe('partially_filled')
    expect(parseFixOrdStatus('5')).toBe('canceled')
    expect(parseFixOrdStatus('Z')).toBeNull()
  })

  test('UTCTimestamp round trip with and without milliseconds', () => {
    const ms = Date.UTC(2024, 0, 2, 3, 4, 5, 678)
    expect(formatUtcTimestamp(ms)).toBe('20240102-03:04:05.678')
    expect(parseUtcTimestamp('20240102-03:04:05.678')).toBe(ms)
    expect(parseUtcTimestamp('20240102-03:04:05')).toBe(ms - 678)
    expect(parseUtcTimestamp('20240102-03:04:05.678123')).toBe(ms)
    expect(parseUtcTimestamp('2024-01-02')).toBeNull()
  })

  test('a UTCTimestamp whose fields are out of range is none: not rolled over into another time', () => {
    // 2023-11-14 22:13:20 UTC, written as hour 46 of the day before, or as 31 November's hour: Date.UTC rolled both over.
    for (const text of ['20231113-46:13:20', '20231131-10:00:00', '20231114-22:73:20', '20231114-22:13:61', '20230229-00:00:00', '20231300-00:00:00', '20231100-00:00:00']) {
      expect([text, parseUtcTimestamp(text)]).toEqual([text, null])
    }
    // Years 0–99 are years 0–99, not 1900–1999; a leap second and 29 February of a leap year read.
    expect(parseUtcTimestamp('00991114-22:13:20')).toBe(new Date('0099-11-14T22:13:20Z').getTime())
    expect(parseUtcTimestamp('20231114-23:59:60')).toBe(Date.UTC(2023, 10, 15))
    expect(parseUtcTimestamp('20240229-00:00:00.050')).toBe(Date.UTC(2024, 1, 29) + 50)
  })
})
