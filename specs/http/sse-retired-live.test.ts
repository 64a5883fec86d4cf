/**
 * A live account stream delivers every durable event of its account, whether or not the order has since been retired
 * from the kernel's memory. The hub publishes a batch once it is durable, but the kernel applies commands as they are
 * decided: with terminalOrderRetireAfterMs 0, an order that ended in a batch can be retired by a later event of the
 * same batch before that batch is published. Its last events (order.canceled names only its order) were matched to
 * the stream through the hot state, found nothing, and were skipped.
 *
 * The spec holds the log's flushes (WalOptions.scheduleFlush) so that both orders' events share one batch.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, eventually, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

let t: TestGateway
let server: ReturnType<typeof Bun.serve>
let base: string
let trader: string
let held: (() => void)[] | null = null

beforeAll(async () => {
  t = await startTestGateway({
    config: { kernel: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 } },
    wal: { scheduleFlush: (flush) => (held === null ? void setImmediate(flush) : void held.push(flush)) },
  })
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => t.http.app.fetch(request) })
  base = `http://127.0.0.1:${server.port}`
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => {
  await server.stop(true)
  await t.stop()
})

/** Places an order and cancels it before it is sent (the send waits for the log): it ends at once, in memory. */
async function placeAndCancel(key: string, answers: Promise<Response>[]): Promise<string> {
  const known = new Set(t.gateway.engine.state.orders.keys())
  answers.push(t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': key })))
  let orderId: string | undefined
  await eventually(() => (orderId = [...t.gateway.engine.state.orders.keys()].find((id) => !known.has(id))) !== undefined)
  await Bun.sleep(2)
  answers.push(t.request(`/v1/orders/${orderId}/cancel`, post(trader, {})))
  await eventually(() => t.gateway.engine.state.orders.get(orderId as string)?.status !== 'Enqueued')
  await Bun.sleep(2)
  return orderId as string
}

test('a live account stream delivers the last events of an order retired in the same batch', async () => {
  const res = await fetch(`${base}/v1/accounts/demo-1/stream`, { headers: auth(trader) })
  expect(res.status).toBe(200)
  const stream = new SseReader(res)
  await stream.until((all) => all.some((frame) => frame.comment?.startsWith('egress account stream') === true))
  held = []
  const answers: Promise<Response>[] = []
  const first = await placeAndCancel('retired-live-1', answers)
  const second = await placeAndCancel('retired-live-2', answers)
  // The second order's end, a millisecond later, retired the first (one ended order kept): before anything is durable.
  expect(t.gateway.engine.state.orders.has(first)).toBe(false)
  expect(t.gateway.engine.state.orders.get(second)?.status).toBe('Canceled')
  const flushes = held
  held = null
  for (const flush of flushes) flush()
  for (const answer of await Promise.all(answers)) expect(answer.status).toBeLessThan(300)
  const ended = (frames: ReturnType<SseReader['events']>, orderId: string): boolean =>
    frames.some((frame) => frame.event === 'order.canceled' && (frame.data as { orderId?: string }).orderId === orderId)
  const frames = await stream.until((all) => ended(all, second), 2_000).catch(() => stream.events())
  await Bun.sleep(50)
  await stream.cancel()
  expect(ended(frames, second)).toBe(true)
  expect(ended(frames, first)).toBe(true)
})
