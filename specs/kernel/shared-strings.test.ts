import { expect, test } from 'bun:test'
import type { Order } from '../../src/domain/orders.ts'
import { endedKeyedByOwnId, ordersKeyedByOwnId } from '../../src/kernel/shared-strings.ts'

/**
 * src/kernel/shared-strings.ts changes which string instance holds a key, never the key: a held order filed under a
 * key other than its own id (a state no build writes, but one the codec reads) keeps that key in `orders` and in
 * `terminalOrderIds` alike, in the same order.
 */
test('a held order filed under another key keeps that key in terminalOrderIds, as in orders', () => {
  const order = { orderId: 'o-b', clientIdChain: ['c'], venueClientOrderId: 'c', reservation: { asset: 'USD' }, quoteAsset: 'USD', baseAsset: 'BTC' } as unknown as Order
  const orders = new Map(ordersKeyedByOwnId(new Map([['o-a', order]])))
  const ended = endedKeyedByOwnId(new Map([['o-a', 1], ['o-b', 2]]), orders)
  expect([...orders.keys()]).toEqual(['o-a'])
  expect([...ended]).toEqual([['o-a', 1], ['o-b', 2]])
})
