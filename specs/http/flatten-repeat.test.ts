/**
 * The API's idempotency contract: a repeat (same Idempotency-Key, same body) answers the first answer byte for byte.
 * A flatten's 202 (`account`, `flatten_id`, `lsn`, `not_closed`) was built when answering, its repeat decided again (a
 * new `account.flatten_requested`, so a new `lsn`; `not_closed` read from the state then). Now the kernel holds the
 * first answer (src/kernel/flatten-held.ts; in the record, payload version 11, and the state, format 24): a repeat
 * within the key window decides nothing, writes nothing, is not charged to the account's rate and answers that answer,
 * after a restart too (replay or snapshot). A flatten's key and an order's are apart: each names its own.
 */

import { afterEach, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/index.ts'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { createVerifier } from '../../src/http/auth/index.ts'
import { createHttpService } from '../../src/http/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { json, LIMIT_BUY, post, SECRET, startTestGateway, type TestGateway } from './fixture.ts'

/** The sim trading BTC-USD only: demo-1's ETH is a holding no instrument trades (not_closed). */
const SIM_BTC_ONLY = {
  venues: [{ type: 'sim', instruments: [{ symbol: 'BTC-USD', baseAsset: 'BTC', quoteAsset: 'USD', tickSize: '0.01', lotSize: '0.0001', minQty: '0.0001', maxQty: '100', minNotional: '10', openingPrice: '60000' }] }],
}

const started: TestGateway[] = []
afterEach(async () => {
  for (const t of started.splice(0)) await t.stop()
})

async function gatewayOf(config: Record<string, unknown> = SIM_BTC_ONLY): Promise<TestGateway> {
  const t = await startTestGateway({ config })
  started.push(t)
  return t
}

type Request = (path: string, init?: RequestInit) => Promise<Response>

async function flatten(t: TestGateway, key: string, account = 'demo-1', request: Request = t.request): Promise<{ status: number; text: string }> {
  const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  const res = await request(`/v1/accounts/${account}/flatten`, post(ops, '', { 'Idempotency-Key': key }))
  return { status: res.status, text: await res.text() }
}

/** The LSNs of the log's account.flatten_requested records. */
function flattenLsns(gateway: TestGateway['gateway']): number[] {
  const lsns: number[] = []
  for (const frame of gateway.engine.wal.read(1)) if (domainEventOf(frame)?.type === 'account.flatten_requested') lsns.push(frame.lsn)
  return lsns
}

function flattenRecords(t: TestGateway): number {
  return flattenLsns(t.gateway).length
}

test('a repeat of a flatten (same key) answers the first answer byte for byte', async () => {
  const t = await gatewayOf()
  const first = await flatten(t, 'f-repeat')
  expect(first.status).toBe(202)
  expect(JSON.parse(first.text).not_closed).toEqual([{ asset: 'ETH', qty: '100', reason: 'INSTRUMENT_UNKNOWN' }])
  const repeat = await flatten(t, 'f-repeat')
  expect(repeat).toEqual(first)
})

test('a repeat writes no record: one account.flatten_requested, the log where the first left it', async () => {
  const t = await gatewayOf()
  const first = await flatten(t, 'f-once')
  // The first closed the BTC: its lsn is its decision's last record's, past its own account.flatten_requested.
  const [requestedLsn] = flattenLsns(t.gateway)
  expect(JSON.parse(first.text).lsn).toBeGreaterThan(requestedLsn as number)
  const lastLsn = t.gateway.engine.wal.lastLsn
  for (let index = 0; index < 3; index++) expect(await flatten(t, 'f-once')).toEqual(first)
  expect(flattenLsns(t.gateway)).toEqual([requestedLsn as number])
  // Another key is another flatten; the same key on another account too.
  expect(JSON.parse((await flatten(t, 'f-other')).text).lsn).toBeGreaterThan(lastLsn)
  expect(JSON.parse((await flatten(t, 'f-once', 'demo-2')).text).account).toBe('demo-2')
  expect(flattenRecords(t)).toBe(3)
})

test('a repeat of an idle flatten is not charged to the account rate: its 202 stays a 202', async () => {
  // A rate so low no token comes back while the test runs: one idle flatten takes the whole allowance.
  const t = await gatewayOf({ ...SIM_BTC_ONLY, backpressure: { account: { ratePerSec: 1, burst: 1 }, bot: { ratePerSec: 1, burst: 1 }, inFlightMax: 100 } })
  // demo-2 holds only USD and has no orders: its flatten is idle.
  const first = await flatten(t, 'f-idle', 'demo-2')
  expect(first.status).toBe(202)
  expect((await flatten(t, 'f-idle-2', 'demo-2')).status).toBe(429)
  expect(await flatten(t, 'f-idle', 'demo-2')).toEqual(first)
})

for (const viaSnapshot of [false, true]) {
  test(`a repeat after a restart (${viaSnapshot ? 'from a snapshot' : 'replayed from the log'}) answers the first answer`, async () => {
    // demo-1 without BTC: no close left open for the restart to read back from a venue that never saw it.
    const t = await gatewayOf({ ...SIM_BTC_ONLY, accounts: [{ id: 'demo-1', balances: { USD: '1000', ETH: '100' } }] })
    const first = await flatten(t, 'f-restart')
    expect(first.status).toBe(202)
    if (viaSnapshot) {
      const admin = await t.token({ sub: 'ada', roles: ['admin'], accounts: [] })
      expect((await t.request('/v1/admin/snapshot', post(admin, {}))).status).toBe(200)
    }
    const lastLsn = t.gateway.engine.wal.lastLsn
    await t.gateway.stop()
    // The stop writes a snapshot of its own: gone, the restart replays the log from its start.
    if (!viaSnapshot) rmSync(join(t.dir, 'snapshots'), { recursive: true, force: true })
    const config = parseConfig({ ...t.config, dataDir: t.dir })
    const clock = new StoppableClock()
    const restarted = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, onError: (error) => console.error(error) })
    const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 10 })
    const http = createHttpService({ gateway: restarted.gateway, verifier, configDigest: restarted.digest, backpressure: config.backpressure, sse: config.sse, log: () => {} })
    try {
      expect(restarted.gateway.restoreReport?.snapshot === null).toBe(!viaSnapshot)
      expect(restarted.gateway.engine.wal.lastLsn).toBeGreaterThanOrEqual(lastLsn)
      expect(await flatten(t, 'f-restart', 'demo-1', async (path, init) => http.app.request(path, init))).toEqual(first)
      expect(flattenLsns(restarted.gateway).length).toBe(1)
    } finally {
      http.close()
      verifier.close()
      await restarted.stop()
      clock.cancelAll()
    }
  })
}

