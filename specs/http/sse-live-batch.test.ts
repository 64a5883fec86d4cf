/**
 * The live feed's buffer bound is for clients that fall behind, not for clients that keep up and are handed one large
 * batch: a flatten (one decision canceling every open order of the account) or a burst of orders committed in one log
 * batch is published in one call, before the server can write any of it to the socket. A subscriber whose buffer had
 * room when such a batch arrived gets the whole batch; only one whose buffer was still full from earlier events is
 * cut off as `slow_consumer`.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

const BUFFER_EVENTS_MAX = 8

let t: TestGateway
let server: ReturnType<typeof Bun.serve>
let base: string

beforeAll(async () => {
  t = await startTestGateway({ config: { sse: { heartbeatMs: 1_000, subscriberBufferEventsMax: BUFFER_EVENTS_MAX } } })
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => t.http.app.fetch(request) })
  base = `http://127.0.0.1:${server.port}`
})
afterAll(async () => {
  await server.stop(true)
  await t.stop()
})

test('a flatten canceling more orders than the buffer holds reaches a reading client whole, without a slow_consumer cut', async () => {
  const trader = await t.token({ accounts: ['demo-1'] })
  const orderIds: string[] = []
  for (let index = 0; index < BUFFER_EVENTS_MAX * 2; index++) {
    const res = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `batch-${index}` }))
    expect(res.status).toBe(202)
    orderIds.push(((await res.json()) as { order_id: string }).order_id)
  }
  await Bun.sleep(100) // the sends and venue acks land before the stream opens
  const res = await fetch(`${base}/v1/accounts/demo-1/stream`, { headers: auth(trader) })
  expect(res.status).toBe(200)
  const stream = new SseReader(res)
  await stream.until((all) => all.some((frame) => frame.comment?.startsWith('egress account stream') === true))
  const flatten = await t.request('/v1/accounts/demo-1/flatten', { method: 'POST', headers: auth(trader) })
  expect(flatten.status).toBe(202)
  const canceled = (frames: ReturnType<SseReader['events']>): Set<string> =>
    new Set(frames.filter((frame) => frame.event?.startsWith('order.cancel') === true).map((frame) => (frame.data as { orderId: string }).orderId))
  const frames = await stream.until((all) => all.some((frame) => frame.event === 'disconnect') || orderIds.every((id) => canceled(all).has(id)))
  await stream.cancel()
  expect(frames.find((frame) => frame.event === 'disconnect')?.data ?? null).toBeNull()
  expect([...canceled(frames)].sort()).toEqual([...orderIds].sort())
})
