/**
 * serve's sim venue trades the instruments a `venues[]` entry of type "sim" lists (src/config/sim-venue.ts,
 * src/cli/serve-sim.ts): the kernel accepts orders on them and the sim fills them from their opening prices, a
 * built-in symbol the list leaves out is INSTRUMENT_UNKNOWN, a configured touchQtyMin is a book rule of data health,
 * and without the entry the instruments are exactly the built-in ones.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig } from '../../src/config/index.ts'
import type { Principal } from '../../src/domain/accounts.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import type { Reply } from '../../src/kernel/index.ts'
import { SimReason } from '../../src/venues/index.ts'

const TRADER: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }
const SOL = { symbol: 'SOL-USD', baseAsset: 'SOL', quoteAsset: 'USD', tickSize: '0.01', lotSize: '0.01', minQty: '0.01', maxQty: '10000', minNotional: '5', openingPrice: '150' }
const SIM_SOL = { type: 'sim', instruments: [SOL] }
const SOL_BUY = { account: 'demo-1', symbol: 'SOL-USD', side: 'buy', type: 'limit', qty: '2', price: '155', tif: 'IOC' }
const SOL_RESTING = { ...SOL_BUY, price: '145', tif: 'GTC' }

const dirs: string[] = []
const running: { served: ServeGateway; clock: StoppableClock }[] = []
afterEach(async () => {
  for (const { served, clock } of running.splice(0)) {
    await served.stop()
    clock.cancelAll()
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'egress-sim-instruments-'))
  dirs.push(dir)
  return dir
}

async function start(dir: string, extra: Record<string, unknown> = {}): Promise<ServeGateway> {
  const clock = new StoppableClock()
  const config = parseConfig({ dataDir: dir, wal: { durability: 'none' }, auth: { hs256Secret: 'x'.repeat(32) }, backoffice: { reconcileIntervalMs: 86_400_000 }, ...extra })
  const served = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, onError: (error) => { throw error } })
  running.push({ served, clock })
  return served
}

async function stop(served: ServeGateway): Promise<void> {
  const [entry] = running.splice(running.findIndex((item) => item.served === served), 1)
  await served.stop()
  entry?.clock.cancelAll()
}

async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 5) {
    if (waited > 5_000) throw new Error('timed out')
    await Bun.sleep(5)
  }
}

async function reply(served: ServeGateway, body: object, key: string): Promise<Reply> {
  return (await served.gateway.place(TRADER, body, key)).reply as Reply
}

function reasonOf(answer: Reply): string {
  return (answer as { reason?: string }).reason ?? answer.kind
}

describe('serve with configured sim instruments', () => {
  test('an order on a configured sim instrument is accepted and filled by the sim, from its opening price', async () => {
    const served = await start(dataDir(), { venues: [SIM_SOL] })
    expect(served.venue.referencePrice('SOL-USD')?.price).toBeGreaterThan(parseDecimal('145'))
    const answer = await reply(served, SOL_BUY, 'sol-1')
    expect(answer.kind).toBe('accepted')
    const orderId = (answer as { orderId: string }).orderId
    const orders = served.gateway.engine.state.orders
    await until(() => orders.get(orderId)?.status === 'Filled')
    expect(orders.get(orderId)?.cumQty).toBe(parseDecimal('2'))
    expect(served.venue.inspect().trades.some((trade) => trade.symbol === 'SOL-USD')).toBe(true)
  })

  test('a built-in symbol the list leaves out is refused INSTRUMENT_UNKNOWN', async () => {
    const served = await start(dataDir(), { venues: [SIM_SOL] })
    const btc = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC' }
    expect(reasonOf(await reply(served, btc, 'btc-1'))).toBe('INSTRUMENT_UNKNOWN')
    expect([...served.gateway.engine.state.instruments.keys()]).toEqual(['sim:SOL-USD'])
  })

  test("a configured touchQtyMin is a book rule: beyond the sim's touch an aggressive order is DATA_THIN_BOOK, a resting one passes", async () => {
    // The sim shows 100 to 10000 lots a side: 10000 × 0.01 = 100 SOL at most, below 1000.
    const served = await start(dataDir(), { venues: [{ type: 'sim', instruments: [{ ...SOL, touchQtyMin: '1000' }] }] })
    expect(served.gateway.engine.state.instruments.get('sim:SOL-USD')?.touchQtyMin).toBe(parseDecimal('1000'))
    expect(reasonOf(await reply(served, SOL_BUY, 'thin-1'))).toBe('DATA_THIN_BOOK')
    expect(reasonOf(await reply(served, SOL_RESTING, 'rest-1'))).toBe('accepted')
  })

  test('without the entry the kernel and the sim trade exactly the built-in instruments', async () => {
    const served = await start(dataDir())
    expect([...served.gateway.engine.state.instruments.values()]).toEqual(defaultSimInstruments())
    expect(served.venue.referencePrice('BTC-USD')?.price).toBeDefined()
    expect(reasonOf(await reply(served, SOL_BUY, 'sol-1'))).toBe('INSTRUMENT_UNKNOWN')
  })

  test('a restart on a config that drops a symbol with an order resting on it starts, and the order can be canceled', async () => {
    const dir = dataDir()
    const first = await start(dir, { venues: [SIM_SOL] })
    const answer = await reply(first, SOL_RESTING, 'rest-1')
    const orderId = (answer as { orderId: string }).orderId
    await until(() => first.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    await stop(first)

    const second = await start(dir)
    expect(second.gateway.engine.state.instruments.has('sim:SOL-USD')).toBe(false)
    expect(second.venue.inspect().orders.find((order) => order.symbol === 'SOL-USD')?.status).toBe('open')
    // Price steps go on (the sim has no price for SOL-USD now, and its order rests), and a cancel still reaches it.
    await Bun.sleep(150)
    await second.gateway.cancel(TRADER, orderId)
    await until(() => second.gateway.engine.state.orders.get(orderId)?.status === 'Canceled')
  })

  test("the entry's ordersMax and endedOrderRetentionMs reach serve's sim: past the bound, within the retention, a place is rejected venue_order_limit", async () => {
    const bounded = await start(dataDir(), { venues: [{ type: 'sim', ordersMax: 1_000, endedOrderRetentionMs: 60_000 }] })
    expect(await simPlaces(bounded, 1_001)).toEqual({ ok: 1_000, rejected: { [SimReason.venueOrderLimit]: 1 } })
    // Unset: the sim's default bound (100000) takes the same 1001 orders.
    const unbounded = await start(dataDir(), { venues: [{ type: 'sim' }] })
    expect(await simPlaces(unbounded, 1_001)).toEqual({ ok: 1_001, rejected: {} })
  })
})

/** `count` marketable IOC buys placed at serve's sim directly (each ends at once): how many it took, and its refusals by reason. */
async function simPlaces(served: ServeGateway, count: number): Promise<{ ok: number; rejected: Record<string, number> }> {
  const outcomes = await Promise.all(Array.from({ length: count }, (_, index) => served.venue.place({
    clientOrderId: `direct-${index}`, account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: parseDecimal('0.001'),
    price: parseDecimal('90000'), tif: 'IOC', postOnly: false, reduceOnly: false,
  })))
  const rejected: Record<string, number> = {}
  let ok = 0
  for (const outcome of outcomes) {
    if (outcome.kind === 'ok') ok++
    else if (outcome.kind === 'rejected') rejected[outcome.reason] = (rejected[outcome.reason] ?? 0) + 1
    else throw new Error(`the sim answered ${outcome.kind}`)
  }
  return { ok, rejected }
}
