/**
 * The cancel of an order never sent, in /explain. Such an order is ended on the spot: its one cancel record is
 * `order.canceled` (no `order.cancel_requested`), which named no one, so an operator's cancel of a trader's queued order
 * read as `canceled (CANCELED_BEFORE_SEND, local)` with the operator nowhere in the story. The record names the
 * principal now (payload version 11), and the story says it as it says a cancel request's.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let olga: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  olga = await t.token({ sub: 'olga', roles: ['ops', 'trader'], accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

interface StoryEntry { type: string; summary: string; record: Record<string, unknown> }

async function cancelEntry(orderId: string): Promise<StoryEntry | undefined> {
  const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
  const story = explain.story as StoryEntry[]
  expect(story.map((entry) => entry.type)).not.toContain('order.cancel_requested')
  return story.find((entry) => entry.type === 'order.canceled')
}

describe('/explain of an order canceled before it was sent', () => {
  test("names the operator who canceled a trader's queued order", async () => {
    // The executor is paused so the order is still queued, never sent, when the cancel lands.
    t.gateway.executor.stop()
    try {
      const orderId = (await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'unsent-1' })))).order_id as string
      expect((await t.request(`/v1/orders/${orderId}/cancel`, post(olga, ''))).status).toBe(202)
      expect(t.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'Canceled', sendAttempts: 0 })
      const entry = await cancelEntry(orderId)
      expect(entry?.record).toMatchObject({ reason: 'CANCELED_BEFORE_SEND', source: 'local', principalId: 'olga' })
      expect(entry?.summary).toBe('canceled by olga (CANCELED_BEFORE_SEND, local)')
    } finally {
      t.gateway.executor.start()
    }
  })

  test('names egress:ttl for a queued order whose time-to-live passed', async () => {
    t.gateway.executor.stop()
    try {
      const orderId = (await json(await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, ttl_ms: 200 }, { 'Idempotency-Key': 'unsent-ttl' })))).order_id as string
      await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'Canceled', 4_000)
      expect(t.gateway.engine.state.orders.get(orderId)?.sendAttempts).toBe(0)
      const entry = await cancelEntry(orderId)
      expect(entry?.record).toMatchObject({ reason: 'TTL_EXPIRED', source: 'local', principalId: 'egress:ttl' })
      expect(entry?.summary).toBe('canceled by egress:ttl (TTL_EXPIRED, local)')
    } finally {
      t.gateway.executor.start()
    }
  })
})
