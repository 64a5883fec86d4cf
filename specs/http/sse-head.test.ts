/**
 * HEAD on a stream route answers the stream's headers without opening a subscriber. It opened one whose body nobody
 * reads (Hono answers HEAD with the GET handler's response minus its body, and never cancels the stream), so each HEAD
 * held a slot of sseSubscribersMax until the account's events overflowed its buffer — on an idle account, for good:
 * 1,024 HEAD requests from any reader closed every stream route with 503 too_many_subscribers.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let ops: string
let orderId: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ accounts: ['demo-1'] })
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  const placed = await t.request('/v1/orders', {
    method: 'POST',
    headers: auth(trader, { 'Content-Type': 'application/json', 'Idempotency-Key': 'head-1' }),
    body: JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000' }),
  })
  orderId = ((await placed.json()) as { order_id: string }).order_id
})
afterAll(async () => t.stop())

test('HEAD on each stream route is 200 with the event-stream type and leaves no subscriber open', async () => {
  for (const [path, token] of [['/v1/accounts/demo-1/stream', trader], [`/v1/orders/${orderId}/stream`, trader], ['/v1/stream', ops]] as const) {
    const res = await t.request(path, { method: 'HEAD', headers: auth(token) })
    expect(res.status).toBe(200)
    expect(res.headers.get('Content-Type')).toContain('text/event-stream')
    expect(t.http.services.hub.subscriberCount).toBe(0)
  }
})

test('HEAD still checks who is asking', async () => {
  const other = await t.token({ sub: 'bob', accounts: ['demo-2'] })
  expect((await t.request('/v1/accounts/demo-1/stream', { method: 'HEAD', headers: auth(other) })).status).toBe(403)
  expect((await t.request('/v1/stream', { method: 'HEAD', headers: auth(trader) })).status).toBe(403)
})
