/**
 * What a client sees of a market order's protection (spec 004 §8, anti-slippage): GET /v1/orders/:id and the list show
 * it as a market order with its protection_price — the limit it went to the venue at — and /explain's story says it
 * was protected at that price and sent as an IOC limit. A limit order shows protection_price null. The OpenAPI
 * document describes the field.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { formatDecimal } from '../../src/domain/decimal.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway({
    config: {
      accounts: [
        { id: 'demo-1', balances: { USD: '1000000', BTC: '10' }, policy: { instruments: ['sim:BTC-USD'], marketOrderInstruments: ['sim:BTC-USD'] } },
      ],
    },
  })
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

async function place(key: string, body: Record<string, unknown>): Promise<string> {
  const res = await t.request('/v1/orders', post(trader, body, { 'Idempotency-Key': key }))
  expect(res.status).toBe(202)
  return (await json(res)).order_id as string
}

describe('a market order shows its protection price', () => {
  test('GET, the list and /explain show the protection price a market buy was sent at; a limit order shows null', async () => {
    const orderId = await place('mkt-1', { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'market', qty: '0.01' })
    const order = t.gateway.engine.state.orders.get(orderId)
    const protection = order?.protectionPrice
    expect(typeof protection).toBe('bigint')
    const shown = formatDecimal(protection as bigint)
    const view = await json(await t.request(`/v1/orders/${orderId}`, { headers: auth(trader) }))
    expect(view).toMatchObject({ type: 'market', price: null, protection_price: shown, tif: 'GTC' })
    const list = await json(await t.request('/v1/orders?account=demo-1', { headers: auth(trader) }))
    expect((list.orders as Record<string, unknown>[]).find((item) => item.order_id === orderId)).toMatchObject({ protection_price: shown })
    const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
    const intent = (explain.story as { summary: string; record: Record<string, unknown> }[])[0]
    expect(intent?.summary).toContain(`protected at ${shown}: sent as a limit at it (IOC), never filled worse`)
    expect(intent?.record.protectionPrice).toBe(shown)

    const limit = await place('lim-1', { ...LIMIT_BUY, account: 'demo-1' })
    expect((await json(await t.request(`/v1/orders/${limit}`, { headers: auth(trader) }))).protection_price).toBeNull()
  })

  test('/openapi.json documents protection_price on Order', async () => {
    const doc = await json(await t.request('/openapi.json'))
    const schemas = (doc.components as { schemas: Record<string, { properties: Record<string, { type?: unknown; description?: string }> }> }).schemas
    expect(schemas.Order?.properties.protection_price?.type).toEqual(['string', 'null'])
    expect(schemas.Order?.properties.protection_price?.description).toContain('protection price')
  })
})
