/**
 * The executor gives every venue call a deadline on its clock (src/runtime/call-deadline.ts): twice the adapter's own
 * request timeout. Past it the call is answered `unknown`, as an adapter's timeout is: the order goes Unknown and is
 * read back, and its call slot is free. Before, an adapter call that never settled (a lost promise, a dead socket the
 * adapter did not notice) held its order and its instrument until a restart: with callsPerInstrumentMax 1 no cancel of
 * any other order on the instrument went. The adapter's late answer is ignored: nothing is applied twice.
 */

import { describe, expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { ADAPTER_TIMEOUT_MS_ASSUMED, callDeadlineMs, withinDeadline } from '../../src/runtime/call-deadline.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type { CancelRequest, PlaceAck, PlaceRequest, VenueOrder, VenueOutcome } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const REQUEST_TIMEOUT_MS = 1_000
/** The executor's deadline for the sim's calls: twice its request timeout. */
const DEADLINE_MS = 2 * REQUEST_TIMEOUT_MS

/** A call held by HoldVenue: never answered until the spec settles it. */
interface Held {
  resolve: (outcome: VenueOutcome<never> | VenueOutcome<PlaceAck> | VenueOutcome<{ accepted: true }>) => void
  reject: (error: unknown) => void
}

/** A sim venue whose next call of each kind in `holdNext` never reaches the venue and never settles unless the spec says. */
class HoldVenue extends SimVenue {
  readonly holdNext = new Set<'place' | 'cancel' | 'orderStatus'>()
  held: Held | null = null

  override place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    return this.holdNext.delete('place') ? this.hold() : super.place(request)
  }

  override cancel(request: CancelRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.holdNext.delete('cancel') ? this.hold() : super.cancel(request)
  }

  override orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    return this.holdNext.delete('orderStatus') ? this.hold() : super.orderStatus(clientOrderId)
  }

  private hold<T>(): Promise<VenueOutcome<T>> {
    return new Promise<VenueOutcome<T>>((resolve, reject) => (this.held = { resolve: resolve as Held['resolve'], reject }))
  }
}

async function heldWorld(seed: number): Promise<{ world: World; venue: HoldVenue }> {
  const clock = new SimClock({ startMs: T0 })
  const venue = new HoldVenue({ clock, seed, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5, requestTimeoutMs: REQUEST_TIMEOUT_MS })
  const world = await startWorld({ seed, clock, venue, params: { callsPerInstrumentMax: 1 } })
  worlds.push(world)
  return { world, venue }
}

async function place(world: World, clientOrderId: string): Promise<string> {
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: clientOrderId }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  return placed.reply.orderId
}

/** Steps the clock 1 ms at a time until `done` or `limitMs`; the simulated ms it took. */
async function stepUntil(world: World, done: () => boolean, limitMs: number): Promise<number> {
  const startMs = world.clock.nowMs()
  while (!done() && world.clock.nowMs() - startMs < limitMs) await world.clock.advanceAsync(1)
  return world.clock.nowMs() - startMs
}

const statusOf = (world: World, orderId: string) => world.gateway.engine.state.orders.get(orderId)?.status

