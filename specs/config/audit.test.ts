import { describe, expect, test } from 'bun:test'
import { ConfigError, configDigest, defaultConfig, parseConfig } from '../../src/config/index.ts'

describe('audit config', () => {
  test('defaults: seal every 10,000 records or 60 s, self-check every 30 s, HALT on tampering, no key (no seals)', () => {
    expect(defaultConfig().audit).toEqual({ sealEveryRecords: 10_000, sealEveryMs: 60_000, selfCheckEveryMs: 30_000, tamperResponse: 'HALT' })
  })

  test('fields are validated with their ranges, and the tamper response is HALT or CANCEL_ONLY', () => {
    const config = parseConfig({ audit: { signingKeyFile: 'keys/seal.jwk.json', tamperResponse: 'CANCEL_ONLY', sealEveryRecords: 500 } })
    expect(config.audit).toMatchObject({ signingKeyFile: 'keys/seal.jwk.json', tamperResponse: 'CANCEL_ONLY', sealEveryRecords: 500 })
    expect(configDigest(config)).not.toBe(configDigest(defaultConfig()))
    expect(() => parseConfig({ audit: { tamperResponse: 'IGNORE' } })).toThrow(ConfigError)
    expect(() => parseConfig({ audit: { sealEveryMs: 10 } })).toThrow('audit.sealEveryMs: expected an integer between 1000 and 86400000, got 10')
    expect(() => parseConfig({ audit: { sealEvery: 10 } })).toThrow('unknown field')
  })
})
