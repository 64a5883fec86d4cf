/**
 * A venue's read-back answer the log could not hold (a trade at a price of 30 digits, which the JSONL wire carries:
 * its `$units` integers take 40) was handed to the kernel as it came. The reconcile decision's fill record made the
 * log's writer throw, the executor logged the error and freed the order with no back-off, and an Unknown order was
 * picked again at once: the venue was asked about it as fast as it answered, each answer one more error line, for
 * good (found by the JSONL adversarial review: 49 read-backs in 500 ms of simulated time).
 */

import { expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type { PlaceRequest, PlaceAck, VenueOrder, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { crashWorld, run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** A sim venue whose place answers `unknown` and whose read-back lists a trade changed by `tradeChange` (when set). */
class BadAnswerVenue extends SimVenue {
  tradeChange: Partial<VenueTrade> | null = null
  statusCalls = 0

  override async place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    await super.place(request)
    return { kind: 'unknown', reason: 'no answer' }
  }

  override async orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    this.statusCalls++
    const real = await super.orderStatus(clientOrderId)
    if (this.tradeChange === null || real.kind !== 'ok' || real.value === null) return real
    return { kind: 'ok', value: { ...real.value, cumQty: 1_000_000n, status: 'partially_filled' } }
  }

  override async trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    const real = await super.trades(options)
    if (this.tradeChange === null || real.kind !== 'ok') return real
    const trade: VenueTrade = {
      execId: 'huge-1', clientOrderId: options.clientOrderId ?? '', venueOrderId: 'v-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy',
      qty: 1_000_000n, price: 59_000n * 100_000_000n, fee: 0n, feeAsset: 'USD', liquidity: 'maker', venueTimeMs: T0, ...this.tradeChange,
    }
    return { kind: 'ok', value: [trade] }
  }
}

// Ids are bounded like a report's (src/domain/venue-report-schema.ts): a venue's id of any length would be recorded as is.
const BAD_TRADES: [string, Partial<VenueTrade>, string][] = [
  ['a price of 31 digits', { price: 10n ** 30n }, 'trades.0.price'],
  ['a price of 0', { price: 0n }, 'trades.0.price'],
  ['an execId of 300 characters', { execId: 'x'.repeat(300) }, 'trades.0.execId'],
  ['a venueOrderId with a line break', { venueOrderId: 'v-1\nforged' }, 'trades.0.venueOrderId'],
]

for (const [name, change, path] of BAD_TRADES) {
  test(`a read-back answer with ${name} is refused with VENUE_ANSWER_INVALID and asked again only after the back-off`, async () => {
    const clock = new SimClock({ startMs: T0 })
    const venue = new BadAnswerVenue({ clock, seed: 3, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
    venue.tradeChange = change
    const world = await startWorld({ seed: 3, clock, venue })
    worlds.push(world)
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: 'bad-answer' }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
    venue.setFaults({ dropReportProbability: 1 })
    await run(world, 400)
    const order = () => world.gateway.engine.state.orders.get(placed.reply.kind === 'accepted' ? placed.reply.orderId : '')
    expect(order()?.status).toBe('Unknown')
    // The harness's reconcileRetryMs is 500: within 400 ms the venue is asked once (each answer takes 10 ms).
    expect(venue.statusCalls).toBeLessThanOrEqual(2)
    expect(world.errors.length).toBeGreaterThan(0)
    expect(world.errors.every((line) => line.includes('VenueAnswerInvalidError') && line.includes(path))).toBe(true)
    expect(world.gateway.executor.stats.readBacksRefused).toEqual({ unrecordable: world.errors.length, other_order: 0 })
    expect(order()?.cumQty).toBe(0n)
    // The venue answers sanely again: the order converges from the next read-back.
    venue.tradeChange = null
    await run(world, 1_000)
    expect(order()?.status).toBe('AckedOpen')
    // And the log reads back: a restart replays it.
    await crashWorld(world)
    const restarted = await startWorld({ seed: 3, dir: world.dir, clock, venue })
    worlds.push(restarted)
    expect(restarted.gateway.engine.state.orders.get(placed.reply.orderId)?.cumQty).toBe(0n)
  })
}