describe('every venue call has a deadline', () => {
  test('a place that never settles: Unknown at the deadline and read back, the instrument free for a cancel, its late ack ignored', async () => {
    const { world, venue } = await heldWorld(51)
    const resting = await place(world, 'rest-0')
    await run(world, 200)
    expect(statusOf(world, resting)).toBe('AckedOpen')

    venue.holdNext.add('place')
    const stuck = await place(world, 'stuck-0')
    await run(world, 20, 1)
    expect(statusOf(world, stuck)).toBe('Sent')
    expect(venue.held).not.toBeNull()
    // The one slot of BTC-USD is the stuck place's: the cancel waits for it.
    expect((await world.gateway.cancel(traderA, resting)).reply.kind).toBe('done')
    const counts = () => venue.inspect().requests.calls
    const before = { ...counts() }

    const waitedMs = await stepUntil(world, () => statusOf(world, stuck) !== 'Sent', 4 * DEADLINE_MS)
    expect(waitedMs).toBeGreaterThanOrEqual(DEADLINE_MS - 20)
    expect(waitedMs).toBeLessThanOrEqual(DEADLINE_MS + 20)
    expect(statusOf(world, stuck)).toBe('Unknown')
    expect(world.errors).toHaveLength(1)
    expect(world.errors[0]).toContain('VENUE_CALL_DEADLINE')
    expect(world.gateway.executor.stats.callsPastDeadline).toBe(1)

    // Read back by its client order id before anything else: no place went again; the cancel went.
    await run(world, 100, 1)
    expect(counts().orderStatus).toBeGreaterThan(before.orderStatus)
    expect(counts().place).toBe(before.place)
    expect(counts().cancel).toBe(before.cancel + 1)
    await run(world, 200)
    expect(statusOf(world, resting)).toBe('Canceled')

    // The place's late ack changes nothing: no venue order id, no second answer, no error.
    const order = () => world.gateway.engine.state.orders.get(stuck)
    const seen = { status: order()?.status, venueOrderId: order()?.venueOrderId }
    venue.held?.resolve({ kind: 'ok', value: { venueOrderId: 'late-1' } })
    await run(world, 50, 1)
    expect({ status: order()?.status, venueOrderId: order()?.venueOrderId }).toEqual(seen)
    expect(world.errors).toHaveLength(1)
    expect(world.gateway.executor.stats.callsInFlight).toBe(0)
  })

  test('a cancel that never settles: Unknown at the deadline and read back, a cancel of another order goes, its late failure ignored', async () => {
    const { world, venue } = await heldWorld(52)
    const first = await place(world, 'rest-1')
    const second = await place(world, 'rest-2')
    await run(world, 200)
    expect(statusOf(world, first)).toBe('AckedOpen')
    expect(statusOf(world, second)).toBe('AckedOpen')

    venue.holdNext.add('cancel')
    expect((await world.gateway.cancel(traderA, first)).reply.kind).toBe('done')
    await run(world, 20, 1)
    expect(venue.held).not.toBeNull()
    expect((await world.gateway.cancel(traderA, second)).reply.kind).toBe('done')
    const counts = () => venue.inspect().requests.calls
    const before = { ...counts() }
    await run(world, 100, 1)
    // The stuck cancel holds BTC-USD's one slot: the second cancel waits.
    expect(counts().cancel).toBe(before.cancel)
    expect(statusOf(world, first)).toBe('CancelPending')

    const waitedMs = await stepUntil(world, () => statusOf(world, first) !== 'CancelPending', 4 * DEADLINE_MS)
    expect(waitedMs).toBeLessThanOrEqual(DEADLINE_MS + 20)
    expect(statusOf(world, first)).toBe('Unknown')
    expect(world.errors).toHaveLength(1)
    expect(world.errors[0]).toContain('VENUE_CALL_DEADLINE')

    // Read back; the second cancel goes, then the first's again (the venue holds it open): both end Canceled.
    await run(world, 1_000)
    expect(counts().orderStatus).toBeGreaterThan(before.orderStatus)
    expect(statusOf(world, second)).toBe('Canceled')
    expect(statusOf(world, first)).toBe('Canceled')

    // The adapter's late rejection (it must never reject) is caught and ignored: no unhandled rejection, no new error.
    const seen = statusOf(world, first)
    venue.held?.reject(new Error('late'))
    await run(world, 50, 1)
    expect(statusOf(world, first)).toBe(seen)
    expect(world.errors).toHaveLength(1)
    expect(world.gateway.executor.stats.callsInFlight).toBe(0)
  })

  test('a read-back query that never settles goes unanswered at its deadline: the order is asked again, the call budget freed', async () => {
    const { world, venue } = await heldWorld(53)
    venue.holdNext.add('place')
    const stuck = await place(world, 'stuck-1')
    await run(world, 20, 1)
    // The place's deadline makes the order Unknown; its read-back's status query is held too.
    venue.holdNext.add('orderStatus')
    await stepUntil(world, () => statusOf(world, stuck) === 'Unknown', 2 * DEADLINE_MS)
    const asked = () => venue.inspect().requests.calls.orderStatus
    const before = asked()
    await run(world, 100, 1)
    expect(venue.holdNext.has('orderStatus')).toBe(false)
    expect(world.gateway.executor.stats.callsInFlight).toBeGreaterThan(0)

    // At the query's deadline the read-back is unanswered (the order stays Unknown), its calls free; asked again later.
    const waitedMs = await stepUntil(world, () => asked() > before, 4 * DEADLINE_MS)
    expect(waitedMs).toBeLessThanOrEqual(DEADLINE_MS + 1_000)
    expect(world.gateway.executor.stats.callsPastDeadline).toBe(2)
    expect(world.errors.filter((line) => line.includes('VENUE_CALL_DEADLINE'))).toHaveLength(2)
    await run(world, 6_000)
    expect(world.gateway.executor.stats.callsInFlight).toBe(0)
    expect(world.gateway.engine.state.inFlight.size).toBe(0)
  })
})

