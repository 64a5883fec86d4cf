import { describe, expect, test } from 'bun:test'
import type { SimClock } from '../../src/runtime/index.ts'
import type { PlaceAck, PlaceRequest, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock as Clock } from '../../src/runtime/index.ts'
import { crashWorld, run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

/**
 * "Not found" proves absence only when the venue looked after the grace since the send record: the venue reads its
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

  constructor(clock: SimClock, seed: number, delays: { placeDelayMs: number; tradesAnswerDelayMs: number }) {
    super({ clock, seed, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
    this.#clock = clock
    this.#placeDelayMs = delays.placeDelayMs
    this.#tradesAnswerDelayMs = delays.tradesAnswerDelayMs
  }

  override place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    return new Promise((resolve) => this.#clock.schedule(this.#placeDelayMs, () => resolve(super.place(request))))
  }

  override trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    return super.trades(options).then((outcome) => new Promise((resolve) => this.#clock.schedule(this.#tradesAnswerDelayMs, () => resolve(outcome))))
  }
}

describe('reconcile dates "not found" by when the venue was asked', () => {
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
})
