import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

/**
 * Amends are held to the account's rate like new orders. Each amend a guard refuses is an `order.amend_rejected`
 * record, so before, one trader token wrote one per request, as fast as it could send, past any rate limit: the log
 * and the order's /events and /explain answers grew without bound.
 */

let t: TestGateway
beforeAll(async () => {
  // A rate so low no token comes back while the test runs: the burst is the whole allowance.
  t = await startTestGateway({ config: { backpressure: { account: { ratePerSec: 1, burst: 3 }, bot: { ratePerSec: 1, burst: 3 }, inFlightMax: 100 } } })
})
afterAll(async () => t.stop())

describe('amend rate', () => {
  test('amends a guard refuses stop being recorded at the account rate: then 429 RATE_LIMITED with Retry-After', async () => {
    const trader = await t.token({ accounts: ['demo-1'] })
    const orderId = (await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'amend-rate-1' })))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    const codes: string[] = []
    for (let index = 0; index < 10; index++) {
      // Far outside the price band: refused by the data-health guard, and recorded.
      const res = await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '90000' }))
      const code = errorCode(await json(res))
      codes.push(code)
      if (code === 'RATE_LIMITED') expect(Number(res.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1)
    }
    const rejected = t.http.services.logIndex.events(orderId).filter(({ event }) => event.type === 'order.amend_rejected').length
    // The place took one of the three tokens; a token may have come back while the test ran.
    expect(rejected).toBeLessThanOrEqual(3)
    expect(codes.filter((code) => code === 'PRICE_BAND').length).toBe(rejected)
    expect(codes.filter((code) => code === 'RATE_LIMITED').length).toBe(10 - rejected)
    // Each shed amend is counted, as an amend: the counter said "new orders" and missed them.
    const metrics = await (await t.request('/metrics')).text()
    expect(metrics).toContain(`egress_orders_shed_total{action="amend",scope="account"} ${10 - rejected}\n`)
    expect(metrics).not.toContain('egress_orders_shed_total{action="place"')
  })

  test('an amend that writes nothing gives its token back: repeats of the pending amend are never shed', async () => {
    const trader = await t.token({ sub: 'carol', accounts: ['demo-2'] })
    const body = { ...LIMIT_BUY, account: 'demo-2', qty: '0.001' }
    const orderId = (await json(await t.request('/v1/orders', post(trader, body, { 'Idempotency-Key': 'amend-rate-2' })))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    const first = await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '59100' }))
    expect(first.status).toBe(202)
    // Two of three tokens spent (the place, the amend); each repeat of the same amend writes nothing: a duplicate of the
    // pending amend (202), or, once it applied, an amend to the values the order has (200).
    for (let index = 0; index < 5; index++) {
      const res = await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '59100' }))
      expect([200, 202]).toContain(res.status)
    }
  })
})
