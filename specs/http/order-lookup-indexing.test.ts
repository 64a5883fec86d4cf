/**
 * While the log index is still being built after a restart, an order id the kernel does not hold answers 503 (its
 * history cannot be looked up yet). An order of another account the kernel holds must answer the same, not 404: order
 * ids are computable from an account and an idempotency key (kernel orderIdFor), so the difference told a stranger
 * which keys another account had in play.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { orderIdFor } from '../../src/kernel/index.ts'
import { auth, errorCode, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let owner: string
let stranger: string

beforeAll(async () => {
  t = await startTestGateway()
  owner = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  stranger = await t.token({ sub: 'bob', roles: ['trader'], accounts: ['demo-2'] })
})
afterAll(async () => t.stop())

/** As LogIndex is between LogIndex.build and the end of its background scan of an older log. */
function indexStillBuilding(): void {
  ;(t.http.services.logIndex as unknown as { completeFlag: boolean }).completeFlag = false
}

test("a stranger gets for another account's held order what it gets for an id nobody holds, while the index builds", async () => {
  const placed = await t.request('/v1/orders', post(owner, LIMIT_BUY, { 'Idempotency-Key': 'guessable-1' }))
  expect(placed.status).toBe(202)
  const heldId = (await json(placed)).order_id as string
  const unknownId = orderIdFor(t.gateway.engine.state, 'demo-1', 'never-used', t.gateway.clock.nowMs())
  indexStillBuilding()
  for (const suffix of ['', '/events', '/explain']) {
    const held = await t.request(`/v1/orders/${heldId}${suffix}`, { headers: auth(stranger) })
    const unknown = await t.request(`/v1/orders/${unknownId}${suffix}`, { headers: auth(stranger) })
    expect([held.status, errorCode(await json(held))]).toEqual([unknown.status, errorCode(await json(unknown))])
  }
  const heldCancel = await t.request(`/v1/orders/${heldId}/cancel`, post(stranger, {}))
  const unknownCancel = await t.request(`/v1/orders/${unknownId}/cancel`, post(stranger, {}))
  expect([heldCancel.status, errorCode(await json(heldCancel))]).toEqual([unknownCancel.status, errorCode(await json(unknownCancel))])
  // The owner still reads its held order: the kernel holds it, no log lookup is needed.
  expect((await t.request(`/v1/orders/${heldId}`, { headers: auth(owner) })).status).toBe(200)
})
