/**
 * Venue news about an order that was sent before and waits in Enqueued to be sent again (bootstrap's resend after a
 * proof of absence, or a place the venue throttled): the news proves the venue holds the order, so the next send must
 * not go out blind. Before, the kernel refused the news (no transition from Enqueued), booked none of it — a fill's
 * money moved at the venue and not in egress — and sent the order again once the wait was over.
 */

import { describe, expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { formatDecimal, parseDecimal, roundToStep, UNIT } from '../../src/domain/decimal.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type { PlaceAck, PlaceRequest, VenueOrder, VenueOutcome } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { crashWorld, run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 11
const PARAMS = { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }

/**
 * A sim venue whose status index lags its order entry for some client ids (it answers "not found" for an order it
 * holds, past egress's grace), and which throttles places of some ids (answers 429 without acting).
 */
class LaggingVenue extends SimVenue {
  readonly statusLags = new Set<string>()
  readonly placeThrottled = new Set<string>()
  override orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    if (this.statusLags.has(clientOrderId)) return Promise.resolve({ kind: 'ok', value: null })
    return super.orderStatus(clientOrderId)
  }
  override place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    if (this.placeThrottled.has(request.clientOrderId)) return Promise.resolve({ kind: 'retryable', reason: 'rate_limited', retryAfterMs: 3_000 })
    return super.place(request)
  }
}

describe('venue news for an order waiting to be sent again', () => {
  test('a fill of the order the venue holds stops the resend and is booked', async () => {
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingVenue({ clock, seed: SEED, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
    // The venue takes the order and rests it; egress hears nothing of it before the crash.
    venue.setFaults({ timeoutAfterApplyProbability: 1, dropReportProbability: 1 })
    const first = await startWorld({ seed: SEED, clock, venue, params: PARAMS })
    const reference = venue.referencePrice('BTC-USD')?.price ?? 0n
    const price = roundToStep((reference * 98n) / 100n, parseDecimal('0.01'), 'down')
    const placed = await first.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: formatDecimal(price), client_order_id: 'R' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
    const orderId = placed.reply.orderId
    const clientId = `eg-${orderId}`
    for (let step = 0; step < 100 && venue.inspect().orders.length === 0; step++) await clock.advanceAsync(1)
    expect(venue.inspect().orders.map((order) => order.status)).toEqual(['open'])
    await crashWorld(first)

    // The next start reads the order back: "not found" past the grace (the venue's index lags), so it is resent — and
    // the venue throttles the resend, which waits in Enqueued.
    venue.setFaults({})
    venue.statusLags.add(clientId)
    venue.placeThrottled.add(clientId)
    const second = await startWorld({ seed: SEED, dir: first.dir, clock, venue, params: PARAMS })
    worlds.push(second)
    expect(second.gateway.bootstrapReport?.resent).toEqual([orderId])
    await run(second, 100)
    expect(second.gateway.engine.state.orders.get(orderId)?.status).toBe('Enqueued')

    // Meanwhile the order the venue held all along fills, and its report comes in.
    venue.setReferencePrice('BTC-USD', price - UNIT)
    await run(second, 100)
    // The fill is booked at once and the order is no longer waiting to be sent.
    expect(second.gateway.engine.state.orders.get(orderId)?.status).toBe('Filled')
    venue.placeThrottled.clear()
    venue.statusLags.clear()
    await run(second, 5_000)

    const order = second.gateway.engine.state.orders.get(orderId)
    expect(order?.cumQty).toBe(parseDecimal('0.01'))
    expect(order?.status).toBe('Filled')
    expect(venue.inspect().requests.duplicatePlaces).toBe(0)
    expect(venue.inspect().orders.length).toBe(1)
  })
})
