/**
 * Config `venues[]` entry of type "sim" (src/config/sim-venue.ts): the sim venue's instruments, validated field by
 * field with the path named, cross-checked (duplicates, opening price on the tick, one sim entry), and served to the
 * policy checks in place of the built-in ones. Without it: the built-in instruments and the digest of before.
 */

import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { firstOrderExample, simVenueInstruments } from '../../src/cli/serve-sim.ts'
import { paperBanner } from '../../src/cli/paper-banner.ts'
import { canonicalConfigJson, configDigest, defaultConfig, parseConfig, servedInstrumentKeys, simStoreOptions } from '../../src/config/index.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { defaultSimInstruments, SIM_RATE_LIMIT_PER_SECOND } from '../../src/domain/instruments.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { cli } from '../cli/io.ts'
import { messageOf } from './support.ts'

const SOL = { symbol: 'SOL-USD', baseAsset: 'SOL', quoteAsset: 'USD', tickSize: '0.01', lotSize: '0.01', minQty: '0.01', maxQty: '10000', openingPrice: '150' }
const DOGE = { symbol: 'DOGE-USDT', baseAsset: 'DOGE', quoteAsset: 'USDT', tickSize: '0.0001', lotSize: '1', minQty: '10', maxQty: '1000000', minNotional: '5', openingPrice: '0.15' }
const sim = (...instruments: Record<string, unknown>[]): Record<string, unknown> => ({ type: 'sim', instruments })
const fixVenue = { type: 'fix', name: 'broker-a', host: '127.0.0.1', port: 9878, beginString: 'FIX.4.4', senderCompId: 'E', targetCompId: 'B', marketData: 'static', requestTimeoutMs: 20_000, instruments: [{ symbol: 'IBM', baseAsset: 'IBM', quoteAsset: 'USD', tickSize: '0.01', lotSize: '1', minQty: '1', maxQty: '10', referencePrice: '100' }] }