test("a flatten's key and an order's are apart: each names its own, and the flatten's repeat still answers its first answer", async () => {
  const t = await gatewayOf()
  // demo-2: cash only, so its flatten closes nothing and an order of its own crosses no close.
  const trader = await t.token({ sub: 'dora', accounts: ['demo-2'] })
  const buy = { ...LIMIT_BUY, account: 'demo-2', qty: '0.005' }
  const first = await flatten(t, 'k-shared', 'demo-2')
  const order = await t.request('/v1/orders', post(trader, buy, { 'Idempotency-Key': 'k-shared' }))
  expect(order.status).toBe(202)
  expect((await json(order)).status).not.toBe('Rejected')
  expect(await flatten(t, 'k-shared', 'demo-2')).toEqual(first)
  // The other way: an order's key taken first, then a flatten under it is a new flatten, and its repeat its own answer.
  expect((await t.request('/v1/orders', post(trader, buy, { 'Idempotency-Key': 'k-order-first' }))).status).toBe(202)
  const before = flattenRecords(t)
  const later = await flatten(t, 'k-order-first', 'demo-2')
  expect(later.status).toBe(202)
  expect(flattenRecords(t)).toBe(before + 1)
  expect(await flatten(t, 'k-order-first', 'demo-2')).toEqual(later)
})
