/**
 * Lane0 has call slots of its own on each venue×symbol (src/kernel/in-flight.ts callsMaxFor). Before, a cancel shared
 * the instrument's callsPerInstrumentMax with the places and amends: with every slot held by places a venue did not
 * answer, a cancel (or a flatten's close) on that instrument waited until the first of them timed out — a whole
 * request timeout, the same wait the executor's call budget once imposed (lane0-call-budget.test.ts), only per
 * instrument. With 1 the instrument stays serialised: a cancel waits for the call in flight (kernel/lanes.test.ts).
 */

import { describe, expect, test } from 'bun:test'
import type { World } from './harness.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SLOTS = 4
const REQUEST_TIMEOUT_MS = 1_000

async function place(world: World, clientOrderId: string): Promise<string> {
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: clientOrderId }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  return placed.reply.orderId
}

/** Steps the clock 1 ms at a time until `done` or `limitMs`; the simulated ms it took. */
async function stepUntil(world: World, done: () => boolean, limitMs: number): Promise<number> {
  const startMs = world.clock.nowMs()
  while (!done() && world.clock.nowMs() - startMs < limitMs) await world.clock.advanceAsync(1)
  return world.clock.nowMs() - startMs
}

/** `count` resting orders acked, then a venue outage in which `SLOTS` places hold every slot of BTC-USD. */
async function slotsHeldByPlaces(world: World, count: number): Promise<string[]> {
  const resting: string[] = []
  for (let index = 0; index < count; index++) resting.push(await place(world, `rest-${index}`))
  await run(world, 200)
  for (const orderId of resting) expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  const nowMs = world.clock.nowMs()
  world.venue.setFaults({ outages: [{ startMs: nowMs, endMs: nowMs + 10_000, calls: 'unknown', reports: 'hold' }] })
  // One more than the slots: the last waits in Lane2 for one.
  for (let index = 0; index <= SLOTS; index++) await place(world, `slow-${index}`)
  await run(world, 20, 1)
  expect(world.gateway.engine.state.callsByInstrument.get('sim:BTC-USD')).toBe(SLOTS)
  return resting
}

describe('Lane0 call slots per venue×symbol', () => {
  test('a cancel on an instrument whose every slot a slow place holds goes at once, not when a place times out', async () => {
    const world = await startWorld({ seed: 40401, params: { callsPerInstrumentMax: SLOTS }, venueOptions: { latencyMsMin: 5, latencyMsMax: 5, requestTimeoutMs: REQUEST_TIMEOUT_MS } })
    worlds.push(world)
    const [toCancel] = await slotsHeldByPlaces(world, 1)
    const cancelsBefore = world.venue.inspect().requests.calls.cancel
    const placesBefore = world.venue.inspect().requests.calls.place

    expect((await world.gateway.cancel(traderA, toCancel as string)).reply.kind).toBe('done')
    const waitedMs = await stepUntil(world, () => world.venue.inspect().requests.calls.cancel > cancelsBefore, REQUEST_TIMEOUT_MS + 100)
    expect(waitedMs).toBeLessThanOrEqual(2)
    expect(world.gateway.engine.state.callsByInstrument.get('sim:BTC-USD')).toBe(SLOTS + 1)
    // The place waiting in Lane2 did not take the cancel's slot: places still have SLOTS at most.
    expect(world.venue.inspect().requests.calls.place).toBe(placesBefore)
    await run(world, REQUEST_TIMEOUT_MS + 200)
    expect(world.errors).toEqual([])
  })

  test('a cancel storm has slots of its own: as many cancels as places, never more', async () => {
    const world = await startWorld({ seed: 40402, params: { callsPerInstrumentMax: SLOTS }, venueOptions: { latencyMsMin: 5, latencyMsMax: 5, requestTimeoutMs: REQUEST_TIMEOUT_MS } })
    worlds.push(world)
    const resting = await slotsHeldByPlaces(world, SLOTS + 2)
    const cancelsBefore = world.venue.inspect().requests.calls.cancel
    for (const orderId of resting) expect((await world.gateway.cancel(traderA, orderId)).reply.kind).toBe('done')
    await run(world, 20, 1)
    expect(world.venue.inspect().requests.calls.cancel - cancelsBefore).toBe(SLOTS)
    expect(world.gateway.engine.state.callsByInstrument.get('sim:BTC-USD')).toBe(2 * SLOTS)
    await run(world, 2 * REQUEST_TIMEOUT_MS + 200)
    expect(world.errors).toEqual([])
  })
})
