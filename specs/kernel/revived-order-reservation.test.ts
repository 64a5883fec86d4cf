import { describe, expect, test } from 'bun:test'
import { currentClientOrderId, type Order } from '../../src/domain/orders.ts'
import type { VenueOrder } from '../../src/venues/adapter.ts'
import { d, Harness, report } from './fixtures.ts'

const cost = d('50000') + d('50') // 1 BTC × 50000 + 10 bps

function venueView(order: Order, overrides: Partial<VenueOrder>): VenueOrder {
  return { clientOrderId: currentClientOrderId(order), venueOrderId: 'v-1', account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, price: d('50000'), cumQty: 0n, status: 'open', ...overrides }
}

/** A buy of 1 BTC the venue refused (place answer), then reported as its own: venue news contradicting the end. */
function revivedBuy(harness: Harness): string {
  const orderId = harness.placedId({ qty: '1', price: '50000' })
  harness.send(orderId)
  harness.placeResult(orderId, { kind: 'rejected', reason: 'venue_busy' })
  expect(harness.order(orderId).status).toBe('Rejected')
  expect(harness.reserved('USD')).toBe(0n)
  const order = harness.order(orderId)
  harness.report(report(order, { execId: 'n1', kind: 'new', clientOrderId: currentClientOrderId(order), venueOrderId: 'v-1', cumQty: 0n }))
  return orderId
}

describe('an ended order that venue news brings back', () => {
  test('holds its worst case again while Unknown, and once reconciled open at the venue', () => {
    const harness = Harness.funded()
    const orderId = revivedBuy(harness)
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.order(orderId).reservation.remaining).toBe(cost)
    expect(harness.reserved('USD')).toBe(cost)
    harness.nowMs += 10_000
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venueView(harness.order(orderId), {}), trades: [] })
    expect(harness.order(orderId).status).toBe('AckedOpen')
    expect(harness.reserved('USD')).toBe(cost)
  })

  test('the cash a live order at the venue needs is not handed to another order', () => {
    const harness = Harness.funded() // 100 000 USD
    revivedBuy(harness)
    // 49 950 USD are free: a second buy of 1 BTC (50 050 with its fee allowance) would let both fill past the balance.
    const second = harness.place({ qty: '1', price: '50000', client_order_id: 'c2' })
    expect(second.reply).toMatchObject({ kind: 'rejected', reason: 'INSUFFICIENT_FUNDS' })
  })

  test('holds the unfilled share of a partly filled order, and releases it when reconciled ended', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ qty: '1', price: '50000' })
    const order = harness.order(orderId)
    const fill = { execId: 'f1', kind: 'fill' as const, clientOrderId: currentClientOrderId(order), venueOrderId: 'v-1', cumQty: d('0.4'), lastQty: d('0.4'), lastPrice: d('50000'), fee: 0n, feeAsset: 'USD' }
    harness.report(report(order, fill))
    harness.report(report(order, { execId: 'c1', kind: 'canceled', clientOrderId: currentClientOrderId(order), venueOrderId: 'v-1', cumQty: d('0.4') }))
    expect(harness.order(orderId).status).toBe('Canceled')
    expect(harness.reserved('USD')).toBe(0n)
    // A reject of an order the venue said it canceled contradicts the end: Unknown, and it may still rest there.
    harness.report(report(order, { execId: 'r1', kind: 'rejected', clientOrderId: currentClientOrderId(order), venueOrderId: 'v-1', cumQty: d('0.4'), reason: 'late' }))
    expect(harness.order(orderId).status).toBe('Unknown')
    expect(harness.reserved('USD')).toBe(d('30030')) // 0.6 of 50 050
    harness.nowMs += 10_000
    harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId, venueOrder: venueView(order, { cumQty: d('0.4'), status: 'canceled' }), trades: [] })
    expect(harness.order(orderId).status).toBe('Canceled')
    expect(harness.reserved('USD')).toBe(0n)
  })
})
