/**
 * Read-backs asked for before the executor starts. Venue sessions log on before bootstrap, so a report can come before
 * `executor.start()`; a report the gateway cannot record (refused as invalid, or dropped) asks for its order to be read
 * back. `reconcileOrder` skipped that while the executor was not started, trusting bootstrap's read of the open
 * orders to cover it — but bootstrap reads only orders open at the venue as egress holds them. A report about an order
 * egress holds as ended (a fill the venue made before its cancel, say) was never read back: the venue's news was lost.
 * Now the request waits for the start.
 */

import { describe, expect, test } from 'bun:test'
import type { VenueSessions } from '../../src/runtime/gateway.ts'
import { READ_BACKS_BEFORE_START_MAX, ReadBacksBeforeStart } from '../../src/runtime/read-backs-before-start.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

test('an invalid report before the start about an order egress holds as canceled is read back once the executor starts', async () => {
  const world = await startWorld({ seed: 11 })
  worlds.push(world)
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: 'gone' }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  const orderId = placed.reply.orderId
  await run(world, 50)
  await world.gateway.cancel(traderA, orderId)
  await run(world, 100)
  const order = world.gateway.engine.state.orders.get(orderId)
  expect(order?.status).toBe('Canceled')
  if (order === undefined) return
  await world.gateway.stop()
  worlds.splice(worlds.indexOf(world), 1)

  const asked: string[] = []
  const orderStatus = world.venue.orderStatus.bind(world.venue)
  world.venue.orderStatus = (clientOrderId) => {
    asked.push(clientOrderId)
    return orderStatus(clientOrderId)
  }
  // Refused before the kernel sees it (an empty execId): its order is read back instead (report-intake.ts).
  const invalid: ExecutionReport = {
    venue: order.venue, execId: '', kind: 'fill', clientOrderId: order.venueClientOrderId, venueOrderId: order.venueOrderId ?? '',
    account: order.accountId, symbol: order.symbol, side: order.side, cumQty: 1_000_000n, lastQty: 1_000_000n, lastPrice: 5_900_000_000_000n,
    venueTimeMs: world.clock.nowMs(),
  }
  const sessions: VenueSessions = {
    async start(gateway) {
      await gateway.reportIntake.submit(invalid)
    },
    stop: () => Promise.resolve(),
  }
  const restarted = await startWorld({ seed: 11, dir: world.dir, clock: world.clock, venue: world.venue, venueSessions: sessions })
  worlds.push(restarted)
  await run(restarted, 200)
  expect(restarted.errors.some((line) => line.includes('VenueReportInvalidError'))).toBe(true)
  // Bootstrap reads back only orders open at the venue; this one is not, so only the waiting request asks about it.
  expect(restarted.gateway.bootstrapReport?.openOrdersReconciled).toBe(0)
  expect(asked).toEqual([order.venueClientOrderId])
})

describe('ReadBacksBeforeStart', () => {
  test('runs the waiting read-backs one at a time, in the order asked, once per order, and tells every caller', async () => {
    const waiting = new ReadBacksBeforeStart(() => {})
    const answers = [waiting.wait('a'), waiting.wait('b'), waiting.wait('a')]
    const order: string[] = []
    let inFlight = 0
    await waiting.release(async (orderId) => {
      expect(++inFlight).toBe(1)
      order.push(orderId)
      await Promise.resolve()
      inFlight--
      return orderId === 'a'
    })
    expect(order).toEqual(['a', 'b'])
    expect(await Promise.all(answers)).toEqual([true, false, true])
    expect(waiting.size).toBe(0)
  })

  test(`holds ${READ_BACKS_BEFORE_START_MAX} orders at most: past the bound a request is refused (false), said once`, async () => {
    const refused: string[] = []
    const waiting = new ReadBacksBeforeStart((orderId) => refused.push(orderId))
    for (let index = 0; index < READ_BACKS_BEFORE_START_MAX; index++) void waiting.wait(`o-${index}`)
    expect(waiting.size).toBe(READ_BACKS_BEFORE_START_MAX)
    // Another caller for an order already waiting joins it; a new order is refused.
    const joined = waiting.wait('o-0')
    expect(await waiting.wait('past-1')).toBe(false)
    expect(await waiting.wait('past-2')).toBe(false)
    expect(refused).toEqual(['past-1'])
    waiting.drop()
    expect(await joined).toBe(false)
    expect(waiting.size).toBe(0)
  })
})
