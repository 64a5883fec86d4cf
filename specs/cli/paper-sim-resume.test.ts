// serve's sim venue lives in the gateway's process: a restart must not be a venue wipe. It resumes from egress's log
// (src/runtime/paper-sim-memory.ts): resting orders back on its book, recently ended ones and their trades in its
// history, its balances, and ids that never repeat.
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { startServeGateway, type ServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig } from '../../src/config/index.ts'
import type { Principal } from '../../src/domain/accounts.ts'

const TRADER: Principal = { id: 'alice', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }
const RESTING = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC' }
const CROSSING = { ...RESTING, price: '61000', tif: 'IOC' }

const dirs: string[] = []
const running: { served: ServeGateway; clock: StoppableClock }[] = []
afterEach(async () => {
  for (const { served, clock } of running.splice(0)) {
    await served.stop()
    clock.cancelAll()
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function start(dataDir: string): Promise<ServeGateway> {
  const clock = new StoppableClock()
  const config = parseConfig({ dataDir, wal: { durability: 'none' }, auth: { hs256Secret: 'x'.repeat(32) }, backoffice: { reconcileIntervalMs: 86_400_000 } })
  const served = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, onError: (error) => { throw error } })
  running.push({ served, clock })
  return served
}

async function stop(served: ServeGateway): Promise<void> {
  const entry = running.findIndex((item) => item.served === served)
  const [{ clock }] = running.splice(entry, 1) as [{ served: ServeGateway; clock: StoppableClock }]
  await served.stop()
  clock.cancelAll()
}

async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 5) {
    if (waited > 5_000) throw new Error('timed out')
    await Bun.sleep(5)
  }
}

async function place(served: ServeGateway, body: object, key: string): Promise<string> {
  const result = await served.gateway.place(TRADER, body, key)
  if (result.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result.reply)}`)
  return result.reply.orderId
}

describe('the paper sim venue across a restart of serve', () => {
  test('resting orders, balances and id sequences survive; the back office finds no break', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'egress-sim-resume-'))
    dirs.push(dataDir)
    const first = await start(dataDir)
    const restingId = await place(first, RESTING, 'rest-1')
    const filledId = await place(first, CROSSING, 'fill-1')
    const orders = first.gateway.engine.state.orders
    await until(() => orders.get(restingId)?.status === 'AckedOpen' && orders.get(filledId)?.status === 'Filled')
    const resting = orders.get(restingId)!
    const balancesBefore = first.venue.inspect().trades.length > 0 ? await first.venue.balances('demo-1') : null
    expect(balancesBefore).not.toBeNull()
    const idsBefore = first.venue.inspect().orders.map((order) => order.venueOrderId)
    const execIdsBefore = first.venue.inspect().trades.map((trade) => trade.execId)
    await stop(first)

    const second = await start(dataDir)
    const atVenue = second.venue.inspect().orders.find((order) => order.venueOrderId === resting.venueOrderId)
    expect(atVenue).toMatchObject({ clientOrderId: resting.venueClientOrderId, status: 'open', qty: resting.qty, price: resting.price! })
    expect(await second.venue.balances('demo-1')).toEqual(balancesBefore!)

    // New ids never repeat one issued before the restart.
    const nextId = await place(second, CROSSING, 'fill-2')
    await until(() => second.gateway.engine.state.orders.get(nextId)?.status === 'Filled')
    const inspected = second.venue.inspect()
    const next = inspected.orders.find((order) => order.clientOrderId === second.gateway.engine.state.orders.get(nextId)?.venueClientOrderId)
    expect(idsBefore).not.toContain(next!.venueOrderId)
    const newTrades = inspected.trades.filter((trade) => trade.venueOrderId === next!.venueOrderId)
    expect(newTrades.length).toBeGreaterThan(0)
    for (const trade of newTrades) expect(execIdsBefore).not.toContain(trade.execId)
    // The trades from before the restart are in the venue's history, under the ids it reported them with.
    expect(inspected.trades.map((trade) => trade.execId)).toEqual(expect.arrayContaining(execIdsBefore))

    // The venue still knows the resting order: a cancel ends it there, and the back office agrees with the venue.
    await second.gateway.cancel(TRADER, restingId)
    await until(() => second.gateway.engine.state.orders.get(restingId)?.status === 'Canceled')
    expect(second.venue.inspect().orders.find((order) => order.venueOrderId === resting.venueOrderId)?.status).toBe('canceled')
    const office = backOfficeOf(second.gateway)
    const result = await office.reconcile()
    expect(result.skipped).toEqual([])
    expect(office.openBreaks).toEqual([])
  })

  test('a fresh data directory starts the venue fresh: ids from 1', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'egress-sim-resume-'))
    dirs.push(dataDir)
    const served = await start(dataDir)
    const orderId = await place(served, RESTING, 'rest-1')
    await until(() => served.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    expect(served.gateway.engine.state.orders.get(orderId)?.venueOrderId).toBe('sim-o1')
  })
})
