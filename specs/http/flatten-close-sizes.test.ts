/**
 * A flatten over HTTP keeps the instrument's size rules (src/kernel/flatten-close-sizes.ts): 150 BTC on a BTC-USD of
 * maxQty 100 went out as one close of 150, which a venue refuses, and 0.5 AAPL under its minQty of 1 got no close while
 * the 202 said `not_closed: []`. Now the BTC is closed by two closes (100 and 50), and the AAPL is named in not_closed
 * with QTY_BELOW_MIN — in the first answer and, byte for byte, in its repeat.
 */

import { afterEach, expect, test } from 'bun:test'
import { formatDecimal } from '../../src/domain/decimal.ts'
import { json, post, startTestGateway, type TestGateway } from './fixture.ts'

const INSTRUMENT = { quoteAsset: 'USD', tickSize: '0.01', minNotional: '1' }
const CONFIG = {
  venues: [
    {
      type: 'sim',
      instruments: [
        { ...INSTRUMENT, symbol: 'BTC-USD', baseAsset: 'BTC', lotSize: '0.0001', minQty: '0.0001', maxQty: '100', openingPrice: '60000' },
        { ...INSTRUMENT, symbol: 'AAPL', baseAsset: 'AAPL', lotSize: '1', minQty: '1', maxQty: '10000', openingPrice: '190' },
      ],
    },
  ],
  accounts: [{ id: 'demo-1', balances: { USD: '1000000', BTC: '150', AAPL: '0.5' } }],
}

const started: TestGateway[] = []
afterEach(async () => {
  for (const t of started.splice(0)) await t.stop()
})

test('150 BTC is closed as 100 and 50, and 0.5 AAPL is named in not_closed (QTY_BELOW_MIN), in the answer and its repeat', async () => {
  const t = await startTestGateway({ config: CONFIG })
  started.push(t)
  const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  const first = await t.request('/v1/accounts/demo-1/flatten', post(ops, '', { 'Idempotency-Key': 'f-1' }))
  expect(first.status).toBe(202)
  const answer = await json(first)
  expect(answer.not_closed).toEqual([{ asset: 'AAPL', qty: '0.5', reason: 'QTY_BELOW_MIN' }])
  const closes = [...t.gateway.engine.state.orders.values()].filter((order) => order.flattenId === 'f-1')
  expect(closes.map((order) => [order.symbol, formatDecimal(order.qty), order.idempotencyKey])).toEqual([
    ['BTC-USD', '100', 'flatten:f-1:sim:BTC-USD'],
    ['BTC-USD', '50', 'flatten:f-1:sim:BTC-USD#2'],
  ])
  const repeat = await t.request('/v1/accounts/demo-1/flatten', post(ops, '', { 'Idempotency-Key': 'f-1' }))
  expect(repeat.status).toBe(202)
  expect(await json(repeat)).toEqual(answer)
  expect([...t.gateway.engine.state.orders.values()].filter((order) => order.flattenId === 'f-1')).toHaveLength(2)
})
