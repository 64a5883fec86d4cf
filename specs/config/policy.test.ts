import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../../src/cli/index.ts'
import { accountPolicySettings, canonicalConfigJson, configDigest, defaultConfig, isoTimeMs, parseConfig } from '../../src/config/index.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { paperKernelConfig, paperPolicy } from '../../src/runtime/paper.ts'
import { recordingIo } from '../cli/io.ts'
import { messageOf } from './support.ts'

const FIX_VENUE = {
  type: 'fix', name: 'fixa', host: '127.0.0.1', port: 9876, beginString: 'FIX.4.4', senderCompId: 'EGRESS', targetCompId: 'VENUE', marketData: 'static',
  instruments: [{ symbol: 'XYZ', baseAsset: 'XYZ', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '1000', referencePrice: '10' }],
}

function withPolicy(policy: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { accounts: [{ id: 'desk-1', balances: { USD: '1000' }, policy }], ...extra }
}

describe('config account policies', () => {
  test('absent, the digest is the one the build before them computed, and every account gets the paper policy', () => {
    // Digests computed by the build before accounts[].policy and defaultPolicy existed (commit ebbd398).
    expect(configDigest(defaultConfig())).toBe('61a937cab36a2db308806e2f272b2d3e1f167e0fba97f9ac4d305913d859ff1d')
    const plain = parseConfig({ accounts: [{ id: 'desk-1', balances: { USD: '1000' } }, { id: 'bot-7', venue: 'sim' }], kernel: { reconcileGraceMs: 900 } })
    expect(configDigest(plain)).toBe('b9f3ec355508556b904f70b0ecb5bc02e55138ba55af2630299df3d754cecc8b')
    expect(canonicalConfigJson(plain)).not.toContain('olicy')
    expect(accountPolicySettings(plain).size).toBe(0)
    // The kernel config is the paper one, field for field: no newOrdersBy, so its record reads as before.
    const kernel = paperKernelConfig({ accounts: [{ accountId: 'desk-1', balances: {} }], digest: 'd' })
    expect(kernel.policies).toEqual([paperPolicy('desk-1', defaultSimInstruments(), 8_640_000_000_000_000)])
    expect('newOrdersBy' in (kernel.policies[0] as object)).toBe(false)
    // Self-trade prevention is on by default, and recorded so: a policy without it is an older build's record.
    expect(kernel.policies[0]?.selfTrade).toBe('reject')
  })

  test('selfTrade: unset keeps the digest and means "reject"; set, it enters the digest and reaches the policy, merged over defaultPolicy', () => {
    const unset = withPolicy({ maxOpenOrders: 5 })
    // The digest of the same config computed by the build before selfTrade existed (it wrote nothing for it).
    expect(configDigest(parseConfig(unset))).toBe('dbfd0a371288f6f37bb4153f9cb954ab95256ad9aaba6c181c325e11b1d1e32b')
    expect(canonicalConfigJson(parseConfig(unset))).not.toContain('selfTrade')
    expect(accountPolicySettings(parseConfig(unset)).get('desk-1')).not.toHaveProperty('selfTrade')
    expect(paperPolicy('desk-1', defaultSimInstruments(), 1, accountPolicySettings(parseConfig(unset)).get('desk-1')).selfTrade).toBe('reject')
    const allow = parseConfig(withPolicy({ maxOpenOrders: 5, selfTrade: 'allow' }))
    const reject = parseConfig(withPolicy({ maxOpenOrders: 5, selfTrade: 'reject' }))
    expect(new Set([parseConfig(unset), allow, reject].map((config) => configDigest(config))).size).toBe(3)
    expect(paperPolicy('desk-1', defaultSimInstruments(), 1, accountPolicySettings(allow).get('desk-1')).selfTrade).toBe('allow')
    expect(accountPolicySettings(reject).get('desk-1')?.selfTrade).toBe('reject')
    // defaultPolicy's setting applies to every account, an account's own wins.
    const merged = parseConfig({ defaultPolicy: { selfTrade: 'allow' }, accounts: [{ id: 'mm', policy: { maxOpenOrders: 5 } }, { id: 'desk', policy: { selfTrade: 'reject' } }, { id: 'plain' }] })
    const settings = accountPolicySettings(merged)
    expect([settings.get('mm')?.selfTrade, settings.get('desk')?.selfTrade, settings.get('plain')?.selfTrade]).toEqual(['allow', 'reject', 'allow'])
  })

  test('a policy, or a default policy, enters the digest', () => {
    const base = configDigest(parseConfig(withPolicy(undefined)))
    const digests = [withPolicy({}), withPolicy({ maxOpenOrders: 5 }), withPolicy({ maxOpenOrders: 6 }), { ...withPolicy(undefined), defaultPolicy: { maxOpenOrders: 5 } }].map((input) => configDigest(parseConfig(input)))
    expect(new Set([base, ...digests]).size).toBe(5)
  })

  test('each field is converted, account settings win over defaultPolicy field by field, the rest keep the paper defaults', () => {
    const config = parseConfig({
      defaultPolicy: { maxOrderNotional: '250000.5', maxOpenOrders: 20, validUntil: '2027-01-01T00:00:00Z', newOrdersBy: ['trader'] },
      accounts: [
        { id: 'desk-1', policy: { instruments: ['sim:BTC-USD', 'sim:ETH-USD'], marketOrderInstruments: ['sim:BTC-USD'], maxOpenOrders: 3, validFrom: 1_700_000_000_000, liveAllowed: true } },
        { id: 'bot-7', policy: { newOrdersBy: ['bot', 'trader'], validUntil: '2026-06-30T12:00:00+02:00' } },
        { id: 'plain' },
      ],
    })
    const settings = accountPolicySettings(config)
    expect(settings.get('desk-1')).toEqual({
      instruments: ['sim:BTC-USD', 'sim:ETH-USD'], marketOrderInstruments: ['sim:BTC-USD'], maxOrderNotional: parseDecimal('250000.5'), maxOpenOrders: 3, liveAllowed: true,
      validFromMs: 1_700_000_000_000, validUntilMs: Date.UTC(2027, 0, 1), newOrdersBy: ['trader'],
    })
    expect(settings.get('bot-7')).toEqual({ maxOrderNotional: parseDecimal('250000.5'), maxOpenOrders: 20, validUntilMs: Date.UTC(2026, 5, 30, 10), newOrdersBy: ['bot', 'trader'] })
    expect(settings.get('plain')).toEqual({ maxOrderNotional: parseDecimal('250000.5'), maxOpenOrders: 20, validUntilMs: Date.UTC(2027, 0, 1), newOrdersBy: ['trader'] })
    const policy = paperPolicy('plain', defaultSimInstruments(), 8_640_000_000_000_000, settings.get('plain'))
    expect(policy).toEqual({
      accountId: 'plain', instruments: ['sim:BTC-USD', 'sim:ETH-USD', 'sim:AAPL'], marketOrderInstruments: [], maxOrderNotional: parseDecimal('250000.5'), maxOpenOrders: 20,
      liveAllowed: false, validFromMs: 0, validUntilMs: Date.UTC(2027, 0, 1), newOrdersBy: ['trader'], selfTrade: 'reject',
    })
  })

  test('a configured venue\'s instruments may be named as name:symbol', () => {
    const config = parseConfig(withPolicy({ instruments: ['fixa:XYZ', 'sim:AAPL'] }, { venues: [FIX_VENUE] }))
    expect(accountPolicySettings(config).get('desk-1')?.instruments).toEqual(['fixa:XYZ', 'sim:AAPL'])
  })

  test('every bad field is refused naming its path and what was expected', () => {
    const cases: [unknown, string][] = [
      [{ maxOrderNotional: '0' }, 'accounts.0.policy.maxOrderNotional: expected a positive decimal string with at most 8 places and no leading zero, like "250000" or "1000.5", got "0"'],
      [{ maxOrderNotional: 1000 }, 'accounts.0.policy.maxOrderNotional: expected a positive decimal string with at most 8 places and no leading zero, like "250000" or "1000.5", got 1000'],
      [{ maxOrderNotional: '0250000' }, 'accounts.0.policy.maxOrderNotional: expected a positive decimal string with at most 8 places and no leading zero, like "250000" or "1000.5", got "0250000"'],
      [{ maxOrderNotional: '1e6' }, 'accounts.0.policy.maxOrderNotional: expected a positive decimal string'],
      [{ maxOrderNotional: '1.123456789' }, 'accounts.0.policy.maxOrderNotional: expected a positive decimal string'],
      [{ maxOpenOrders: -1 }, 'accounts.0.policy.maxOpenOrders: expected an integer between 0 and 1000000, got -1'],
      [{ maxOpenOrders: 2.5 }, 'accounts.0.policy.maxOpenOrders: expected an integer between 0 and 1000000, got 2.5'],
      [{ liveAllowed: 'yes' }, 'accounts.0.policy.liveAllowed: expected true or false, got "yes"'],
      [{ instruments: 'sim:BTC-USD' }, 'accounts.0.policy.instruments: expected a list of instrument keys, got "sim:BTC-USD"'],
      [{ instruments: ['BTC-USD'] }, 'accounts.0.policy.instruments.0: expected an instrument key "venue:symbol", like "sim:BTC-USD", got "BTC-USD"'],
      [{ instruments: ['sim:DOGE-USD'] }, 'accounts.0.policy.instruments.0: expected an instrument the config serves (sim:BTC-USD, sim:ETH-USD, sim:AAPL), got "sim:DOGE-USD"'],
      [{ instruments: ['sim:AAPL', 'sim:AAPL'] }, 'accounts.0.policy.instruments.1: duplicate instrument key "sim:AAPL"'],
      [{ marketOrderInstruments: ['fixa:XYZ'] }, 'accounts.0.policy.marketOrderInstruments.0: expected an instrument the config serves (sim:BTC-USD, sim:ETH-USD, sim:AAPL), got "fixa:XYZ"'],
      [{ instruments: ['sim:AAPL'], marketOrderInstruments: ['sim:BTC-USD'] }, 'accounts.0.policy.marketOrderInstruments: "sim:BTC-USD" is not in the policy\'s instruments'],
      [{ validFrom: '2026-01-01' }, 'accounts.0.policy.validFrom: expected an ISO 8601 time with a zone, like "2026-01-01T00:00:00Z", or epoch milliseconds (an integer ≥ 0), got "2026-01-01"'],
      [{ validUntil: '2026-02-30T00:00:00Z' }, 'accounts.0.policy.validUntil: expected an ISO 8601 time with a zone'],
      [{ validUntil: '2026-01-01T00:00:00' }, 'accounts.0.policy.validUntil: expected an ISO 8601 time with a zone'],
      [{ validUntil: -5 }, 'accounts.0.policy.validUntil: expected an ISO 8601 time with a zone, like "2026-01-01T00:00:00Z", or epoch milliseconds (an integer ≥ 0), got -5'],
      [{ validFrom: '2026-06-01T00:00:00Z', validUntil: '2026-01-01T00:00:00Z' }, 'accounts.0.policy.validUntil: expected a time after validFrom ("2026-06-01T00:00:00Z"), got "2026-01-01T00:00:00Z"'],
      [{ newOrdersBy: ['admin'] }, 'accounts.0.policy.newOrdersBy.0: expected one of "trader", "bot", got "admin"'],
      [{ newOrdersBy: 'bot' }, 'accounts.0.policy.newOrdersBy: expected a list of principal kinds, got "bot"'],
      [{ newOrdersBy: ['bot', 'bot'] }, 'accounts.0.policy.newOrdersBy: expected each principal kind at most once, got ["bot","bot"]'],
      [{ selfTrade: 'warn' }, 'accounts.0.policy.selfTrade: expected one of "reject", "allow", got "warn"'],
      [{ selfTrade: false }, 'accounts.0.policy.selfTrade: expected one of "reject", "allow", got false'],
      [{ maxOpenOrder: 5 }, 'accounts.0.policy.maxOpenOrder: unknown field'],
      ['strict', 'accounts.0.policy: expected an object, got "strict"'],
    ]
    for (const [policy, message] of cases) expect(messageOf(() => parseConfig(withPolicy(policy)))).toContain(message)
    expect(messageOf(() => parseConfig({ defaultPolicy: { instruments: ['sim:X'] } }))).toContain('defaultPolicy.instruments.0: expected an instrument the config serves')
    expect(messageOf(() => parseConfig({ defaultPolicy: { newOrdersBy: ['ops'] } }))).toContain('defaultPolicy.newOrdersBy.0: expected one of "trader", "bot", got "ops"')
    expect(messageOf(() => parseConfig({ defaultPolicy: { selfTrade: 'Allow' } }))).toContain('defaultPolicy.selfTrade: expected one of "reject", "allow", got "Allow"')
    // Merged over defaultPolicy: the account's instruments drop the market instrument defaultPolicy enables.
    const merged = { defaultPolicy: { marketOrderInstruments: ['sim:BTC-USD'] }, accounts: [{ id: 'a', policy: { instruments: ['sim:ETH-USD'] } }] }
    expect(messageOf(() => parseConfig(merged))).toContain('accounts.0.policy.marketOrderInstruments: "sim:BTC-USD" is not in the policy\'s instruments')
  })

  test('ISO times: a zone is required, offsets apply, impossible dates and instants before 1970 are refused', () => {
    expect(isoTimeMs('2026-01-01T00:00:00Z')).toBe(Date.UTC(2026, 0, 1))
    expect(isoTimeMs('2026-01-01T09:30+09:00')).toBe(Date.UTC(2026, 0, 1, 0, 30))
    expect(isoTimeMs('2025-12-31T23:00:00.5-01:00')).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 500))
    expect(isoTimeMs('0050-01-01T00:00:00Z')).toBeNull() // before 1970: not an epoch-ms instant
    expect(isoTimeMs('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29))
    for (const bad of ['2025-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T00:00:00+24:00', '2026-01-01 00:00:00Z', 'tomorrow']) expect(isoTimeMs(bad)).toBeNull()
  })

  test('egress serve with a bad policy exits 1 with one line naming the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-config-'))
    try {
      const path = join(dir, 'egress.json')
      writeFileSync(path, JSON.stringify({ dataDir: dir, ...withPolicy({ instruments: ['sim:DOGE-USD'] }) }))
      const io = recordingIo({})
      expect(await runCli(['serve', '--config', path], io)).toBe(1)
      expect(io.stderr).toHaveLength(1)
      expect(io.stderr[0]).toContain('accounts.0.policy.instruments.0: expected an instrument the config serves')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
