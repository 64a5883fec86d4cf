/**
 * Bootstrap's check of the orders open when egress stopped (src/runtime/bootstrap.ts, open-order-listing.ts): each
 * venue's list of open orders confirms those that did not change while egress was down, and only the others are read
 * back, a bounded number at a time. Before, every open order was read back at once: two venue calls per order, all in
 * flight together (10,000 open orders: 20,000 calls at the first second of a start).
 */

import { expect, test } from 'bun:test'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import type { VenueOrder, VenueOutcome } from '../../src/venues/adapter.ts'
import { CALLS_IN_FLIGHT_MAX, crashWorld, makeVenue, run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const RESTING = 80

async function restingWorld(seed: number, requestTimeoutMs = 1_000): Promise<{ world: World; ids: string[] }> {
  const clock = new SimClock({ startMs: T0 })
  const world = await startWorld({ seed, clock, venue: makeVenue(clock, seed, { seed, venueOptions: { requestTimeoutMs } }) })
  worlds.push(world)
  const ids: string[] = []
  for (let index = 0; index < RESTING; index++) {
    const price = index === 0 ? '59990' : '59000'
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price, tif: 'GTC', client_order_id: `rest-${index}` }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
    ids.push(placed.reply.orderId)
  }
  await run(world, 200)
  for (const orderId of ids) expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  return { world, ids }
}

/**
 * Counts the status reads a venue answers, and the most venue calls (status reads and trade queries: a read-back makes
 * both at once) in flight at once.
 */
function countStatusReads(world: World): { reads: number; callsInFlightMax: number } {
  const counts = { reads: 0, callsInFlightMax: 0 }
  let inFlight = 0
  const counted = <T>(call: Promise<T>): Promise<T> => {
    counts.callsInFlightMax = Math.max(counts.callsInFlightMax, ++inFlight)
    return call.finally(() => inFlight--)
  }
  const orderStatus = world.venue.orderStatus.bind(world.venue)
  const trades = world.venue.trades.bind(world.venue)
  world.venue.orderStatus = (clientOrderId): Promise<VenueOutcome<VenueOrder | null>> => {
    counts.reads++
    return counted(orderStatus(clientOrderId))
  }
  world.venue.trades = (options) => counted(trades(options))
  return counts
}

test('a restart confirms the unchanged open orders with one list and reads back only the one that filled while egress was down', async () => {
  const { world, ids } = await restingWorld(71)
  await crashWorld(world)
  // While egress is down the price falls through the highest buy: it fills, and nobody hears the report.
  world.venue.setReferencePrice('BTC-USD', parseDecimal('59980'))
  await world.clock.advanceAsync(100)
  const counts = countStatusReads(world)
  const listsBefore = world.venue.inspect().requests.calls.openOrders
  const second = await startWorld({ seed: 71, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(second)
  expect(second.gateway.bootstrapReport).toMatchObject({ openOrdersConfirmed: RESTING - 1, openOrdersReconciled: 1 })
  expect(world.venue.inspect().requests.calls.openOrders - listsBefore).toBe(1)
  expect(counts.reads).toBe(1)
  expect(second.gateway.engine.state.orders.get(ids[0] as string)?.status).toBe('Filled')
  expect(second.errors).toEqual([])
})

test('a venue that cannot list: every open order is read back, never more than half the call budget at once', async () => {
  const { world } = await restingWorld(72)
  await crashWorld(world)
  world.venue.openOrders = () => Promise.resolve({ kind: 'unknown', reason: 'fix_open_orders_unsupported' })
  const counts = countStatusReads(world)
  const second = await startWorld({ seed: 72, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(second)
  expect(second.gateway.bootstrapReport).toMatchObject({ openOrdersConfirmed: 0, openOrdersReconciled: RESTING })
  expect(counts.reads).toBe(RESTING)
  // Two calls per read-back (status and trades): 16 read-backs at once, not 32 (64 calls, the whole budget).
  expect(counts.callsInFlightMax).toBe(CALLS_IN_FLIGHT_MAX / 2)
  expect(second.errors).toEqual([])
})

test('a venue timing every read out: bootstrap reads back until the converge deadline and leaves the rest to the sweep', async () => {
  const timeoutMs = 20_000
  const { world } = await restingWorld(73, timeoutMs)
  await crashWorld(world)
  const nowMs = world.clock.nowMs()
  world.venue.setFaults({ outages: [{ startMs: nowMs, endMs: nowMs + 600_000, calls: 'unknown', reports: 'hold' }] })
  const second = await startWorld({ seed: 73, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(second)
  // The list times out (20 s), then one round of 16 read-backs (32 calls, 20 s more) passes the 30 s deadline: 64
  // left to the sweep.
  const readBacksAtOnce = CALLS_IN_FLIGHT_MAX / 2 / 2
  // None of them answered: they are counted as asked, not as reconciled (before, a timed-out read counted as one).
  expect(second.gateway.bootstrapReport).toMatchObject({
    openOrdersConfirmed: 0, openOrdersReconciled: 0, openOrdersUnanswered: readBacksAtOnce, openOrdersLeftToSweep: RESTING - readBacksAtOnce,
  })
  expect(second.gateway.bootstrapReport?.waitedMs).toBeLessThanOrEqual(2 * timeoutMs + 100)
})

test('an open order whose cancel goes out as egress starts is not read back, and not counted as read: its call brings its state', async () => {
  const { world, ids } = await restingWorld(74)
  const toCancel = ids[5] as string
  // The cancel is requested durably, and egress stops before sending it: at the next start it waits in Lane0.
  world.gateway.executor.stop()
  expect((await world.gateway.cancel(traderA, toCancel)).reply.kind).not.toBe('rejected')
  await crashWorld(world)
  world.venue.openOrders = () => Promise.resolve({ kind: 'unknown', reason: 'fix_open_orders_unsupported' })
  const counts = countStatusReads(world)
  const second = await startWorld({ seed: 74, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(second)
  expect(second.gateway.bootstrapReport).toMatchObject({ openOrdersConfirmed: 0, openOrdersReconciled: RESTING - 1, openOrdersInCall: 1, openOrdersLeftToSweep: 0 })
  expect(counts.reads).toBe(RESTING - 1)
  await run(second, 200)
  expect(second.gateway.engine.state.orders.get(toCancel)?.status).toBe('Canceled')
  expect(second.errors).toEqual([])
})
