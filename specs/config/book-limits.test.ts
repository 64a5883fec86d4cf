/**
 * The book limits in the config file: `venues[].instruments[].touchQtyMin` (a positive amount) and
 * `kernel.spreadBpsMax` / `kernel.touchShareBpsMax` (1–10000). Unset, each is off and absent from the canonical config,
 * so configs written before them keep their digest; set, they reach the kernel's instruments and params.
 */

import { describe, expect, test } from 'bun:test'
import { fixInstruments } from '../../src/cli/serve-fix.ts'
import { canonicalConfigJson, ConfigError, defaultConfig, fixVenueConfigs, kernelParamsOverrides, parseConfig } from '../../src/config/index.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { messageOf } from './support.ts'

const instrument = { symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10000', referencePrice: '100' }
const fixVenue = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  type: 'fix', name: 'broker-a', host: '127.0.0.1', port: 9878, beginString: 'FIX.4.4', senderCompId: 'EGRESS', targetCompId: 'BROKER', marketData: 'static',
  instruments: [{ ...instrument, ...over }],
})

describe('config book limits', () => {
  test('unset: off, and absent from the canonical config (digests unchanged) and from the kernel config', () => {
    const config = parseConfig({ venues: [fixVenue()], kernel: { takerFeeBps: 5 } })
    const json = canonicalConfigJson(config)
    for (const name of ['touchQtyMin', 'spreadBpsMax', 'touchShareBpsMax']) expect(json).not.toContain(name)
    expect(canonicalConfigJson(defaultConfig())).not.toContain('touchQtyMin')
    const venue = fixVenueConfigs(config.venues)[0]
    if (venue === undefined) throw new Error('a venue')
    expect('touchQtyMin' in (fixInstruments(venue)[0] ?? {})).toBe(false)
    expect(kernelParamsOverrides(config.kernel)).toEqual({ takerFeeBps: 5 })
  })

  test('set: they reach the kernel instrument and params', () => {
    const config = parseConfig({ venues: [fixVenue({ touchQtyMin: '25' })], kernel: { spreadBpsMax: 30, touchShareBpsMax: 2_500 } })
    const venue = fixVenueConfigs(config.venues)[0]
    if (venue === undefined) throw new Error('a venue')
    expect(fixInstruments(venue)[0]?.touchQtyMin).toBe(parseDecimal('25'))
    expect(kernelParamsOverrides(config.kernel)).toEqual({ spreadBpsMax: 30, touchShareBpsMax: 2_500 })
  })

  test('bad values are refused naming the field', () => {
    expect(messageOf(() => parseConfig({ venues: [fixVenue({ touchQtyMin: '0' })] }))).toContain('venues.0.instruments.0.touchQtyMin: expected a positive amount, got "0"')
    expect(messageOf(() => parseConfig({ venues: [fixVenue({ touchQtyMin: 5 })] }))).toContain('venues.0.instruments.0.touchQtyMin')
    expect(messageOf(() => parseConfig({ kernel: { spreadBpsMax: 0 } }))).toContain('kernel.spreadBpsMax: expected an integer between 1 and 10000, got 0')
    expect(messageOf(() => parseConfig({ kernel: { touchShareBpsMax: 20_000 } }))).toContain('kernel.touchShareBpsMax: expected an integer between 1 and 10000, got 20000')
    expect(() => parseConfig({ kernel: { spreadBpsMax: 1.5 } })).toThrow(ConfigError)
  })
})