describe('config venues: the sim entry', () => {
  test('absent: the digest of the build before it, and the built-in instruments served', () => {
    // The digest pinned in specs/config/policy.test.ts (computed by the build before account policies).
    expect(configDigest(defaultConfig())).toBe('61a937cab36a2db308806e2f272b2d3e1f167e0fba97f9ac4d305913d859ff1d')
    expect(canonicalConfigJson(defaultConfig())).not.toContain('venues')
    expect([...servedInstrumentKeys(defaultConfig().venues)]).toEqual(['sim:BTC-USD', 'sim:ETH-USD', 'sim:AAPL'])
    const built = simVenueInstruments(defaultConfig())
    expect(built.instruments).toEqual(defaultSimInstruments())
    expect(built.simInstruments).toEqual(simInstrumentsFor(defaultSimInstruments()))
    // With the kernel's size rules, which the sim venue refuses orders by as the gateway does (venues/sim/size-rules.test.ts).
    expect(built.simInstruments[0]).toMatchObject({ symbol: 'BTC-USD', minQty: parseDecimal('0.0001'), maxQty: parseDecimal('100'), minNotional: parseDecimal('10') })
    // An entry without instruments leaves them built in (it is written, so the digest is another).
    expect(simVenueInstruments(parseConfig({ venues: [{ type: 'sim' }] })).instruments).toEqual(defaultSimInstruments())
  })

  test("set: the instruments replace the built-in ones, with the sim's defaults and their opening prices", () => {
    const config = parseConfig({ venues: [sim(SOL, DOGE)] })
    expect(configDigest(config)).not.toBe(configDigest(defaultConfig()))
    expect(config.venues?.[0]).toMatchObject({ type: 'sim', name: 'sim' })
    expect([...servedInstrumentKeys(config.venues)]).toEqual(['sim:SOL-USD', 'sim:DOGE-USDT'])
    const { instruments, simInstruments } = simVenueInstruments(config)
    expect(instruments[0]).toEqual({
      venue: 'sim', symbol: 'SOL-USD', baseAsset: 'SOL', quoteAsset: 'USD', tickSize: parseDecimal('0.01'), lotSize: parseDecimal('0.01'), minQty: parseDecimal('0.01'),
      maxQty: parseDecimal('10000'), minNotional: 0n, priceBandBps: 500, orderTypes: ['limit', 'market'], timeInForce: ['GTC', 'IOC', 'FOK', 'DAY'],
      postOnly: true, reduceOnly: true, rateLimitPerSecond: SIM_RATE_LIMIT_PER_SECOND,
    })
    // The sim takes whatever it is sent: its request budget is the largest the config takes, so a paper run is not
    // paced (runtime/send-pacing.ts) unless the instrument sets one.
    expect(SIM_RATE_LIMIT_PER_SECOND).toBe(1_000_000)
    const budgeted = simVenueInstruments(parseConfig({ venues: [sim({ ...SOL, rateLimitPerSecond: 20 })] })).instruments[0]
    expect(budgeted?.rateLimitPerSecond).toBe(20)
    expect('touchQtyMin' in (instruments[0] ?? {})).toBe(false)
    // The sim venue learns the size rules from the same entry, and refuses what they refuse (venues/sim/size-rules.test.ts).
    expect(simInstruments[1]).toEqual({
      symbol: 'DOGE-USDT', baseAsset: 'DOGE', quoteAsset: 'USDT', tick: parseDecimal('0.0001'), lot: parseDecimal('1'), initialPrice: parseDecimal('0.15'),
      minQty: parseDecimal('10'), maxQty: parseDecimal('1000000'), minNotional: parseDecimal('5'),
    })
    expect(simInstruments[0]).toMatchObject({ minQty: parseDecimal('0.01'), maxQty: parseDecimal('10000'), minNotional: 0n })
    const limited = simVenueInstruments(parseConfig({ venues: [sim({ ...SOL, touchQtyMin: '25', orderTypes: ['limit'], postOnly: false })] })).instruments[0]
    expect(limited).toMatchObject({ touchQtyMin: parseDecimal('25'), orderTypes: ['limit'], postOnly: false })
  })

  test('a bad value exits naming its path and what was expected', () => {
    const { openingPrice: _openingPrice, ...withoutOpeningPrice } = DOGE
    const cases: [Record<string, unknown>, string][] = [
      [{ ...DOGE, tickSize: '0' }, 'venues.0.instruments.1.tickSize: expected a positive amount, got "0"'],
      [{ ...DOGE, tickSize: '-1' }, 'venues.0.instruments.1.tickSize: expected a non-negative decimal string'],
      [{ ...DOGE, openingPrice: '00.15' }, 'venues.0.instruments.1.openingPrice: expected a non-negative decimal string with at most 8 places and no leading zero, like "0.01" or "100", got "00.15"'],
      [{ ...DOGE, lotSize: 1 }, 'venues.0.instruments.1.lotSize: expected a non-negative decimal string'],
      [{ ...DOGE, minQty: '0' }, 'venues.0.instruments.1.minQty: expected a positive amount, got "0"'],
      [{ ...DOGE, maxQty: '5' }, 'venues.0.instruments.1.maxQty: must be ≥ minQty (10), got "5"'],
      [{ ...DOGE, touchQtyMin: '0' }, 'venues.0.instruments.1.touchQtyMin: expected a positive amount, got "0"'],
      [{ ...DOGE, openingPrice: '0.15005' }, 'venues.0.instruments.1.openingPrice: expected a multiple of tickSize (0.0001), got "0.15005"'],
      [{ ...DOGE, openingPrice: '0' }, 'venues.0.instruments.1.openingPrice: expected a positive amount, got "0"'],
      [withoutOpeningPrice, 'venues.0.instruments.1.openingPrice: required field is missing'],
      [{ ...DOGE, priceBandBps: 0 }, 'venues.0.instruments.1.priceBandBps: expected an integer between 1 and 10000, got 0'],
      [{ ...DOGE, orderTypes: ['stop'] }, 'venues.0.instruments.1.orderTypes.0: expected "limit" or "market", got "stop"'],
      [{ ...DOGE, orderTypes: [] }, 'venues.0.instruments.1.orderTypes: expected at least one order type'],
      [{ ...DOGE, timeInForce: [] }, 'venues.0.instruments.1.timeInForce: expected at least one time in force'],
      [{ ...DOGE, baseAsset: 'doge' }, 'venues.0.instruments.1.baseAsset: expected an asset code'],
      [{ ...DOGE, referencePrice: '0.15' }, 'venues.0.instruments.1.referencePrice: unknown field'],
      [{ ...DOGE, symbol: 'SOL-USD' }, 'venues.0.instruments.1.symbol: duplicate symbol "SOL-USD" on venue "sim"'],
    ]
    for (const [doge, expected] of cases) expect(messageOf(() => parseConfig({ venues: [sim(SOL, doge)] }))).toContain(expected)
  })

  test('the entry itself: one of it, named sim only, with at least one instrument; a FIX venue may not be named sim', () => {
    expect(messageOf(() => parseConfig({ venues: [sim(SOL), sim(DOGE)] }))).toContain('venues.1.type: the sim venue is configured once; venues.0 configures it already')
    expect(messageOf(() => parseConfig({ venues: [{ ...sim(SOL), name: 'paper' }] }))).toContain('venues.0.name: expected "sim" (the built-in sim venue\'s name), got "paper"')
    expect(messageOf(() => parseConfig({ venues: [sim()] }))).toContain('venues.0.instruments: expected at least one instrument')
    expect(messageOf(() => parseConfig({ venues: [{ ...sim(SOL), host: 'x' }] }))).toContain('venues.0.host: unknown field')
    expect(messageOf(() => parseConfig({ venues: [{ type: 'paper' }] }))).toContain('venues.0.type: expected a venue with type "fix" or "sim"')
    expect(messageOf(() => parseConfig({ venues: [{ ...fixVenue, name: 'sim' }] }))).toContain('venues.0.name: "sim" is the built-in sim venue; choose another name')
  })

  test("the entry's order store bounds: integers in range, the retention at least the gateway's one-minute resend window; unset, not written", () => {
    const bounds = simStoreOptions(parseConfig({ venues: [{ type: 'sim', ordersMax: 500_000, endedOrderRetentionMs: 60_000 }] }).venues)
    expect(bounds).toEqual({ ordersMax: 500_000, endedOrderRetentionMs: 60_000 })
    expect(simStoreOptions(parseConfig({ venues: [sim(SOL)] }).venues)).toEqual({})
    expect(simStoreOptions(defaultConfig().venues)).toEqual({})
    expect(canonicalConfigJson(parseConfig({ venues: [sim(SOL)] }))).not.toContain('ordersMax')
    const cases: [Record<string, unknown>, string][] = [
      [{ ordersMax: 999 }, 'venues.0.ordersMax: expected at least 1000'],
      [{ ordersMax: 10_000_001 }, 'venues.0.ordersMax: expected at most 10000000'],
      [{ ordersMax: 1_500.5 }, 'venues.0.ordersMax: expected an integer'],
      [{ ordersMax: '100000' }, 'venues.0.ordersMax: expected an integer'],
      [{ endedOrderRetentionMs: 59_999 }, 'venues.0.endedOrderRetentionMs: expected at least 60000'],
      [{ endedOrderRetentionMs: 86_400_001 }, 'venues.0.endedOrderRetentionMs: expected at most 86400000'],
    ]
    for (const [fields, expected] of cases) expect(messageOf(() => parseConfig({ venues: [{ type: 'sim', ...fields }] }))).toContain(expected)
  })

  test('a policy naming a sim instrument the config does not serve is refused; one it serves passes', () => {
    const withPolicy = (key: string): unknown => ({ venues: [sim(SOL)], accounts: [{ id: 'demo-1', policy: { instruments: [key] } }] })
    expect(messageOf(() => parseConfig(withPolicy('sim:BTC-USD')))).toContain('accounts.0.policy.instruments.0: expected an instrument the config serves (sim:SOL-USD), got "sim:BTC-USD"')
    expect(parseConfig(withPolicy('sim:SOL-USD')).accounts[0]?.policy?.instruments).toEqual(['sim:SOL-USD'])
    expect(messageOf(() => parseConfig({ venues: [sim(SOL)], defaultPolicy: { marketOrderInstruments: ['sim:ETH-USD'] } }))).toContain('defaultPolicy.marketOrderInstruments.0')
  })

  test('beside FIX venues: the reconcile grace rule names the FIX venue by its own index, the sim has no timeout', () => {
    expect(messageOf(() => parseConfig({ venues: [sim(SOL), fixVenue], kernel: { reconcileGraceMs: 1_000 } }))).toContain('kernel.reconcileGraceMs: must be ≥ venues.1.requestTimeoutMs (20000)')
    expect(parseConfig({ venues: [sim(SOL)], kernel: { reconcileGraceMs: 1_000 } }).kernel?.reconcileGraceMs).toBe(1_000)
  })

  test("serve's paper banner shows a first order the configured sim takes", () => {
    expect(firstOrderExample(defaultConfig())).toEqual({ symbol: 'BTC-USD', qty: '0.01', price: '61500', restingPrice: '58000' })
    // DOGE: half its band (500 bps) above 0.15 and below it, on its tick: 0.1537 (fills at once) and 0.1462 (rests);
    // minQty 10 there is 1.462 of notional, below minNotional 5: 35 (whole lots) is the least that passes at the resting
    // price, and so at the higher one.
    expect(firstOrderExample(parseConfig({ venues: [sim(DOGE, SOL)] }))).toEqual({ symbol: 'DOGE-USDT', qty: '35', price: '0.1537', restingPrice: '0.1462' })
    expect(paperBanner(parseConfig({ venues: [sim(SOL)] }), 'http://127.0.0.1:8080')).toContain('"symbol":"SOL-USD","side":"buy","type":"limit","qty":"0.01","price":"153.75"')
  })

  test('egress serve exits 1 naming the path of a bad sim instrument value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-sim-config-'))
    try {
      const path = join(dir, 'egress.json')
      writeFileSync(path, JSON.stringify({ dataDir: join(dir, 'data'), venues: [sim(SOL, { ...DOGE, tickSize: '0' })] }))
      const { code, err } = await cli(['serve', '--config', path])
      expect(code).toBe(1)
      expect(err).toContain('venues.0.instruments.1.tickSize: expected a positive amount, got "0"')
      expect(err).not.toContain('    at ')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
