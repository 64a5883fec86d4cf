/**
 * Venue health and a session that drops (src/runtime/venue-health-monitor.ts observe): while a venue's session is not
 * logged on the adapter answers every call itself, retryable, without the venue seeing it, and the session rule scores
 * the venue CRITICAL. Those answers are no evidence about the venue: counted in the window, they kept it CRITICAL after
 * the logon, until they aged out, and places to a venue that was up again were rejected (VENUE_HEALTH_CRITICAL).
 */

import { expect, test } from 'bun:test'
import type { CancelRequest, PlaceAck, PlaceRequest, VenueOutcome } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { run, traderA, worldsStoppedAfterEach } from './harness.ts'
import { healthWorld, restingBuy, VENUE_HEALTH } from './venue-health-support.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 13

/** A sim venue behind a session, as a FIX venue is: while it is down, every call is answered here, retryable. */
class SessionVenue extends SimVenue {
  up = true
  sessionActive(): boolean {
    return this.up
  }
  override place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    return this.up ? super.place(request) : Promise.resolve(notLoggedOn())
  }
  override cancel(request: CancelRequest): Promise<VenueOutcome<{ accepted: true }>> {
    return this.up ? super.cancel(request) : Promise.resolve(notLoggedOn())
  }
}

function notLoggedOn(): { kind: 'retryable'; reason: string; retryAfterMs: number } {
  return { kind: 'retryable', reason: 'fix_not_logged_on: session is reconnecting', retryAfterMs: 1_000 }
}

test('the calls a down session answered itself do not keep the venue CRITICAL once it is logged on again', async () => {
  const { world, venue } = await healthWorld(SEED, (options) => new SessionVenue(options))
  worlds.push(world)
  const { gateway } = world
  const resting = await gateway.place(traderA, restingBuy('rest'), null)
  if (resting.reply.kind !== 'accepted') throw new Error('not accepted')
  await run(world, 200)
  expect(gateway.engine.state.orders.get(resting.reply.orderId)?.status).toBe('AckedOpen')

  // The session drops: CRITICAL (the session rule), and the wanted cancel is answered retryable by the adapter itself.
  venue.up = false
  await gateway.cancel(traderA, resting.reply.orderId)
  await run(world, 10_000)
  expect(gateway.engine.state.venueHealth.get('sim')?.level).toBe('CRITICAL')
  expect(gateway.executor.stats.cancels).toBeGreaterThanOrEqual(8)

  // Logged on again: the venue is scored on what it did since, and a place goes.
  venue.up = true
  await run(world, 1_000)
  expect(gateway.engine.state.venueHealth.get('sim')?.level).toBe('OK')
  const after = await gateway.place(traderA, restingBuy('after'), null)
  if (after.reply.kind !== 'accepted') throw new Error('not accepted')
  await run(world, 500)
  const order = gateway.engine.state.orders.get(after.reply.orderId)
  expect([order?.status, order?.lastReason ?? null]).toEqual(['AckedOpen', null])
  expect(world.errors).toEqual([])
})

test("a stopped gateway's venue health scoring stops with it: nothing is asked of its closed log", async () => {
  const { world, venue, clock } = await healthWorld(SEED, (options) => new SessionVenue(options))
  worlds.push(world)
  await run(world, 500)
  await world.gateway.stop()
  // The session ends after the stop (an HA role change leaves the process running): a live monitor would score the
  // venue CRITICAL at its next tick and ask the closed log to record it, every tick.
  venue.up = false
  for (let step = 0; step < 40; step++) await clock.advanceAsync(VENUE_HEALTH.evaluateEveryMs)
  expect(world.errors).toEqual([])
  expect(world.gateway.venueHealth?.latest('sim')?.level).toBe('OK')
})
