/**
 * The sim venue's order record has one shape (src/venues/sim/order.ts): placedOrder, which builds a placed order
 * straight from its request, writes the same members in the same order as simOrder. Two literals kept alike by hand;
 * this says when they drift.
 */

import { expect, test } from 'bun:test'
import { placedOrder, simOrder } from '../../../src/venues/sim/order.ts'

test('placedOrder and simOrder write the same members in the same order', () => {
  const request = { clientOrderId: 'c-1', account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: 1n, price: 2n, tif: 'GTC', postOnly: false, reduceOnly: false } as const
  const placed = placedOrder(request, 'v-1', 1, 1_000, undefined)
  const built = simOrder({ ...request, venueOrderId: 'v-1', sequence: 1, cumQty: 0n, status: 'rejected', createdAtMs: 1_000 })
  expect(Object.keys(placed)).toEqual(Object.keys(built))
  expect(placed).toEqual(built)
})
