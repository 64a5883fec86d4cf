/**
 * An account stream resumed from before orders that have since been retired from the kernel's hot state (ended, past
 * terminalOrdersKeptMax and the grace) still delivers every event of those orders: the log holds them, and most
 * order events (sends, acks, fills, cancels) name only their order, whose account must come from somewhere other
 * than the hot state.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { isTerminal } from '../../src/domain/states.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

let t: TestGateway
let server: ReturnType<typeof Bun.serve>
let base: string
let trader: string

beforeAll(async () => {
  t = await startTestGateway({ config: { kernel: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 } } })
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => t.http.app.fetch(request) })
  base = `http://127.0.0.1:${server.port}`
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => {
  await server.stop(true)
  await t.stop()
})

test("a resumed account stream delivers the events of orders retired since, not only the live ones'", async () => {
  const orderIds: string[] = []
  for (let index = 0; index < 4; index++) {
    const res = await fetch(`${base}/v1/orders`, post(trader, { ...LIMIT_BUY, tif: 'IOC' }, { 'Idempotency-Key': `retired-${index}` }))
    expect(res.status).toBe(202)
    const orderId = (await json(res)).order_id as string
    orderIds.push(orderId)
    // Each IOC order ends before the next is placed, at least 1 ms before its events: an order is retired by a later
    // event, never by the one that ended it (src/kernel/retention.ts).
    await eventually(() => isTerminal(t.gateway.engine.state.orders.get(orderId)?.status ?? 'Enqueued'))
    await Bun.sleep(2)
  }
  // All but the newest leave the hot state.
  await eventually(() => orderIds.filter((orderId) => t.gateway.engine.state.orders.has(orderId)).length <= 1)
  const endLsn = t.gateway.engine.wal.lastLsn
  const mine = new Set(orderIds)
  const want: number[] = []
  for (const frame of t.gateway.engine.wal.read(1, { toLsn: endLsn })) {
    const event = domainEventOf(frame) as { orderId?: string } | null
    if (event !== null && typeof event.orderId === 'string' && mine.has(event.orderId)) want.push(frame.lsn)
  }
  const res = await fetch(`${base}/v1/accounts/demo-1/stream`, { headers: auth(trader, { 'Last-Event-ID': '0' }) })
  const stream = new SseReader(res)
  const frames = await stream.until((all) => all.some((frame) => frame.id !== null && frame.id >= (want.at(-1) ?? 0)), 2_000).catch(() => stream.events())
  await stream.cancel()
  const got = frames.filter((frame) => frame.id !== null && frame.id <= endLsn && mine.has((frame.data as { orderId?: string } | null)?.orderId ?? '')).map((frame) => frame.id)
  expect(got).toEqual(want)
})
