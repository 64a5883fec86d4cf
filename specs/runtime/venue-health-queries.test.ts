/**
 * Venue health scores queries too (src/runtime/venue-health-monitor.ts observeQuery, executor.ts queryCall): a venue
 * whose read-backs and open-order listings all time out cannot converge an Unknown order, yet it was scored on its
 * places alone and stayed OK. Queries have a window of their own and the venue takes the worse of the two scores
 * (combinedScore), so a sweep's many answered read-backs never hide failing places, nor the reverse. Queries an
 * adapter does not make (a FIX session has no trade query) are its own answers and not scored.
 */

import { expect, test } from 'bun:test'
import type { Engine } from '../../src/runtime/engine.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { VenueHealthMonitor } from '../../src/runtime/venue-health-monitor.ts'
import { reasonCodeIn, type VenueOrder, type VenueOutcome } from '../../src/venues/adapter.ts'
import { FIX_LOCAL_REASONS, FixReason } from '../../src/venues/fix/reasons.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { run, T0, traderA, worldsStoppedAfterEach } from './harness.ts'
import { healthWorld, restingBuy, VENUE_HEALTH } from './venue-health-support.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 29

/** A sim venue whose queries time out while `queriesDown` (its order entry keeps answering). */
class QueriesDownVenue extends SimVenue {
  queriesDown = false
  override orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    return this.queriesDown ? Promise.resolve({ kind: 'unknown', reason: 'timeout: no answer' }) : super.orderStatus(clientOrderId)
  }
  override openOrders(account?: string): Promise<VenueOutcome<VenueOrder[]>> {
    return this.queriesDown ? Promise.resolve({ kind: 'unknown', reason: 'timeout: no answer' }) : super.openOrders(account)
  }
}

test('a venue whose read-backs and listings time out goes CRITICAL, its places held; answering again, it is OK once they age out', async () => {
  const { world, venue } = await healthWorld(SEED, (options) => new QueriesDownVenue(options))
  worlds.push(world)
  const { gateway } = world
  const resting = await gateway.place(traderA, restingBuy('rest'), null)
  if (resting.reply.kind !== 'accepted') throw new Error('not accepted')
  await run(world, 500)
  expect(gateway.engine.state.orders.get(resting.reply.orderId)?.status).toBe('AckedOpen')

  // The open-order sweep's listing and read-backs time out; the places would still be answered.
  venue.queriesDown = true
  await run(world, 10_000)
  expect(gateway.engine.state.venueHealth.get('sim')?.level).toBe('CRITICAL')
  expect(gateway.venueHealth?.latest('sim')?.queries?.unknown).toBeGreaterThanOrEqual(VENUE_HEALTH.samplesMin)
  const held = await gateway.place(traderA, restingBuy('held'), null)
  if (held.reply.kind !== 'accepted') throw new Error('not accepted')
  await run(world, 500)
  expect(gateway.engine.state.orders.get(held.reply.orderId)?.lastReason).toBe('VENUE_HEALTH_CRITICAL')

  // Answering again: the timeouts age out of the window and the venue is OK.
  venue.queriesDown = false
  await run(world, VENUE_HEALTH.windowMs + 1_000, 50)
  expect(gateway.engine.state.venueHealth.get('sim')?.level).toBe('OK')
  expect(world.errors).toEqual([])
})

test("the venue takes the worse window's score: answered queries do not hide failing places; queries an adapter does not make are not scored", () => {
  const clock = new SimClock({ startMs: T0 })
  const engine = { state: { venueHealth: new Map() }, submit: () => Promise.resolve({ decision: { events: [] } }) } as unknown as Engine
  const monitor = new VenueHealthMonitor({
    engine, clock, config: VENUE_HEALTH, venues: ['fix'], sessionUp: () => true,
    answeredLocally: (_venue, outcome) => reasonCodeIn(outcome, FIX_LOCAL_REASONS),
    onError: (error) => {
      throw error
    },
  })
  const ok: VenueOutcome<unknown> = { kind: 'ok', value: null }
  const timeout: VenueOutcome<unknown> = { kind: 'unknown', reason: 'fix_timeout' }
  for (let index = 0; index < 100; index++) monitor.observeQuery('fix', ok, clock.nowMs())
  for (let index = 0; index < VENUE_HEALTH.samplesMin; index++) monitor.observe('fix', timeout, clock.nowMs())
  expect(monitor.latest('fix')).toMatchObject({ level: 'CRITICAL', score: 0, counts: { calls: VENUE_HEALTH.samplesMin, unknown: VENUE_HEALTH.samplesMin }, queries: { calls: 100, ok: 100 } })

  const fresh = new VenueHealthMonitor({ ...monitor['options'] })
  for (let index = 0; index < 100; index++) fresh.observe('fix', ok, clock.nowMs())
  // FIX order entry has no trade query: its own answer, however often a read-back asks.
  for (let index = 0; index < 50; index++) fresh.observeQuery('fix', { kind: 'unknown', reason: `${FixReason.tradesUnsupported}: no trade query` }, clock.nowMs())
  expect(fresh.latest('fix')).toMatchObject({ level: 'OK', queries: { calls: 0 } })
  // A listing's duration is not judged (sentAtMs null); a status query's is.
  fresh.observeQuery('fix', ok, null)
  clock.advance(VENUE_HEALTH.slowCallMs + 1)
  for (let index = 0; index < VENUE_HEALTH.samplesMin; index++) fresh.observeQuery('fix', timeout, T0)
  expect(fresh.latest('fix')).toMatchObject({ level: 'CRITICAL', queries: { calls: 1 + VENUE_HEALTH.samplesMin, unknown: VENUE_HEALTH.samplesMin, slow: VENUE_HEALTH.samplesMin } })
})
