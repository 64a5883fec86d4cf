/**
 * The list cursor names an order, so it must not tell a caller whether an order it may not read exists: another
 * account's order id as a cursor answers exactly like an id that never existed (it answered 200 with an empty page,
 * against 400 for a made-up id — an existence oracle across accounts, where every other route answers 404 alike).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let alice: string
let bob: string

beforeAll(async () => {
  t = await startTestGateway()
  alice = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  bob = await t.token({ sub: 'bob', roles: ['trader'], accounts: ['demo-2'] })
})
afterAll(async () => t.stop())

test("another account's order id as a cursor answers like an unknown one", async () => {
  const placed = await t.request('/v1/orders', post(alice, LIMIT_BUY, { 'Idempotency-Key': 'cursor-oracle-1' }))
  expect(placed.status).toBe(202)
  const orderId = (await json(placed)).order_id as string
  const unknown = await t.request('/v1/orders?cursor=00000000000000000000', { headers: auth(bob) })
  const foreign = await t.request(`/v1/orders?cursor=${orderId}`, { headers: auth(bob) })
  expect(foreign.status).toBe(unknown.status)
  expect(await foreign.text()).toBe(await unknown.text())
  // The owner still pages from it.
  expect((await t.request(`/v1/orders?cursor=${orderId}`, { headers: auth(alice) })).status).toBe(200)
})
