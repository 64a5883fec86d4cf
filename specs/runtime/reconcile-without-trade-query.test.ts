import { describe, expect, test } from 'bun:test'
import type { SimClock } from '../../src/runtime/index.ts'
import { SimClock as Clock } from '../../src/runtime/index.ts'
import type { VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { FixReason } from '../../src/venues/fix/reasons.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { crashWorld, run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

/**
 * A venue with no trade query (a FIX order-entry session: fills arrive only as execution reports, and `trades` always
 * answers unknown, as FixVenue does) still gets its Unknown orders reconciled, from the order status alone. The
 * executor used to require both queries to answer ok, so on such a venue no reconcile ever reached the kernel: every
 * Unknown order stayed Unknown for good, bootstrap waited its whole converge time for them after each crash, and
 * one the venue never received was never re-sent.
 */

const worlds = worldsStoppedAfterEach()

/** The sim venue's order entry and status, with trades answered as FixVenue answers them. */
class OrderEntryOnlyVenue extends SimVenue {
  readonly tradesQueryable = false

  constructor(clock: SimClock, seed: number) {
    super({ clock, seed, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
  }

  override trades(): Promise<VenueOutcome<VenueTrade[]>> {
    return Promise.resolve({ kind: 'unknown', reason: `${FixReason.tradesUnsupported}: an order-entry FIX session carries no trade query` })
  }
}

async function crashWithPlaceInFlight(seed: number, options: { dropPlace: boolean }) {
  const clock = new Clock({ startMs: T0 })
  const venue = new OrderEntryOnlyVenue(clock, seed)
  if (options.dropPlace) venue.setFaults({ dropRequestProbability: 1, dropReportProbability: 1 })
  else venue.setFaults({ dropReportProbability: 1 })
  const params = { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }
  const world = await startWorld({ seed, clock, venue, params })
  worlds.push(world)
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: `no-trades-${seed}` }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  for (let step = 0; step < 100 && world.gateway.executor.stats.sends === 0; step++) await clock.advanceAsync(1)
  await crashWorld(world)
  // Requests get through again; reports stay lost, so only the reconcile's status read can tell egress anything.
  venue.setFaults({ dropReportProbability: 1 })
  const restarted = await startWorld({ seed, dir: world.dir, clock, venue, params })
  worlds.push(restarted)
  await run(restarted, 3_000)
  return { restarted, venue, orderId: placed.reply.orderId }
}

describe('reconcile on a venue without a trade query', () => {
  test('an order the venue holds, Unknown after a crash, converges from its status', async () => {
    const { restarted, orderId } = await crashWithPlaceInFlight(61, { dropPlace: false })
    expect(restarted.gateway.bootstrapReport).toMatchObject({ inFlightMarkedUnknown: 1, unknownAfterWait: 0, resent: [] })
    expect(restarted.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  })

  test('an order the venue never received is concluded not at the venue after the grace and re-sent once', async () => {
    const { restarted, venue, orderId } = await crashWithPlaceInFlight(62, { dropPlace: true })
    expect(restarted.gateway.bootstrapReport).toMatchObject({ inFlightMarkedUnknown: 1, unknownAfterWait: 0, resent: [orderId] })
    expect(restarted.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
    expect(venue.inspect().requests.duplicatePlaces).toBe(0)
  })
})
