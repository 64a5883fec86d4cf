/**
 * Lane0 is never held by the executor's bound on calls in flight (callsInFlightMax). Found by the simulation (seed
 * 30344, `bun scripts/sim.ts --seed 30344 --steps 300 --step-ms 400`): a venue outage began, the open-order sweep
 * read back 83 quiet orders at once, and each read waited out the venue's 1,000 ms request timeout. With 64 calls in
 * flight the executor started nothing at all, so two cancels requested meanwhile waited for those reads: 1,815 and
 * 1,135 ms, both sent at the instant the reads timed out. The bound now holds Lanes 1–3 only; Lane0's calls are bounded
 * by the kernel (one per order, callsPerInstrumentMax per venue×symbol).
 */

import { describe, expect, test } from 'bun:test'
import type { World } from './harness.ts'
import { CALLS_IN_FLIGHT_MAX, RECONCILE_SWEEP_MS, run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const LATENCY_MS = 5
const REQUEST_TIMEOUT_MS = 1_000

/** Resting buys far below the market, acked by the venue. */
async function restingBuys(world: World, count: number): Promise<string[]> {
  const orderIds: string[] = []
  for (let index = 0; index < count; index++) {
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: `budget-${index}` }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
    orderIds.push(placed.reply.orderId)
  }
  await run(world, 200)
  for (const orderId of orderIds) expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  return orderIds
}

/**
 * A venue outage in which every call waits out the request timeout, and the executor's whole budget taken by
 * read-backs of open orders: what the periodic sweep (and bootstrap) start through reconcileOrder.
 */
function budgetSpentOnReads(world: World, readOrderIds: string[]): Promise<boolean>[] {
  const nowMs = world.clock.nowMs()
  world.venue.setFaults({ outages: [{ startMs: nowMs, endMs: nowMs + 10_000, calls: 'unknown', reports: 'hold' }] })
  const reads = readOrderIds.map((orderId) => world.gateway.executor.reconcileOrder(orderId))
  expect(world.gateway.executor.stats.callsInFlight).toBeGreaterThanOrEqual(CALLS_IN_FLIGHT_MAX)
  return reads
}

/** Steps the clock 1 ms at a time until `done` or `limitMs`; the simulated ms it took. */
async function stepUntil(world: World, done: () => boolean, limitMs: number): Promise<number> {
  const startMs = world.clock.nowMs()
  while (!done() && world.clock.nowMs() - startMs < limitMs) await world.clock.advanceAsync(1)
  return world.clock.nowMs() - startMs
}

describe('the executor bound on calls in flight', () => {
  test('does not hold a cancel: with the budget spent on reads that wait out a timeout, the cancel goes at once', async () => {
    const world = await startWorld({ seed: 30344, venueOptions: { latencyMsMin: LATENCY_MS, latencyMsMax: LATENCY_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS } })
    worlds.push(world)
    const orderIds = await restingBuys(world, CALLS_IN_FLIGHT_MAX + 1)
    const toCancel = orderIds[CALLS_IN_FLIGHT_MAX] as string
    const reads = budgetSpentOnReads(world, orderIds.slice(0, CALLS_IN_FLIGHT_MAX))
    const cancelsBefore = world.venue.inspect().requests.calls.cancel

    expect((await world.gateway.cancel(traderA, toCancel)).reply.kind).not.toBe('rejected')
    const waitedMs = await stepUntil(world, () => world.venue.inspect().requests.calls.cancel > cancelsBefore, REQUEST_TIMEOUT_MS + 100)
    // Decided and handed to the venue within the pumps that follow its durable request, not when the reads time out.
    expect(waitedMs).toBeLessThanOrEqual(2)
    expect(world.gateway.engine.state.orders.get(toCancel)?.status).toBe('CancelPending')

    await run(world, REQUEST_TIMEOUT_MS + 100)
    await Promise.all(reads)
    expect(world.errors).toEqual([])
  })

  test('still holds a new place until a call of the spent budget ends', async () => {
    const world = await startWorld({ seed: 30345, venueOptions: { latencyMsMin: LATENCY_MS, latencyMsMax: LATENCY_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS } })
    worlds.push(world)
    const orderIds = await restingBuys(world, CALLS_IN_FLIGHT_MAX)
    const reads = budgetSpentOnReads(world, orderIds)
    const placesBefore = world.venue.inspect().requests.calls.place

    const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.1', price: '2950', client_order_id: 'budget-place' }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
    const waitedMs = await stepUntil(world, () => world.venue.inspect().requests.calls.place > placesBefore, REQUEST_TIMEOUT_MS + 100)
    // The reads started together and time out together: the place goes in the pump that their ends wake.
    expect(waitedMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 10)
    expect(waitedMs).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS + 10)

    await run(world, REQUEST_TIMEOUT_MS + 100)
    await Promise.all(reads)
    expect(world.errors).toEqual([])
  })

  test('a sweep takes at most half the budget left: in an outage, a new place still goes out at once', async () => {
    const world = await startWorld({ seed: 30346, venueOptions: { latencyMsMin: LATENCY_MS, latencyMsMax: LATENCY_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS } })
    worlds.push(world)
    await restingBuys(world, CALLS_IN_FLIGHT_MAX + 6)
    const nowMs = world.clock.nowMs()
    world.venue.setFaults({ outages: [{ startMs: nowMs, endMs: nowMs + 10_000, calls: 'unknown', reports: 'hold' }] })
    // Every resting order is quiet past one interval, so every one is due. The sweep asks for the venue's open orders,
    // which times out in the outage, then falls back to reading the orders one by one: half the free budget, counting
    // each read-back's two calls (status and trades).
    const calls = () => world.venue.inspect().requests.calls
    const readsBefore = calls().orderStatus
    const tradesBefore = calls().trades
    await stepUntil(world, () => calls().orderStatus > readsBefore, 2 * RECONCILE_SWEEP_MS + REQUEST_TIMEOUT_MS + 100)
    await run(world, 20)
    expect(calls().orderStatus - readsBefore).toBe(CALLS_IN_FLIGHT_MAX / 2 / 2)
    expect(calls().orderStatus - readsBefore + calls().trades - tradesBefore).toBe(CALLS_IN_FLIGHT_MAX / 2)
    const placesBefore = world.venue.inspect().requests.calls.place
    const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.1', price: '2950', client_order_id: 'after-sweep' }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
    const waitedMs = await stepUntil(world, () => world.venue.inspect().requests.calls.place > placesBefore, REQUEST_TIMEOUT_MS + 100)
    expect(waitedMs).toBeLessThanOrEqual(2)
    await run(world, REQUEST_TIMEOUT_MS + 100)
  })
})
