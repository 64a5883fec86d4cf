/**
 * Texts the kernel keeps instead of building per order (instrument keys, a frozen principal's roles): each must be the
 * text it replaces, whatever was asked before, and the kept set stays bounded.
 */

import { describe, expect, test } from 'bun:test'
import { rolesText } from '../../src/domain/accounts.ts'
import { smallBigInt } from '../../src/domain/decimal.ts'
import { instrumentKey } from '../../src/domain/instruments.ts'

describe('instrumentKey', () => {
  test('is venue:symbol, the same text on every call, past the bound of kept keys', () => {
    expect(instrumentKey('sim', 'BTC-USD')).toBe('sim:BTC-USD')
    for (let i = 0; i < 10_000; i++) expect(instrumentKey(`v${i % 7}`, `S${i}`)).toBe(`v${i % 7}:S${i}`)
    expect(instrumentKey('sim', 'BTC-USD')).toBe('sim:BTC-USD')
    expect(instrumentKey('sim', 'ETH-USD')).toBe('sim:ETH-USD')
    expect(instrumentKey('sim:BTC', '-USD')).toBe('sim:BTC:-USD')
  })
})

describe('rolesText', () => {
  test('joins the roles; an array that is not frozen is read again on every call', () => {
    const roles: ('trader' | 'ops')[] = ['trader']
    expect(rolesText(roles)).toBe('trader')
    roles.push('ops')
    expect(rolesText(roles)).toBe('trader,ops')
    const frozen = Object.freeze(['trader', 'ops'] as const)
    expect(rolesText(frozen)).toBe('trader,ops')
    expect(rolesText(frozen)).toBe('trader,ops')
  })
})

describe('smallBigInt', () => {
  test('is BigInt(n) for kept and other whole numbers, and throws as BigInt does for a fraction', () => {
    for (const n of [0, 1, 10, 500, 10_500, 20_000, 20_001, 1e9]) expect(smallBigInt(n)).toBe(BigInt(n))
    expect(smallBigInt(-3)).toBe(-3n)
    expect(() => smallBigInt(1.5)).toThrow()
  })
})
