/**
 * GET of an order and the order list read the kernel's memory, which runs ahead of the log by the batch being written.
 * Answered at once, a read showed an order whose records were not durable yet: a crash then lost it (after the restart
 * the order did not exist, or was back in its earlier state) though the client had seen it. Reads are now answered once
 * the log holds what they show. The spec holds the log's flushes (WalOptions.scheduleFlush) to keep a batch in memory.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

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

test('an order read before its acceptance is durable is answered once it is, never before', async () => {
  const known = new Set(t.gateway.engine.state.orders.keys())
  held = []
  const placed = t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'durable-read-1' }))
  let orderId: string | undefined
  await eventually(() => (orderId = [...t.gateway.engine.state.orders.keys()].find((id) => !known.has(id))) !== undefined)
  const durableBefore = t.gateway.engine.wal.lastLsn
  const answered: string[] = []
  const one = t.request(`/v1/orders/${orderId}`, { headers: auth(trader) }).then((res) => (answered.push('one'), res))
  const list = t.request('/v1/orders?account=demo-1', { headers: auth(trader) }).then((res) => (answered.push('list'), res))
  await Bun.sleep(50)
  // The acceptance is in memory only: nothing may have been answered from it.
  expect(t.gateway.engine.wal.lastLsn).toBe(durableBefore)
  expect(answered).toEqual([])
  release()
  expect((await placed).status).toBe(202)
  const got = await one
  expect(got.status).toBe(200)
  expect((await json(got)).order_id).toBe(orderId as string)
  const listed = await json(await list)
  expect((listed.orders as { order_id: string }[]).some((order) => order.order_id === orderId)).toBe(true)
  expect(t.gateway.engine.wal.lastLsn).toBeGreaterThan(durableBefore)
})

test('the order\'s events and explanation, read before its acceptance is durable, are answered once it is, never before', async () => {
  // Both find the order in memory (an id, its account, a kill-switch hold) and list what the log holds of it: answered
  // at once, they told of an order a crash before the batch was durable then lost (200, not 404).
  const known = new Set(t.gateway.engine.state.orders.keys())
  held = []
  const placed = t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'durable-read-log' }))
  let orderId: string | undefined
  await eventually(() => (orderId = [...t.gateway.engine.state.orders.keys()].find((id) => !known.has(id))) !== undefined)
  const durableBefore = t.gateway.engine.wal.lastLsn
  const answered: string[] = []
  const events = t.request(`/v1/orders/${orderId}/events`, { headers: auth(trader) }).then((res) => (answered.push('events'), res))
  const explain = t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }).then((res) => (answered.push('explain'), res))
  try {
    await Bun.sleep(50)
    expect(t.gateway.engine.wal.lastLsn).toBe(durableBefore)
    expect(answered).toEqual([])
  } finally {
    release()
  }
  expect((await placed).status).toBe(202)
  const gotEvents = await events
  expect(gotEvents.status).toBe(200)
  expect((await json(gotEvents)).order_id).toBe(orderId as string)
  const gotExplain = await explain
  expect(gotExplain.status).toBe(200)
  expect((await json(gotExplain)).order_id).toBe(orderId as string)
})

test('reads waiting for the log are bounded on their own: past the bound a read is refused 429, and a decision’s answer (a repeated order) still waits', async () => {
  const engine = t.gateway.engine
  const max = engine.readWaiters.max
  const known = new Set(engine.state.orders.keys())
  engine.readWaiters.max = 1
  held = []
  try {
    const placed = t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'durable-read-2' }))
    let orderId: string | undefined
    await eventually(() => (orderId = [...engine.state.orders.keys()].find((id) => !known.has(id))) !== undefined)
    const waiting = t.request(`/v1/orders/${orderId}`, { headers: auth(trader) })
    await eventually(() => engine.readWaiters.size === 1)
    const refused = await t.request('/v1/orders?account=demo-1', { headers: auth(trader) })
    expect(refused.status).toBe(429)
    expect(refused.headers.get('Retry-After')).toBe('1')
    // A repeat of the order decides nothing and waits for the log among the decisions' answers, not the reads'.
    const repeat = t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'durable-read-2' }))
    await eventually(() => engine.durabilityWaiters.size === 1)
    release()
    expect((await placed).status).toBe(202)
    const repeated = await repeat
    expect(repeated.status).toBe(202)
    expect(repeated.headers.get('Idempotent-Replayed')).toBe('true')
    expect((await waiting).status).toBe(200)
  } finally {
    engine.readWaiters.max = max
    release()
  }
})

test('a read while nothing waits for the log is answered at once', async () => {
  const res = await t.request('/v1/orders?account=demo-1', { headers: auth(trader) })
  expect(res.status).toBe(200)
})

test('a read the log does not catch up with (a stalled disk) is answered 503 UNAVAILABLE after limits.readDurableWaitMsMax, not held for good', async () => {
  const stalled = await startTestGateway({ wal: { scheduleFlush: (flush) => (held === null ? void setImmediate(flush) : void held.push(flush)) }, httpLimits: { readDurableWaitMsMax: 200 } })
  try {
    const token = await stalled.token({ accounts: ['demo-1'] })
    const known = new Set(stalled.gateway.engine.state.orders.keys())
    held = []
    const placed = stalled.request('/v1/orders', post(token, LIMIT_BUY, { 'Idempotency-Key': 'durable-read-stalled' }))
    let orderId: string | undefined
    await eventually(() => (orderId = [...stalled.gateway.engine.state.orders.keys()].find((id) => !known.has(id))) !== undefined)
    const startedMs = performance.now()
    const read = await Promise.race([stalled.request(`/v1/orders/${orderId}`, { headers: auth(token) }), Bun.sleep(5_000).then(() => null)])
    expect(read?.status).toBe(503)
    expect(read?.headers.get('Retry-After')).toBe('1')
    expect(((await read?.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE')
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(190)
    release()
    expect((await placed).status).toBe(202)
    // Once the log moves, the same read is answered.
    expect((await stalled.request(`/v1/orders/${orderId}`, { headers: auth(token) })).status).toBe(200)
  } finally {
    release()
    await stalled.stop()
  }
})
