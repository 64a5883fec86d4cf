/**
 * A read-back the venue throttles (a `retryable` answer with its Retry-After) is asked again no sooner than the venue
 * said, bounded by READ_BACK_RETRY_AFTER_MS_MAX; with no Retry-After (unknown, a timeout) after the executor's
 * reconcileRetryMs. Before, every unanswered read-back backed off by reconcileRetryMs (500 ms here), so a venue
 * throttling status queries for 5 s was asked ten times as often as it allowed.
 */

import { expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { READ_BACK_RETRY_AFTER_MS_MAX } from '../../src/runtime/read-back.ts'
import type { PlaceAck, PlaceRequest, VenueOrder, VenueOutcome } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** A sim venue whose place answers `unknown` (its reports dropped) and whose status query answers `statusAnswer` while set. */
class ThrottlingVenue extends SimVenue {
  statusAnswer: VenueOutcome<VenueOrder | null> | null = null
  statusCalls: number[] = []

  override async place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    await super.place(request)
    return { kind: 'unknown', reason: 'no answer' }
  }

  override async orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    this.statusCalls.push(this.clock.nowMs())
    if (this.statusAnswer !== null) return this.statusAnswer
    return super.orderStatus(clientOrderId)
  }

  constructor(readonly clock: SimClock) {
    super({ clock, seed: 5, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
  }
}

/** A world whose one order is Unknown (its place unanswered, its reports dropped) while status queries answer `statusAnswer`. */
async function unknownOrderWorld(statusAnswer: VenueOutcome<VenueOrder | null>): Promise<{ world: World; venue: ThrottlingVenue; status: () => string | undefined }> {
  const clock = new SimClock({ startMs: T0 })
  const venue = new ThrottlingVenue(clock)
  const world = await startWorld({ seed: 5, clock, venue })
  worlds.push(world)
  venue.statusAnswer = statusAnswer
  venue.setFaults({ dropReportProbability: 1 })
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: 'throttled' }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  const { orderId } = placed.reply
  await run(world, 100)
  const status = () => world.gateway.engine.state.orders.get(orderId)?.status
  expect(status()).toBe('Unknown')
  return { world, venue, status }
}

test('a throttled read-back waits the venue\'s Retry-After before the venue is asked again', async () => {
  const { world, venue, status } = await unknownOrderWorld({ kind: 'retryable', reason: 'rate_limited', retryAfterMs: 5_000 })
  const first = venue.statusCalls.length
  expect(first).toBeGreaterThanOrEqual(1)
  // reconcileRetryMs is 500 (harness): ten backoffs in 4.8 s; the venue's Retry-After allows none.
  await run(world, 4_800)
  expect(venue.statusCalls.length).toBe(first)
  venue.statusAnswer = null
  await run(world, 1_000)
  expect(venue.statusCalls.length).toBeGreaterThan(first)
  expect(status()).toBe('AckedOpen')
})

test('a Retry-After past the bound is waited only up to READ_BACK_RETRY_AFTER_MS_MAX; none at all waits reconcileRetryMs', async () => {
  const { world, venue } = await unknownOrderWorld({ kind: 'retryable', reason: 'rate_limited', retryAfterMs: 10 * READ_BACK_RETRY_AFTER_MS_MAX })
  const asked = venue.statusCalls.length
  await run(world, READ_BACK_RETRY_AFTER_MS_MAX - 500, 50)
  expect(venue.statusCalls.length).toBe(asked)
  venue.statusAnswer = { kind: 'unknown', reason: 'timeout' }
  await run(world, 600, 50)
  expect(venue.statusCalls.length).toBe(asked + 1)
  // Unanswered without a Retry-After: asked again after reconcileRetryMs (500 ms in the harness).
  await run(world, 2_000, 50)
  expect(venue.statusCalls.length).toBeGreaterThanOrEqual(asked + 4)
})
