/**
 * A flatten's closing orders are decisions like any intake: their `/explain` decision names the build that decided
 * them. Before, the kernel wrote an empty build into a close's decision record (the flatten command carried none), so
 * `/explain` answered `build_commit: ""` for exactly the orders an operator's kill switch sent.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, eventually, json, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let ops: string

beforeAll(async () => {
  t = await startTestGateway()
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
})
afterAll(async () => t.stop())

test("a flatten's closing order is explained with the build and config that decided it", async () => {
  expect((await t.request('/v1/accounts/demo-1/flatten', post(ops, {}))).status).toBe(202)
  await eventually(() => [...t.gateway.engine.state.orders.values()].some((order) => order.flattenId !== null))
  const close = [...t.gateway.engine.state.orders.values()].find((order) => order.flattenId !== null)
  if (close === undefined) throw new Error('expected a closing order')
  const explain = await json(await t.request(`/v1/orders/${close.orderId}/explain`, { headers: auth(ops) }))
  expect(explain.decisions).toEqual([
    expect.objectContaining({
      outcome: 'accepted',
      principal: 'olga',
      roles: ['ops'],
      build_commit: 'spec',
      config_digest: t.http.services.configDigest,
      guards: [expect.objectContaining({ guard: 'lane', outcome: 'pass', inputs: expect.objectContaining({ origin: 'flatten', lane: 0 }) })],
    }),
  ])
})
