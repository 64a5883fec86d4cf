import { describe, expect, test } from 'bun:test'
import { canonicalConfigJson, configDigest, defaultConfig, parseConfig } from '../../src/config/index.ts'

describe('configDigest', () => {
  test('is a 64-hex sha256 and stable across calls', () => {
    const digest = configDigest(defaultConfig())
    expect(digest).toMatch(/^[0-9a-f]{64}$/)
    expect(configDigest(defaultConfig())).toBe(digest)
  })

  test('does not depend on the order fields were written in', () => {
    const a = parseConfig({ port: 9000, wal: { durability: 'none', segmentBytesMax: 2 * 1024 * 1024 } })
    const b = parseConfig({ wal: { segmentBytesMax: 2 * 1024 * 1024, durability: 'none' }, port: 9000 })
    expect(configDigest(a)).toBe(configDigest(b))
  })

  test('changes when any field changes, nested ones included', () => {
    const base = configDigest(defaultConfig())
    const variants = [
      { port: 8081 },
      { mode: 'shadow', auth: { hs256Enabled: true } },
      { wal: { durability: 'none' } },
      { sse: { heartbeatMs: 4000 } },
      { accounts: [{ id: 'demo-1', balances: { USD: '1000001' } }] },
    ]
    const digests = variants.map((variant) => configDigest(parseConfig(variant)))
    for (const digest of digests) expect(digest).not.toBe(base)
    expect(new Set(digests).size).toBe(variants.length)
  })

  test('hashes secrets instead of including them, and still changes when the secret does', () => {
    const secret = 's'.repeat(40)
    const config = parseConfig({ auth: { hs256Secret: secret } })
    const canonical = canonicalConfigJson(config)
    expect(canonical).not.toContain(secret)
    expect(canonical).toMatch(/"hs256Secret":"sha256:[0-9a-f]{64}"/)
    expect(configDigest(config)).not.toBe(configDigest(parseConfig({ auth: { hs256Secret: 't'.repeat(40) } })))
  })

  test('the canonical form has sorted keys and no whitespace', () => {
    const canonical = canonicalConfigJson(defaultConfig())
    expect(canonical.startsWith('{"accounts":[{"balances":{"BTC":"10","ETH":"100","USD":"1000000"},"id":"demo-1"')).toBe(true)
    expect(canonical).not.toMatch(/\s/)
  })
})
