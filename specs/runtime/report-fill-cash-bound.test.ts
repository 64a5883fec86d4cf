/**
 * A venue fill whose figures each fit a record but whose cash (quantity × price) does not. A fill covering synthetic
 * quantity books `order.fill_trued_up` with the real fill's cash for it, and the log's writer asserted on a cash past
 * 20 whole digits (binary-writer.ts: "beyond the amounts a record can hold"): an AssertionError out of the engine for
 * a venue's message, the report lost and its order read back into the same assertion (found by review). Such a report
 * or read-back answer is refused at the gateway's check instead (VENUE_REPORT_INVALID, VENUE_ANSWER_INVALID), and one
 * whose cash is exactly the largest a record holds is booked and replays.
 */

import { expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type { ExecutionReport, PlaceAck, PlaceRequest, VenueOrder, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { crashWorld, run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const BTC = 100_000_000n
/** The largest amount a record holds: 20 whole digits and 8 places. */
const RECORD_UNITS_MAX = 10n ** 28n - 1n

/**
 * A sim venue whose place answer is lost and whose status says `statusCumQty` filled with no trades listed (a venue
 * without a trade query): the gateway books a synthetic fill for it. `trades` are listed once set.
 */
class StatusOnlyVenue extends SimVenue {
  statusCumQty = 0n
  trades_: VenueTrade[] = []

  override async place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    await super.place(request)
    return { kind: 'unknown', reason: 'no answer' }
  }

  override async orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    const real = await super.orderStatus(clientOrderId)
    if (real.kind !== 'ok' || real.value === null) return real
    return { kind: 'ok', value: { ...real.value, cumQty: this.statusCumQty, status: 'partially_filled' } }
  }

  override async trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    await super.trades(options)
    return { kind: 'ok', value: this.trades_.filter((trade) => trade.clientOrderId === options.clientOrderId) }
  }
}

/** A buy of 2 BTC whose place answer was lost, read back with `syntheticQty` filled: a synthetic fill stands for it. */
async function syntheticWorld(syntheticQty: bigint): Promise<{ world: World; venue: StatusOnlyVenue; orderId: string }> {
  const clock = new SimClock({ startMs: T0 })
  const venue = new StatusOnlyVenue({ clock, seed: 5, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
  venue.statusCumQty = syntheticQty
  const world = await startWorld({ seed: 5, clock, venue })
  worlds.push(world)
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '2', price: '59000', tif: 'GTC', client_order_id: 'big-cash' }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  venue.setFaults({ dropReportProbability: 1 })
  await run(world, 1_000)
  const orderId = placed.reply.orderId
  const order = world.gateway.engine.state.orders.get(orderId)
  expect(order?.syntheticPendingQty).toBe(syntheticQty)
  return { world, venue, orderId }
}

function fillReport(world: World, orderId: string, fill: { lastQty: bigint; lastPrice: bigint }): ExecutionReport {
  const order = world.gateway.engine.state.orders.get(orderId)
  if (order === undefined) throw new Error(`no order ${orderId}`)
  return {
    venue: order.venue, execId: 'real-1', kind: 'fill', clientOrderId: order.venueClientOrderId, venueOrderId: order.venueOrderId ?? 'v-1',
    account: order.accountId, symbol: order.symbol, side: order.side, cumQty: fill.lastQty, lastQty: fill.lastQty, lastPrice: fill.lastPrice,
    fee: 0n, feeAsset: 'USD', venueTimeMs: world.clock.nowMs(),
  }
}

function tradeOf(report: ExecutionReport): VenueTrade {
  return {
    execId: report.execId, clientOrderId: report.clientOrderId, venueOrderId: report.venueOrderId, account: report.account, symbol: report.symbol, side: report.side,
    qty: report.lastQty ?? 0n, price: report.lastPrice ?? 0n, fee: 0n, feeAsset: 'USD', liquidity: 'taker', venueTimeMs: report.venueTimeMs,
  }
}

function noAssertion(world: World): void {
  expect(world.errors.filter((line) => line.includes('AssertionError'))).toEqual([])
}

// 2 BTC at the largest price a record holds: each figure fits, the cash (2 × 99,999,999,999,999,999,999.99999999) does not.
const OVER = { lastQty: 2n * BTC, lastPrice: RECORD_UNITS_MAX }

test('a fill report whose cash is past what a record holds is refused with VENUE_REPORT_INVALID, never reaching the log writer', async () => {
  const { world, orderId } = await syntheticWorld(2n * BTC)
  await world.gateway.reportIntake.submit(fillReport(world, orderId, OVER))
  await run(world, 50)
  noAssertion(world)
  expect(world.errors.some((line) => line.includes('real-1') && line.includes('VenueReportInvalidError') && line.includes('report.lastPrice'))).toBe(true)
  const order = world.gateway.engine.state.orders.get(orderId)
  expect(order?.syntheticPendingQty).toBe(2n * BTC)
  expect(world.gateway.engine.wal.fatalError).toBeNull()
})

test('a read-back listing a trade whose cash is past what a record holds is refused with VENUE_ANSWER_INVALID, never reaching the log writer', async () => {
  const { world, venue, orderId } = await syntheticWorld(2n * BTC)
  venue.trades_ = [tradeOf(fillReport(world, orderId, OVER))]
  const before = world.errors.length
  // The open-order sweep reads the order back (every 2 s in these worlds).
  await run(world, 5_000)
  noAssertion(world)
  const errors = world.errors.slice(before)
  expect(errors.length).toBeGreaterThan(0)
  expect(errors.every((line) => line.includes('VenueAnswerInvalidError') && line.includes('trades.0.price'))).toBe(true)
  expect(world.gateway.engine.state.orders.get(orderId)?.syntheticPendingQty).toBe(2n * BTC)
})

test('a fill whose cash is exactly the largest a record holds is booked, trued up, and replays', async () => {
  const { world, orderId } = await syntheticWorld(BTC)
  await world.gateway.reportIntake.submit(fillReport(world, orderId, { lastQty: BTC, lastPrice: RECORD_UNITS_MAX }))
  await run(world, 50)
  expect(world.errors).toEqual([])
  const order = world.gateway.engine.state.orders.get(orderId)
  expect(order?.syntheticPendingQty).toBe(0n)
  expect(order?.cumQty).toBe(BTC)
  expect(order?.execIds.has('real-1')).toBe(true)
  // The true-up replaced the synthetic 59,000 with the real cash, the largest a record holds (recorded, read back).
  const cumNotional = order?.cumNotional
  expect(cumNotional).toBe(RECORD_UNITS_MAX)
  await crashWorld(world)
  const restarted = await startWorld({ seed: 5, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(restarted)
  expect(restarted.gateway.engine.state.orders.get(orderId)?.cumNotional).toBe(cumNotional)
})
