// The paper sim venue resumes its trade history from egress's log (src/runtime/paper-sim-memory.ts). A trade that a
// synthetic fill had booked first (reconciliation read the order filled while its trades were not listed) and that a
// true-up later matched (`order.fill_covered`, `order.fill_trued_up`) has no fill record of its own: before, the
// resumed sim lost it, and the back office's trades check broke against the sim after the restart.
import { afterEach, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import type { ServeGateway } from '../../src/cli/serve-gateway.ts'
import type { VenueTrade } from '../../src/venues/adapter.ts'
import { CROSSING, PaperRestarts, place, until } from './paper-restart-harness.ts'

const harness = new PaperRestarts()
afterEach(() => harness.cleanup())

/** Books a synthetic fill for a crossing order whose reports and trades egress does not see, then trues it up. */
async function trueUpAFill(served: ServeGateway): Promise<{ orderId: string; trades: VenueTrade[] }> {
  const { venue, gateway } = served
  const orders = gateway.engine.state.orders
  // Reports are lost and the trade list reads empty, as a venue that lists only recent trades might: the open-order
  // sweep reads the order back filled with no trade to explain it, and books the difference as a synthetic fill.
  venue.setFaults({ dropReportProbability: 1 })
  venue.trades = () => Promise.resolve({ kind: 'ok', value: [] })
  const orderId = await place(served, CROSSING, 'cross-1')
  await until(() => orders.get(orderId)?.status === 'Filled', 15_000)
  expect(orders.get(orderId)?.syntheticPendingQty).toBe(CROSSING_QTY)
  Reflect.deleteProperty(venue, 'trades')
  venue.setFaults({})
  // The real fill's report arrives late: the synthetic fill covered it, and it is trued up.
  const venueOrderId = orders.get(orderId)!.venueOrderId
  const trades = venue.inspect().trades.filter((trade) => trade.venueOrderId === venueOrderId)
  expect(trades.length).toBeGreaterThan(0)
  let cumQty = 0n
  for (const trade of trades) {
    cumQty += trade.qty
    const { execId, clientOrderId, account, symbol, side, qty: lastQty, price: lastPrice, fee, feeAsset, liquidity, venueTimeMs } = trade
    await gateway.reportIntake.submit({ venue: venue.venue, kind: 'fill', execId, clientOrderId, venueOrderId: trade.venueOrderId, account, symbol, side, cumQty, lastQty, lastPrice, fee, feeAsset, liquidity, venueTimeMs })
  }
  await until(() => orders.get(orderId)?.syntheticPendingQty === 0n)
  return { orderId, trades }
}

const CROSSING_QTY = 1_000_000n

describe('the paper sim resume and true-ups', () => {
  test('a trade a true-up booked is in the resumed sim’s history; the back office finds no break after the restart', async () => {
    const dataDir = harness.newDataDir()
    const first = await harness.start(dataDir)
    const { trades } = await trueUpAFill(first)
    const before = backOfficeOf(first.gateway)
    expect((await before.reconcile()).skipped).toEqual([])
    expect(before.openBreaks).toEqual([])
    await harness.stop(first)

    const second = await harness.start(dataDir)
    expect(second.venue.inspect().trades.filter((trade) => trades.some((real) => real.execId === trade.execId))).toEqual(trades)
    const office = backOfficeOf(second.gateway)
    expect((await office.reconcile()).skipped).toEqual([])
    expect(office.openBreaks).toEqual([])
  }, 30_000)
})
