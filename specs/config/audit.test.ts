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

  test('periodic anchors: anchorEveryMs 0 (off) or at least 1000; the file bound within what --anchors reads; no default in the digest', () => {
    expect(parseConfig({ audit: { anchorEveryMs: 0 } }).audit.anchorEveryMs).toBe(0)
    expect(parseConfig({ audit: { anchorEveryMs: 1_000, anchorsFile: 'a.jsonl', anchorsFileBytesMax: 65_536 } }).audit).toMatchObject({ anchorEveryMs: 1_000, anchorsFile: 'a.jsonl' })
    expect(() => parseConfig({ audit: { anchorEveryMs: 500 } })).toThrow('audit.anchorEveryMs: expected 0 (off) or at least 1000, got 500')
    expect(() => parseConfig({ audit: { anchorsFileBytesMax: 268_435_457 } })).toThrow('audit.anchorsFileBytesMax: expected an integer between 65536 and 268435456')
    // Unset fields take their defaults in code (src/audit/setup.ts), so a config that does not name them keeps its digest.
    expect(Object.keys(defaultConfig().audit)).not.toContain('anchorEveryMs')
  })
})