describe('the deadline', () => {
  test('is twice the adapter’s own request timeout (openOrders: its listing’s); one that declares none is taken at the longest configurable', () => {
    expect(callDeadlineMs({ requestTimeoutMs: 1_000 }, 'place')).toBe(2_000)
    expect(callDeadlineMs({ requestTimeoutMs: 1_000 }, 'openOrders')).toBe(2_000)
    expect(callDeadlineMs({ requestTimeoutMs: 1_000, openOrdersTimeoutMs: 200_000 }, 'openOrders')).toBe(400_000)
    expect(callDeadlineMs({ requestTimeoutMs: 1_000, openOrdersTimeoutMs: 200_000 }, 'query')).toBe(2_000)
    expect(callDeadlineMs({}, 'cancel')).toBe(2 * ADAPTER_TIMEOUT_MS_ASSUMED)
    expect(callDeadlineMs({ requestTimeoutMs: Number.NaN }, 'cancel')).toBe(2 * ADAPTER_TIMEOUT_MS_ASSUMED)
    // Never past what a timer takes (setTimeout fires at once past 2^31 − 1 ms).
    expect(callDeadlineMs({ requestTimeoutMs: 2 ** 40 }, 'amend')).toBe(2 ** 31 - 1)
  })

  test('a call that settles cancels its timer; one that does not is answered unknown once, its late answer ignored', async () => {
    const clock = new SimClock({ startMs: T0 })
    const passed: string[] = []
    const deadlines = { clock, passed: (venue: string, call: string) => void passed.push(`${venue} ${call}`) }
    const venue = new SimVenue({ clock, seed: 1, instruments: simInstrumentsFor(defaultSimInstruments()), requestTimeoutMs: 100 })
    const answered = withinDeadline(Promise.resolve({ kind: 'ok', value: 1 } as const), venue, 'query', null, deadlines)
    expect(await answered).toEqual({ kind: 'ok', value: 1 })
    expect(clock.pendingCount()).toBe(0)

    let late: (outcome: VenueOutcome<number>) => void = () => undefined
    const stuck = withinDeadline(new Promise<VenueOutcome<number>>((resolve) => (late = resolve)), venue, 'query', null, deadlines)
    await clock.advanceAsync(199)
    expect(passed).toEqual([])
    await clock.advanceAsync(1)
    expect(await stuck).toMatchObject({ kind: 'unknown', reason: expect.stringContaining('VENUE_CALL_DEADLINE') })
    late({ kind: 'ok', value: 2 })
    await clock.advanceAsync(1_000)
    expect(passed).toEqual(['sim query'])
    expect(clock.pendingCount()).toBe(0)
  })
})
