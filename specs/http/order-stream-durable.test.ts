/**
 * GET /v1/orders/:id/stream finds the order in the kernel's memory, which runs ahead of the log by the batch being
 * written. It answered 200 at once: a client was told the order exists (a stream of it opened) though a crash before
 * the batch was durable then lost it. It is now answered, as the other reads of an order are, once the log holds what
 * memory held; the stream opened before that wait carries the order's acceptance when it becomes durable, and a wait
 * refused (too many reads waiting) closes the stream again. The spec holds the log's flushes (WalOptions.scheduleFlush).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, eventually, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

let t: TestGateway
let trader: string
let held: (() => void)[] | null = null

beforeAll(async () => {
  t = await startTestGateway({ wal: { scheduleFlush: (flush) => (held === null ? void setImmediate(flush) : void held.push(flush)) } })
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => {
  release()
  await t.stop()
})

function release(): void {
  const flushes = held ?? []
  held = null
  for (const flush of flushes) flush()
}

/** Places an order with its flush held; resolves with the POST's answer and the new order's id once it is in memory. */
async function placeHeld(key: string): Promise<{ placed: Promise<Response>; orderId: string }> {
  const known = new Set(t.gateway.engine.state.orders.keys())
  held = []
  const placed = t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': key }))
  let orderId: string | undefined
  await eventually(() => (orderId = [...t.gateway.engine.state.orders.keys()].find((id) => !known.has(id))) !== undefined)
  return { placed, orderId: orderId as string }
}

test('an order stream opened before the acceptance is durable is answered once it is, never before, and carries the acceptance', async () => {
  const { placed, orderId } = await placeHeld('stream-durable-1')
  const durableBefore = t.gateway.engine.wal.lastLsn
  const answered: string[] = []
  const stream = t.request(`/v1/orders/${orderId}/stream`, { headers: auth(trader) }).then((res) => (answered.push('GET'), res))
  const head = t.request(`/v1/orders/${orderId}/stream`, { method: 'HEAD', headers: auth(trader) }).then((res) => (answered.push('HEAD'), res))
  try {
    await Bun.sleep(50)
    // The acceptance is in memory only: the stream may not have been answered from it.
    expect(t.gateway.engine.wal.lastLsn).toBe(durableBefore)
    expect(answered).toEqual([])
  } finally {
    release()
  }
  expect((await placed).status).toBe(202)
  const got = await stream
  expect(got.status).toBe(200)
  expect((await head).status).toBe(200)
  const reader = new SseReader(got)
  try {
    const frames = await reader.until((seen) => seen.some((frame) => frame.event === 'order.accepted'))
    expect(frames.find((frame) => frame.event === 'order.accepted')?.id).toBeGreaterThan(durableBefore)
  } finally {
    await reader.cancel()
  }
})

test('an order stream whose wait for the log is refused (too many reads waiting) is 429, and its subscriber is closed again', async () => {
  const engine = t.gateway.engine
  const hub = t.http.services.hub
  const max = engine.readWaiters.max
  const subscribersBefore = hub.subscriberCount
  engine.readWaiters.max = 1
  try {
    const { placed, orderId } = await placeHeld('stream-durable-2')
    const waiting = t.request(`/v1/orders/${orderId}`, { headers: auth(trader) })
    await eventually(() => engine.readWaiters.size === 1)
    const refused = await t.request(`/v1/orders/${orderId}/stream`, { headers: auth(trader) })
    expect(refused.status).toBe(429)
    await eventually(() => hub.subscriberCount === subscribersBefore)
    release()
    expect((await placed).status).toBe(202)
    expect((await waiting).status).toBe(200)
  } finally {
    engine.readWaiters.max = max
    release()
  }
})
