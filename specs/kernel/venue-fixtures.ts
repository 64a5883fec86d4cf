/**
 * What a venue tells the kernel about one order in the specs: an order made Unknown, the venue's status and trades
 * for it, a status-only read-back (which books a synthetic fill), and a real fill report. One definition for the
 * reconcile, synthetic-fill, true-up and retention specs, kernel and back office alike.
 */

import { formatDecimal, type Units } from '../../src/domain/decimal.ts'
import type { VenueOrder, VenueTrade } from '../../src/venues/adapter.ts'
import { d, Harness, report } from './fixtures.ts'

/** A placed order whose place answer was lost: Unknown, to be reconciled. */
export function unknownOrder(harness: Harness): string {
  const orderId = harness.placedId()
  harness.send(orderId)
  harness.placeResult(orderId, { kind: 'unknown', reason: 'timeout' })
  return orderId
}

/** The venue's status of the order (venue id `v-9`, open, nothing filled, unless `overrides` say otherwise). */
export function venueOrderOf(harness: Harness, orderId: string, overrides: Partial<VenueOrder> = {}): VenueOrder {
  const order = harness.order(orderId)
  return { clientOrderId: order.venueClientOrderId, venueOrderId: 'v-9', account: order.accountId, symbol: order.symbol, side: order.side, qty: order.qty, cumQty: 0n, status: 'open', ...overrides }
}

/** One of the venue's trades of the order: `qty` at 50000, no fee, unless `overrides` say otherwise. */
export function venueTradeOf(harness: Harness, orderId: string, execId: string, qty: string, overrides: Partial<VenueTrade> = {}): VenueTrade {
  const order = harness.order(orderId)
  return { execId, clientOrderId: order.venueClientOrderId, venueOrderId: 'v-9', account: order.accountId, symbol: order.symbol, side: order.side, qty: d(qty), price: d('50000'), fee: 0n, feeAsset: 'USD', liquidity: 'taker', venueTimeMs: harness.nowMs, ...overrides }
}

/**
 * The read-back of a venue without a trade query, 5 s on: its status with `cumQty` filled and no trades, so the
 * kernel books a synthetic fill for what its own fills do not explain.
 */
export function statusOnlyReconcile(harness: Harness, orderId: string, cumQty: Units | string, status: VenueOrder['status'] = 'partially_filled') {
  harness.nowMs += 5_000
  const venueOrder = venueOrderOf(harness, orderId, { venueOrderId: `v-${orderId}`, cumQty: typeof cumQty === 'string' ? d(cumQty) : cumQty, status })
  return harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, askedAtMs: harness.nowMs - 20, orderId, venueOrder, trades: [] })
}

/** A real fill as its report states it (decimal strings). */
export interface RealFill {
  execId: string
  lastQty: string
  /** The venue cumulative quantity through this fill. */
  cumQty: string
  /** Default 50000. */
  price?: string
  /** Default 0, in USD. */
  fee?: string
  feeAsset?: string
}

/** The fill's report reaching the kernel, 5 ms on. */
export function realFillReport(harness: Harness, orderId: string, fill: RealFill) {
  harness.nowMs += 5
  const { execId, feeAsset = 'USD' } = fill
  return harness.report(report(harness.order(orderId), {
    kind: 'fill', execId, lastQty: d(fill.lastQty), lastPrice: d(fill.price ?? '50000'), cumQty: d(fill.cumQty), fee: d(fill.fee ?? '0'), feeAsset, venueTimeMs: harness.nowMs,
  }))
}

/** The whole order filled at the venue, as a status-only read-back shows it: one synthetic fill ends the order. */
export function filledSynthetically(harness: Harness, orderId: string) {
  return statusOnlyReconcile(harness, orderId, harness.order(orderId).qty, 'filled')
}

/** The real fill behind filledSynthetically's synthetic fill: the whole quantity at 49990, a fee of 1 USD. */
export function realFillOfWhole(harness: Harness, orderId: string) {
  const qty = formatDecimal(harness.order(orderId).qty)
  return realFillReport(harness, orderId, { execId: 'real-1', lastQty: qty, cumQty: qty, price: '49990', fee: '1' })
}
