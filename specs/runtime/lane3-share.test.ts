/**
 * Unknown orders converge under sustained new-order load (seed 004 §7.2 "Unknown収束"; §6 Lane3 query/reconcile). Found
 * by a lanes review: Lane3 work (an Unknown order's read-back) was picked only once Lanes 1 and 2 were empty, so with
 * the executor's call budget taken by places (600 queued, 300 ms venue latency) the first read-back came at 5.4 s, when
 * Lane2 emptied, and under sustained load never. A cancel whose answer was lost waited the same way, though the
 * cancel is not done until its outcome is known (§6 Lane0: cancels pass under overload).
 *
 * Now (1) after every EXECUTOR_LANE3_EVERY Lane1/Lane2 picks Lane3 goes before them once (lane3-share.ts), and
 * (2) the read-back of an Unknown order with a cancel wanted ranks right after Lane0 (work-index.ts), ahead of every
 * place and amend: it takes the first call budget freed. The lanes the log and snapshots hold are unchanged.
 */

import { describe, expect, test } from 'bun:test'
import { nextWork } from '../../src/kernel/index.ts'
import { EXECUTOR_LANE3_EVERY, EXECUTOR_LANE3_EVERY_MAX, Lane3Share } from '../../src/runtime/lane3-share.ts'
import { config, Harness, policy } from '../kernel/fixtures.ts'
import type { World } from './harness.ts'
import { CALLS_IN_FLIGHT_MAX, run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const LATENCY_MS = 300
/** Lane2 is kept at least this deep for the whole window: new orders keep coming faster than the venue takes them. */
const LANE2_DEPTH = 200
const WINDOW_MS = 6_000

/** A world whose call budget (CALLS_IN_FLIGHT_MAX), not its instrument slots, bounds the places in flight. */
async function loadedWorld(seed: number, lane3Every?: number): Promise<World> {
  const world = await startWorld({
    seed,
    ...(lane3Every === undefined ? {} : { lane3Every }),
    // No sweep: the only read-back of an Unknown order is its Lane3 work.
    reconcileSweepMs: 0,
    params: { callsPerInstrumentMax: 4 * CALLS_IN_FLIGHT_MAX, accountQueuedMax: 1_000 },
    venueOptions: { latencyMsMin: LATENCY_MS, latencyMsMax: LATENCY_MS, requestTimeoutMs: 1_000 },
  })
  worlds.push(world)
  return world
}

let placed = 0

/** A resting buy far below the market; its order id. */
async function placeBuy(world: World): Promise<string> {
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', client_order_id: `share-${placed++}` }
  const answer = await world.gateway.place(traderA, body, null)
  if (answer.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(answer.reply)}`)
  return answer.reply.orderId
}

/** Tops Lane2 up to LANE2_DEPTH: the sustained new-order load. */
async function topUp(world: World): Promise<void> {
  while (world.gateway.engine.state.queues[2].size < LANE2_DEPTH) await placeBuy(world)
}

/** The places and status queries the gateway asks the venue for, in the order it asks (the venue counts each on arrival). */
function callsOf(world: World): string[] {
  const calls: string[] = []
  const venue = world.venue
  const place = venue.place.bind(venue)
  const orderStatus = venue.orderStatus.bind(venue)
  venue.place = (request) => (calls.push('place'), place(request))
  venue.orderStatus = (clientOrderId) => (calls.push(`status ${clientOrderId}`), orderStatus(clientOrderId))
  return calls
}

/**
 * Steps the clock 1 ms at a time under sustained load until the order's status is asked for, or WINDOW_MS; the
 * simulated ms it took, and the places asked for before it.
 */
async function readBackUnderLoad(world: World, calls: string[], orderId: string): Promise<{ waitedMs: number; placesBefore: number }> {
  const startMs = world.clock.nowMs()
  const from = calls.length
  const asked = () => calls.indexOf(`status ${world.gateway.engine.state.orders.get(orderId)?.venueClientOrderId}`, from)
  while (asked() < 0 && world.clock.nowMs() - startMs < WINDOW_MS) {
    if (world.clock.nowMs() % 50 === 0) await topUp(world)
    await world.clock.advanceAsync(1)
  }
  const until = asked() < 0 ? calls.length : asked()
  return { waitedMs: world.clock.nowMs() - startMs, placesBefore: calls.slice(from, until).filter((call) => call === 'place').length }
}

/** Steps the clock under sustained load until `done`, or WINDOW_MS. */
async function underLoadUntil(world: World, done: () => boolean): Promise<void> {
  const startMs = world.clock.nowMs()
  while (!done() && world.clock.nowMs() - startMs < WINDOW_MS) {
    if (world.clock.nowMs() % 50 === 0) await topUp(world)
    await world.clock.advanceAsync(1)
  }
}

/** Steps the clock 1 ms at a time until `done` (at most `limitMs`). */
async function stepUntil(world: World, done: () => boolean, limitMs: number): Promise<void> {
  const startMs = world.clock.nowMs()
  while (!done() && world.clock.nowMs() - startMs < limitMs) await world.clock.advanceAsync(1)
  expect(done()).toBe(true)
}

describe('Lane3 under sustained new-order load', () => {
  test('an Unknown order (its place answer lost) is read back within its share of the picks, and converges', async () => {
    const world = await loadedWorld(4_001)
    const { engine, executor } = world.gateway
    // The place reaches the venue, its answer and its report are lost: Unknown after the request timeout.
    world.venue.setFaults({ timeoutAfterApplyProbability: 1, dropReportProbability: 1 })
    const orderId = await placeBuy(world)
    const sentAtMs = world.clock.nowMs()
    await run(world, LATENCY_MS + 50, 1)
    world.venue.setFaults({})
    // The load is queued (held) before the order goes Unknown, and let go just before.
    executor.holdPlaceSends()
    await topUp(world)
    await stepUntil(world, () => world.clock.nowMs() >= sentAtMs + 900, 1_000)
    expect(engine.state.orders.get(orderId)?.status).toBe('Sent')
    executor.releasePlaceSends()
    await stepUntil(world, () => executor.stats.callsInFlight >= CALLS_IN_FLIGHT_MAX, 10)

    const calls = callsOf(world)
    await stepUntil(world, () => engine.state.orders.get(orderId)?.status === 'Unknown', 1_000)
    const { waitedMs, placesBefore } = await readBackUnderLoad(world, calls, orderId)
    // Asked after at most EXECUTOR_LANE3_EVERY places (once two calls of the budget are free): before, not in the window.
    expect(placesBefore).toBeLessThanOrEqual(EXECUTOR_LANE3_EVERY)
    expect(waitedMs).toBeLessThan(2 * LATENCY_MS)
    await underLoadUntil(world, () => engine.state.orders.get(orderId)?.status !== 'Unknown')
    expect(engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
    expect(world.errors).toEqual([])
  }, 60_000)

  test('the read-back of a cancel whose answer was lost goes ahead of every place: the next free budget is its', async () => {
    // The share as rare as it goes (once per 1,000 places): it is not what lets this read-back through.
    const world = await loadedWorld(4_002, EXECUTOR_LANE3_EVERY_MAX)
    const { engine, executor } = world.gateway
    const orderId = await placeBuy(world)
    await stepUntil(world, () => engine.state.orders.get(orderId)?.status === 'AckedOpen', 2_000)
    // The load is queued (held) while the cancel is out; the venue applies the cancel, its answer and report are lost.
    executor.holdPlaceSends()
    await topUp(world)
    world.venue.setFaults({ cancelAckLostProbability: 1, dropReportProbability: 1 })
    expect((await world.gateway.cancel(traderA, orderId)).reply.kind).not.toBe('rejected')
    await run(world, LATENCY_MS + 50, 1)
    world.venue.setFaults({})
    executor.releasePlaceSends()
    await stepUntil(world, () => executor.stats.callsInFlight >= CALLS_IN_FLIGHT_MAX, 10)

    const calls = callsOf(world)
    await stepUntil(world, () => engine.state.orders.get(orderId)?.status === 'Unknown', 1_000)
    expect(engine.state.orders.get(orderId)?.cancelWanted).toBe(true)
    const { waitedMs, placesBefore } = await readBackUnderLoad(world, calls, orderId)
    // The first two calls of the budget that end are its: no place goes first.
    expect(placesBefore).toBe(0)
    expect(waitedMs).toBeLessThan(2 * LATENCY_MS)
    await underLoadUntil(world, () => engine.state.orders.get(orderId)?.status !== 'Unknown')
    expect(engine.state.orders.get(orderId)?.status).toBe('Canceled')
    // The queues are what the orders say (the rank is the work index's only).
    expect(engine.state.queues[3].has(orderId)).toBe(false)
    expect(world.errors).toEqual([])
  }, 60_000)
})

test('the share is an integer in 1..EXECUTOR_LANE3_EVERY_MAX: anything else is refused when the executor is made', () => {
  for (const every of [0, -1, 1.5, EXECUTOR_LANE3_EVERY_MAX + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
    expect(() => new Lane3Share(every)).toThrow(RangeError)
  }
  expect(new Lane3Share(1).due).toBe(false)
  expect(new Lane3Share().due).toBe(false)
})

test('the read-backs of wanted cancels are not Lane3\'s share: coming back every few places, they do not keep the rest of Lane3 waiting', () => {
  // Found by the scheduling review: counted as Lane3 picks, they started the share's count again, and with one of them
  // asked (again) every 6 places — wanted cancels a venue leaves unanswered — a plain Unknown order was never read back.
  const harness = Harness.funded({ config: config({ policies: [policy({ maxOpenOrders: 1_000 })], params: { callsPerInstrumentMax: 1_024 } }) })
  const lostPlace = harness.placedId({ client_order_id: 'lost-place', qty: '0.001' })
  harness.send(lostPlace)
  harness.placeResult(lostPlace, { kind: 'unknown', reason: 'timeout' })
  const lostCancels = ['c0', 'c1', 'c2', 'c3'].map((key) => {
    const orderId = harness.openOrder({ client_order_id: key, qty: '0.001' })
    harness.cancel(orderId)
    harness.send(orderId, 'cancel')
    harness.cancelResult(orderId, { kind: 'unknown', reason: 'timeout' })
    return orderId
  })
  for (let index = 0; index < 200; index++) harness.placedId({ client_order_id: `p${index}`, qty: '0.001' })
  // The executor's pick, as executor.ts makes it: places stay in flight, read-backs stay asked (unanswered) until let go.
  const share = new Lane3Share()
  const busy = new Set<string>()
  const reconcileHeld = new Set(lostCancels)
  const picks: string[] = []
  for (let pick = 0; pick < 200 && !picks.includes(lostPlace); pick++) {
    if (pick % 6 === 0) reconcileHeld.delete(lostCancels[(pick / 6) % lostCancels.length] as string)
    const lane3First = share.due
    const item = nextWork(harness.state, { nowMs: harness.nowMs, busy, reconcileHeld, lane3First })
    if (item === null) break
    share.picked(item, lane3First, harness.state.orders.get(item.orderId))
    picks.push(item.orderId)
    if (item.kind === 'reconcile') reconcileHeld.add(item.orderId)
    else busy.add(item.orderId)
  }
  // Within its share: at most EXECUTOR_LANE3_EVERY places (the wanted cancels' read-backs besides) before it.
  const placesBefore = picks.slice(0, picks.indexOf(lostPlace)).filter((orderId) => !lostCancels.includes(orderId)).length
  expect(picks).toContain(lostPlace)
  expect(placesBefore).toBeLessThanOrEqual(EXECUTOR_LANE3_EVERY)
  expect(picks.slice(0, picks.indexOf(lostPlace)).filter((orderId) => lostCancels.includes(orderId)).length).toBeGreaterThan(0)
})
