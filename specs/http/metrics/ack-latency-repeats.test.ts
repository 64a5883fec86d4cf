/**
 * egress_order_ack_latency_seconds times each new order's way to its durable answer. A repeat of an idempotency key
 * decides nothing: it answers the first decision again (Idempotent-Replayed). It was timed as `outcome="accepted"` (or
 * "rejected"), so a client retrying a key counted one order's acknowledgement several times, and the repeats' quick
 * answers pulled the accepted latencies down. Repeats are timed under `outcome="replayed"`, apart from the decisions.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { LIMIT_BUY, post, startTestGateway, type TestGateway } from '../fixture.ts'
import { parseExposition } from './exposition.ts'

/** More than demo-2's 1000 USD: the kernel rejects it at intake. */
const TOO_DEAR = { account: 'demo-2', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '1', price: '61000' } as const

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1', 'demo-2'] })
})
afterAll(async () => t.stop())

async function ackCounts(): Promise<Record<string, number>> {
  const exposition = parseExposition(await (await t.request('/metrics')).text())
  expect(exposition.problems).toEqual([])
  const samples = exposition.families.get('egress_order_ack_latency_seconds')?.samples ?? []
  return Object.fromEntries(samples.filter((sample) => sample.name.endsWith('_count')).map((sample) => [sample.labels.outcome, sample.value]))
}

test('a repeat of a key is timed as replayed, not as another acceptance or rejection', async () => {
  const first = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'ack-repeat-1' }))
  expect(first.status).toBe(202)
  expect((await t.request('/v1/orders', post(trader, TOO_DEAR, { 'Idempotency-Key': 'ack-repeat-2' }))).status).toBe(422)
  for (let index = 0; index < 3; index++) {
    const repeat = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'ack-repeat-1' }))
    expect({ status: repeat.status, replayed: repeat.headers.get('Idempotent-Replayed') }).toEqual({ status: 202, replayed: 'true' })
    expect((await t.request('/v1/orders', post(trader, TOO_DEAR, { 'Idempotency-Key': 'ack-repeat-2' }))).status).toBe(422)
  }
  expect(await ackCounts()).toEqual({ accepted: 1, rejected: 1, replayed: 6 })
})
