/**
 * A replay decodes only the records its stream may want (src/http/sse/replay-filter.ts). It decoded every record it
 * read (~10 µs warm, validating), and replays together hold at most half the event loop, so an order or account stream
 * resumed over a busy log spent its share decoding other orders' records only to drop them: a log growing faster than
 * that share kept its replays behind for good, never live. Now another order's record is passed by its order id, read
 * without decoding, and the stream still gets exactly the records it wants.
 */

import { afterAll, beforeAll, expect, spyOn, test } from 'bun:test'
import { matches, SseHub, type StreamScope } from '../../src/http/sse/index.ts'
import * as records from '../../src/runtime/records.ts'
import { eventually, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

let t: TestGateway
const orderIds: string[] = []

beforeAll(async () => {
  t = await startTestGateway({
    config: { accounts: [{ id: 'demo-1', balances: { USD: '1000000' } }, { id: 'demo-2', balances: { USD: '1000000' } }] },
  })
  const trader = await t.token({ accounts: ['demo-1', 'demo-2'] })
  for (let index = 0; index < 12; index++) {
    const account = index % 3 === 0 ? 'demo-2' : 'demo-1'
    const res = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, account }, { 'Idempotency-Key': `filter-${index}` }))
    expect(res.status).toBe(202)
    orderIds.push(((await res.json()) as { order_id: string }).order_id)
  }
  // Every order answered by the venue (and still held by the kernel): the log holds all it will for them.
  await eventually(() => [...t.gateway.engine.state.orders.values()].every((order) => !['Validated', 'Enqueued', 'Sent'].includes(order.status)))
  await t.gateway.engine.settled()
})
afterAll(async () => t.stop())

/** The LSNs of the records a stream of `scope` wants, judged on every record decoded. */
function wantedLsns(scope: StreamScope): number[] {
  const wal = t.gateway.engine.wal
  const lsns: number[] = []
  for (const frame of wal.read(1, { toLsn: wal.lastLsn })) {
    const event = records.domainEventOf(frame)
    if (event !== null && matches(t.gateway.engine, scope, event)) lsns.push(frame.lsn)
  }
  return lsns
}

/** Replays the whole log on a stream of `scope`: the ids it delivered, and the records decoded meanwhile. */
async function replayAll(scope: StreamScope, wantCount: number): Promise<{ delivered: number[]; decoded: number }> {
  const hub = new SseHub({ engine: t.gateway.engine, heartbeatMs: 3_600_000, bufferEventsMax: 1_024, subscribersMax: 4 })
  const decodes = spyOn(records, 'domainEventOf')
  try {
    const opened = hub.open(scope, 0)
    if (!opened.ok) throw new Error('not opened')
    const stream = new SseReader(new Response(opened.stream))
    const frames = await stream.until((all) => all.filter((frame) => frame.id !== null).length >= wantCount)
    await stream.cancel()
    return { delivered: frames.filter((frame) => frame.id !== null).map((frame) => frame.id as number), decoded: decodes.mock.calls.length }
  } finally {
    decodes.mockRestore()
    hub.close()
  }
}

test("an order stream's replay decodes its own order's records only, and delivers each of them", async () => {
  const scope: StreamScope = { kind: 'order', orderId: orderIds[4] as string }
  const want = wantedLsns(scope)
  expect(want.length).toBeGreaterThan(1)
  expect(t.gateway.engine.wal.lastLsn).toBeGreaterThan(want.length * 6)
  const { delivered, decoded } = await replayAll(scope, want.length)
  expect(delivered).toEqual(want)
  expect(decoded).toBe(want.length)
})

test("an account stream's replay passes the records of orders the kernel holds for another account undecoded", async () => {
  const scope: StreamScope = { kind: 'account', accountId: 'demo-2' }
  const want = wantedLsns(scope)
  const wal = t.gateway.engine.wal
  let otherOrdersRecords = 0
  for (const frame of wal.read(1, { toLsn: wal.lastLsn })) {
    const orderId = (records.domainEventOf(frame) as { orderId?: string } | null)?.orderId
    if (orderId !== undefined && t.gateway.engine.state.orders.get(orderId)?.accountId === 'demo-1') otherOrdersRecords++
  }
  expect(otherOrdersRecords).toBeGreaterThan(want.length)
  const { delivered, decoded } = await replayAll(scope, want.length)
  expect(delivered).toEqual(want)
  // Every record but those of demo-1's orders is decoded (demo-2's, and those that name no order).
  expect(decoded).toBe(wal.lastLsn - otherOrdersRecords)
})
