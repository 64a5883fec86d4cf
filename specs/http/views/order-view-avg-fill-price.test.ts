/**
 * An order's avg_fill_price (GET /v1/orders, /v1/orders/:id; http/views/order-view.ts) is its exact notional ÷ cumQty,
 * rounded once, half-even. Order.cumNotional is each fill's lastQty × lastPrice rounded half-even to 1e-8
 * (kernel/ledger.ts bookFill, bookTrueUp); divided as it is, a fill of 0.0001 at 49999.99995 showed 50000 (off by
 * 0.00005). Order.cumNotionalRemainder keeps what those roundings dropped, in 1e-16, and the view adds it back.
 */
import { describe, expect, test } from 'bun:test'
import { orderView, type OrderView } from '../../../src/http/views/order-view.ts'
import { d, Harness, report } from '../../kernel/fixtures.ts'
import { realFillReport, statusOnlyReconcile, venueOrderOf } from '../../kernel/venue-fixtures.ts'

/** An open order of the kernel fixtures (0.1 BTC-USD at 50 000, a buy), filled by `fills` in turn: its view. */
function filled(fills: [lastQty: string, lastPrice: string][]): OrderView {
  const harness = Harness.funded()
  const orderId = harness.openOrder()
  let cumQty = 0n
  fills.forEach(([lastQty, lastPrice], index) => {
    cumQty += d(lastQty)
    harness.report(report(harness.order(orderId), { kind: 'fill', execId: `f-${index + 1}`, lastQty: d(lastQty), lastPrice: d(lastPrice), cumQty }))
  })
  return orderView(harness.order(orderId))
}

describe('avg_fill_price of one fill is its price', () => {
  // So a fill that stopped booking cannot pass for a right average.
  test('each case books its fill and shows an average', () => {
    const cases: [string, string][] = [['0.0001', '49999.99999999'], ['0.0001', '49999.99995']]
    for (const [lastQty, lastPrice] of cases) {
      const view = filled([[lastQty, lastPrice]])
      expect([view.filled_qty, view.avg_fill_price === null]).toEqual([lastQty, false])
    }
  })

  // Was "50000": 0.0001 × 49999.99999999 = 4.999999999999, booked as 5.
  test('0.0001 at 49999.99999999 (was off in the last place)', () => {
    expect(filled([['0.0001', '49999.99999999']]).avg_fill_price).toBe('49999.99999999')
  })

  // Was "50000": 0.0001 × 49999.99995 = 4.999999995, booked half-even as 5.
  test('0.0001 at 49999.99995 (was off by 0.00005)', () => {
    expect(filled([['0.0001', '49999.99995']]).avg_fill_price).toBe('49999.99995')
  })
})

test('avg_fill_price of several fills is their exact notional ÷ their quantity, rounded once', () => {
  // 20.0034999336389753 ÷ 0.00040007 = 49999.999834129…; the rounded notionals (20.00349994) gave 49999.99985003.
  const view = filled([['0.0001', '49999.99995'], ['0.0003', '49999.99999999'], ['0.00000007', '49999.12345679']])
  expect([view.filled_qty, view.avg_fill_price]).toEqual(['0.00040007', '49999.99983413'])
})

describe('a synthetic fill trued up by its real fill shows the real price', () => {
  test('the real fill covers the synthetic quantity whole', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    statusOnlyReconcile(harness, orderId, '0.0001')
    // Pending, the synthetic fill stands at the order's limit.
    expect(orderView(harness.order(orderId)).avg_fill_price).toBe('50000')
    realFillReport(harness, orderId, { execId: 'real-1', lastQty: '0.0001', cumQty: '0.0001', price: '49999.99995' })
    expect(harness.log.some((event) => event.type === 'order.fill_trued_up')).toBe(true)
    expect(orderView(harness.order(orderId)).avg_fill_price).toBe('49999.99995')
  })

  test('the real fill straddles it: covered for the synthetic quantity, booked for the rest', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    statusOnlyReconcile(harness, orderId, '0.0001')
    realFillReport(harness, orderId, { execId: 'real-1', lastQty: '0.0003', cumQty: '0.0003', price: '49999.99995' })
    const view = orderView(harness.order(orderId))
    expect([view.filled_qty, view.avg_fill_price]).toEqual(['0.0003', '49999.99995'])
  })

  // The synthetic fill at the venue's stated price, whose notional rounds too (0.0001 × 49999.99995): what its rounding
  // dropped is not kept, as its true-up takes its notional back as booked, so only the real fill's counts.
  test('the synthetic fill was booked at a price whose notional rounds', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    harness.nowMs += 5_000
    const venueOrder = venueOrderOf(harness, orderId, { venueOrderId: `v-${orderId}`, cumQty: d('0.0001'), status: 'partially_filled', price: d('49999.99995') })
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder, trades: [] })
    expect(harness.log.some((event) => event.type === 'order.fill' && event.synthetic && event.lastPrice === d('49999.99995'))).toBe(true)
    realFillReport(harness, orderId, { execId: 'real-1', lastQty: '0.0001', cumQty: '0.0001', price: '49999.99999999' })
    expect(orderView(harness.order(orderId)).avg_fill_price).toBe('49999.99999999')
  })
})
