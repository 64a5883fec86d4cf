/**
 * A venue's read-back answer must be about the order asked, as a report must (kernel/inbox.ts mismatchOf): a status
 * under a client id that is none of the order's, or stating another account, symbol or side, and a trade under the
 * order's id stating another account or side, are another order's news (runtime/read-back-check.ts otherOrderOf).
 * Before, the status was converged onto the order asked: a venue answering with another order's Filled status had the
 * order's whole quantity booked as a synthetic fill (found by the JSONL adversarial review). Refused, the order stays
 * Unknown, holding its worst case, is asked again after the back-off, and converges once the venue answers about it.
 * Each refusal is counted (`egress_read_backs_refused_total{check="other_order"}`): it writes no record.
 */

import { expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { GatewayMetrics } from '../../src/http/gateway-metrics.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type { PlaceAck, PlaceRequest, VenueOrder, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** A sim venue whose place answers `unknown` and whose read-back, while `other` is set, says the order is filled under it. */
class OtherOrderVenue extends SimVenue {
  other: { status?: Partial<VenueOrder>; trade?: Partial<VenueTrade> } | null = null

  override async place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    await super.place(request)
    return { kind: 'unknown', reason: 'no answer' }
  }

  override async orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    const real = await super.orderStatus(clientOrderId)
    if (this.other === null || real.kind !== 'ok' || real.value === null) return real
    return { kind: 'ok', value: { ...real.value, status: 'filled', cumQty: real.value.qty, ...this.other.status } }
  }

  override async trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    const real = await super.trades(options)
    if (this.other?.trade === undefined || real.kind !== 'ok') return real
    const trade: VenueTrade = {
      execId: 'other-1', clientOrderId: options.clientOrderId ?? '', venueOrderId: 'v-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy',
      qty: 1_000_000n, price: 59_000n * 100_000_000n, fee: 0n, feeAsset: 'USD', liquidity: 'maker', venueTimeMs: T0, ...this.other.trade,
    }
    return { kind: 'ok', value: [trade] }
  }
}

const OTHERS: [string, { status?: Partial<VenueOrder>; trade?: Partial<VenueTrade> }, string][] = [
  ['a status under a client id that is none of the order’s', { status: { clientOrderId: 'someone-else' } }, 'venueOrder.clientOrderId'],
  ['a status of another account', { status: { account: 'acct-b' } }, 'venueOrder.account'],
  ['a status of another symbol', { status: { symbol: 'ETH-USD' } }, 'venueOrder.symbol'],
  ['a status of another side', { status: { side: 'sell' } }, 'venueOrder.side'],
  ['a trade under the order’s id of another account', { status: { status: 'open', cumQty: 0n }, trade: { account: 'acct-b' } }, 'trades.0.account'],
  ['a trade under the order’s id of another side', { status: { status: 'open', cumQty: 0n }, trade: { side: 'sell' } }, 'trades.0.side'],
]

for (const [name, other, path] of OTHERS) {
  test(`a read-back answer with ${name} is refused (VENUE_ANSWER_INVALID at ${path}); nothing is booked`, async () => {
    const clock = new SimClock({ startMs: T0 })
    const venue = new OtherOrderVenue({ clock, seed: 3, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
    venue.other = other
    venue.setFaults({ dropReportProbability: 1 })
    const world = await startWorld({ seed: 3, clock, venue })
    worlds.push(world)
    const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: 'other-order' }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
    const order = () => world.gateway.engine.state.orders.get(placed.reply.kind === 'accepted' ? placed.reply.orderId : '')
    await run(world, 400)
    expect(order()?.status).toBe('Unknown')
    expect(order()?.cumQty).toBe(0n)
    expect(world.errors.length).toBeGreaterThan(0)
    expect(world.errors.every((line) => line.includes('VenueAnswerInvalidError') && line.includes('another order') && line.includes(path))).toBe(true)
    // Counted, so an operator sees it without reading the log (it writes no record).
    expect(world.gateway.executor.stats.readBacksRefused).toEqual({ unrecordable: 0, other_order: world.errors.length })
    const metrics = new GatewayMetrics()
    metrics.attach(world.gateway, { inFlight: () => 0 })
    expect(metrics.render()).toContain(`egress_read_backs_refused_total{check="other_order"} ${world.errors.length}`)
    metrics.detach()
    // The venue answers about the order again: it converges from the next read-back, with nothing filled.
    venue.other = null
    await run(world, 1_000)
    expect(order()?.status).toBe('AckedOpen')
    expect(order()?.cumQty).toBe(0n)
  })
}

test('an answer about the order under its own ids, a member left empty, is taken', async () => {
  const clock = new SimClock({ startMs: T0 })
  const venue = new OtherOrderVenue({ clock, seed: 3, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
  venue.other = { status: { status: 'open', cumQty: 0n, account: '', symbol: '' } }
  venue.setFaults({ dropReportProbability: 1 })
  const world = await startWorld({ seed: 3, clock, venue })
  worlds.push(world)
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: 'own-order' }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 400)
  expect(world.gateway.engine.state.orders.get(placed.reply.orderId)?.status).toBe('AckedOpen')
  expect(world.errors).toEqual([])
})
