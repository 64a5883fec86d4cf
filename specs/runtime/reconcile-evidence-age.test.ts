import { describe, expect, test } from 'bun:test'
import type { SimClock } from '../../src/runtime/index.ts'
import type { AppliedEvent } from '../../src/runtime/index.ts'
import type { PlaceAck, PlaceRequest, VenueOrder, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock as Clock } from '../../src/runtime/index.ts'
import { crashWorld, run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

/**
 * A venue's answer to a reconcile is its view when it was asked. "Not found" proves absence only when the venue looked after the grace since the send record: the venue reads its
 * book when the query arrives, not when its answer is back. A reconcile whose answer takes long (a slow trades query
 * beside the status query) must not date the venue's look by the answer's arrival.
 */

const worlds = worldsStoppedAfterEach()

const GRACE_MS = 1_000

/**
 * The sim venue behind a slower network: a place reaches the book `placeDelayMs` after the call (within the grace, as
 * the grace's contract requires), and the trades query's answer comes back `tradesAnswerDelayMs` after the venue read
 * its trades.
 */
class SlowLinkVenue extends SimVenue {
  readonly #clock: SimClock
  readonly #placeDelayMs: number
  readonly #tradesAnswerDelayMs: number

  readonly #statusAnswerDelayMs: number

  constructor(clock: SimClock, seed: number, delays: { placeDelayMs: number; tradesAnswerDelayMs: number; statusAnswerDelayMs?: number }) {
    super({ clock, seed, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
    this.#clock = clock
    this.#placeDelayMs = delays.placeDelayMs
    this.#tradesAnswerDelayMs = delays.tradesAnswerDelayMs
    this.#statusAnswerDelayMs = delays.statusAnswerDelayMs ?? 0
  }

  override orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    return super.orderStatus(clientOrderId).then((outcome) => new Promise((resolve) => this.#clock.schedule(this.#statusAnswerDelayMs, () => resolve(outcome))))
  }

  override place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    return new Promise((resolve) => this.#clock.schedule(this.#placeDelayMs, () => resolve(super.place(request))))
  }

  override trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    return super.trades(options).then((outcome) => new Promise((resolve) => this.#clock.schedule(this.#tradesAnswerDelayMs, () => resolve(outcome))))
  }
}

describe("reconcile takes the venue's view as of when the venue was asked", () => {
  test('a crash with a place on its way, then a not-found read early but answered after the grace: the order is not sent again', async () => {
    const seed = 51
    const clock = new Clock({ startMs: T0 })
    const venue = new SlowLinkVenue(clock, seed, { placeDelayMs: 600, tradesAnswerDelayMs: GRACE_MS })
    // Reports are lost (a fault the sweeps recover from): only the reconcile's own reads tell egress about the order.
    venue.setFaults({ dropReportProbability: 1 })
    const params = { reconcileGraceMs: GRACE_MS, reconcileRecheckMs: 200 }
    const world = await startWorld({ seed, clock, venue, params })
    worlds.push(world)
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 'slow-link-1' }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
    const { orderId } = placed.reply
    for (let step = 0; step < 100 && world.gateway.executor.stats.sends === 0; step++) await clock.advanceAsync(1)
    expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Sent')
    // The place is on its way to the venue (it arrives 600 ms after the call); the process dies now and restarts.
    await crashWorld(world)
    const restarted = await startWorld({ seed, dir: world.dir, clock, venue, params })
    worlds.push(restarted)
    await run(restarted, 3 * GRACE_MS)
    const inspection = venue.inspect()
    expect(restarted.gateway.bootstrapReport?.inFlightMarkedUnknown).toBe(1)
    // Before the fix: the status read at ~+10 ms said not found, the answer came at ~+1,010 ms, past the grace, so the
    // order was concluded never received (Failed, not at the venue), resent by bootstrap, and the venue got the
    // place twice (refused as a duplicate client order id).
    expect(restarted.gateway.bootstrapReport?.resent).toEqual([])
    expect(inspection.requests.calls.place).toBe(1)
    expect(inspection.requests.duplicatePlaces).toBe(0)
    expect(restarted.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  })

  test('a sweep answer the venue gave before a fill report landed does not move the filled order (no alert, never Unknown)', async () => {
    const seed = 52
    const clock = new Clock({ startMs: T0 })
    const venue = new SlowLinkVenue(clock, seed, { placeDelayMs: 0, tradesAnswerDelayMs: 0, statusAnswerDelayMs: 300 })
    // A venue that cannot list its open orders: the sweep reads every quiet order back (open-order-sweep.ts).
    venue.openOrders = () => Promise.resolve({ kind: 'unknown', reason: 'fix_open_orders_unsupported' })
    const world = await startWorld({ seed, clock, venue })
    worlds.push(world)
    const statuses: string[] = []
    const alerts: string[] = []
    world.gateway.engine.onDurable((applied: AppliedEvent[]) => {
      for (const { event } of applied) {
        if (event.type === 'alert.raised') alerts.push(`${event.reason}: ${event.detail}`)
        const order = 'orderId' in event && event.orderId !== null ? world.gateway.engine.state.orders.get(event.orderId) : undefined
        if (order !== undefined && statuses.at(-1) !== order.status) statuses.push(order.status)
      }
    })
    const reference = venue.referencePrice('BTC-USD')
    if (reference === null) throw new Error('no BTC-USD price')
    const below = reference.price - 100n * 100_000_000n
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: String(below / 100_000_000n), client_order_id: 'stale-sweep-1' }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
    const { orderId } = placed.reply
    // The order rests; the sweep reads it back after a quiet interval, and the venue's answer takes 300 ms to return.
    for (let step = 0; step < 2_000 && world.gateway.executor.stats.reconciles === 0; step++) await clock.advanceAsync(5)
    expect(world.gateway.executor.stats.reconciles).toBe(1)
    expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
    // Meanwhile the market falls through the limit: the fill report lands before the (open, nothing filled) answer.
    await clock.advanceAsync(50)
    venue.setReferencePrice('BTC-USD', below - 1_000n * 100_000_000n)
    await run(world, 1_000)
    expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Filled')
    // Before the fix: Filled → Unknown (order.reconciled refused in Filled, TRANSITION_REFUSED alert) → Filled.
    expect(statuses.filter((status) => status === 'Unknown')).toEqual([])
    expect(alerts).toEqual([])
  })
})
