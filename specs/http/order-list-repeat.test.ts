/**
 * Idempotency of POST /v1/order-lists once the list has moved on: a repeat of the key after a leg was canceled and the
 * list ended answers the first 202 byte for byte (the body holds only what acceptance fixed: routes/order-lists.ts
 * acceptedBody), never the list's state now.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, eventually, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({})
})
afterAll(async () => {
  await t.stop()
})

const LIST = { type: 'oco', account: 'demo-1', client_list_id: 'repeat-ended', orders: [{ ...LIMIT_BUY, price: '59000' }, { ...LIMIT_BUY, price: '58000' }] }

async function placeList(): Promise<{ status: number; text: string }> {
  const response = await t.request('/v1/order-lists', post(trader, LIST))
  return { status: response.status, text: await response.text() }
}

test('a repeat after the list ended answers the first answer byte for byte', async () => {
  const first = await placeList()
  expect(first.status).toBe(202)
  const [a, b] = JSON.parse(first.text).order_ids as [string, string]
  const statusOf = (orderId: string): string | undefined => t.gateway.engine.state.orders.get(orderId)?.status
  await eventually(() => statusOf(a) === 'AckedOpen' && statusOf(b) === 'AckedOpen')
  expect((await t.request(`/v1/orders/${a}/cancel`, { method: 'POST', headers: auth(trader) })).status).toBe(202)
  await eventually(() => statusOf(a) === 'Canceled' && statusOf(b) === 'Canceled')
  expect(await placeList()).toEqual(first)
})
