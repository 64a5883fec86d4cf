/**
 * Venue health and the answers an adapter gives itself, for a reason of egress's own (VenueAdapter.answeredLocally):
 * the JSONL client's bound of requests awaiting an answer (jsonl_too_many_in_flight), the FIX adapter's request it cannot
 * put to the venue (fix_order_facts_missing, fix_invalid_request). The venue never saw those calls, yet each was scored
 * as the venue's failure (a retryable answer weighs 50): a burst past the client's own bound held the venue CRITICAL,
 * and places to a venue that was answering everything it was asked were rejected (VENUE_HEALTH_CRITICAL). The link's
 * answers (not connected, not logged on) are not such answers: specs/venues/jsonl/reason-codes.test.ts and
 * specs/venues/fix/venue.test.ts pin which answers each adapter counts as its own.
 */

import { expect, test } from 'bun:test'
import { reasonCodeIn, type PlaceAck, type PlaceRequest, type VenueOutcome } from '../../src/venues/adapter.ts'
import { JSONL_LOCAL_REASONS, JsonlReason } from '../../src/venues/jsonl/reasons.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { run, traderA, worldsStoppedAfterEach } from './harness.ts'
import { healthWorld, restingBuy, VENUE_HEALTH } from './venue-health-support.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 17

/** A sim venue behind a client with a bound of its own, as the JSONL client's pendingMax: while `full`, places are answered here. */
class BoundedClientVenue extends SimVenue {
  full = false
  localAnswers = 0
  override place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    if (!this.full) return super.place(request)
    this.localAnswers++
    return Promise.resolve({ kind: 'retryable', reason: `${JsonlReason.tooManyInFlight}: 64 awaiting an answer`, retryAfterMs: 50 })
  }
  /** As JsonlVenueClient.answeredLocally. */
  answeredLocally(outcome: VenueOutcome<unknown>): boolean {
    return reasonCodeIn(outcome, JSONL_LOCAL_REASONS)
  }
}

test("the adapter's own too-many-in-flight answers are not scored: the venue stays OK and the places go once there is room", async () => {
  const { world, venue } = await healthWorld(SEED, (options) => new BoundedClientVenue(options))
  worlds.push(world)
  const { gateway } = world

  // The client's bound is reached: a place is answered retryable by the client itself, every 50 ms, for 2 s.
  venue.full = true
  const first = await gateway.place(traderA, restingBuy('first'), null)
  if (first.reply.kind !== 'accepted') throw new Error('not accepted')
  await run(world, 2_000)
  expect(gateway.engine.state.venueHealth.get('sim')?.level ?? 'OK').toBe('OK')
  expect(venue.localAnswers).toBeGreaterThan(VENUE_HEALTH.samplesMin)

  // Room again: the place waiting goes, and so does a new one.
  venue.full = false
  const second = await gateway.place(traderA, restingBuy('second'), null)
  if (second.reply.kind !== 'accepted') throw new Error('not accepted')
  await run(world, 500)
  for (const orderId of [first.reply.orderId, second.reply.orderId]) {
    const order = gateway.engine.state.orders.get(orderId)
    expect([order?.status, order?.lastReason ?? null]).toEqual(['AckedOpen', null])
  }
  expect(world.errors).toEqual([])
})
