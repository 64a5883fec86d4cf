/**
 * KNOWN DEFECT, not fixed (test.failing: each case passes while the defect is there, and fails once it is fixed, to be
 * turned into a plain test then). An order's avg_fill_price (GET /v1/orders, /v1/orders/:id; http/views/order-view.ts)
 * is Order.cumNotional ÷ cumQty, and cumNotional is the sum of each fill's lastQty × lastPrice rounded half-even to
 * 1e-8 (kernel/ledger.ts bookFill, bookTrueUp). A fill of 0.0001 loses up to 0.5e-8 of notional, which is up to
 * 0.00005 of price: the average shown is off by up to 5 000 units in its last place. The exact average needs the
 * order's notional kept finer than 1e-8, and Order is persisted field by field in the snapshot (runtime/snapshot/
 * state-parts.ts) and hashed whole in the state digest (kernel/canonical-state.ts): a persisted-format change this
 * fix was not allowed to make.
 */
import { describe, expect, test } from 'bun:test'
import { orderView, type OrderView } from '../../../src/http/views/order-view.ts'
import { d, Harness, report } from '../../kernel/fixtures.ts'

/** An open order of the kernel fixtures (0.1 BTC-USD at 50 000), filled `lastQty` at `lastPrice`: its view. */
function filledOnce(lastQty: string, lastPrice: string): OrderView {
  const harness = Harness.funded()
  const orderId = harness.openOrder()
  harness.report(report(harness.order(orderId), { kind: 'fill', execId: 'f-1', lastQty: d(lastQty), lastPrice: d(lastPrice), cumQty: d(lastQty) }))
  return orderView(harness.order(orderId))
}

describe('avg_fill_price of one fill is its price', () => {
  // Outside the inverted cases, so a fill that stopped booking cannot pass for the defect.
  test('each case books its fill and shows an average', () => {
    const cases: [string, string][] = [['0.0001', '49999.99999999'], ['0.0001', '49999.99995']]
    for (const [lastQty, lastPrice] of cases) {
      const view = filledOnce(lastQty, lastPrice)
      expect([view.filled_qty, view.avg_fill_price === null]).toEqual([lastQty, false])
    }
  })

  // Shown "50000": 0.0001 × 49999.99999999 = 4.999999999999, booked as 5.
  test.failing('0.0001 at 49999.99999999 (off in the last place)', () => {
    expect(filledOnce('0.0001', '49999.99999999').avg_fill_price).toBe('49999.99999999')
  })

  // Shown "50000": 0.0001 × 49999.99995 = 4.999999995, booked half-even as 5.
  test.failing('0.0001 at 49999.99995 (off by 0.00005)', () => {
    expect(filledOnce('0.0001', '49999.99995').avg_fill_price).toBe('49999.99995')
  })
})
