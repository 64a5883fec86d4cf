import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { matches } from '../../src/http/sse/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader, type SseFrame } from './sse-client.ts'

let t: TestGateway
let server: ReturnType<typeof Bun.serve>
let base: string
let trader: string

beforeAll(async () => {
  // Small segments so the log can be compacted below a resume point; fast heartbeats to see them.
  t = await startTestGateway({ config: { sse: { heartbeatMs: 100, subscriberBufferEventsMax: 1024 } }, wal: { segmentBytesMax: 8192 } })
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => t.http.app.fetch(request) })
  base = `http://127.0.0.1:${server.port}`
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => {
  await server.stop(true)
  await t.stop()
})

async function place(key: string): Promise<string> {
  const res = await fetch(`${base}/v1/orders`, post(trader, LIMIT_BUY, { 'Idempotency-Key': key }))
  expect(res.status).toBe(202)
  return (await json(res)).order_id as string
}

async function connect(path: string, headers: Record<string, string> = {}, token = trader): Promise<SseReader> {
  const res = await fetch(`${base}${path}`, { headers: auth(token, headers) })
  expect(res.status).toBe(200)
  expect(res.headers.get('Content-Type')).toContain('text/event-stream')
  return new SseReader(res)
}

/** What the log holds for an account after `afterLsn`: the events a resumed stream must deliver, in order. */
function expectedLsns(afterLsn: number, accountId: string): number[] {
  const lsns: number[] = []
  for (const frame of t.gateway.engine.wal.read(afterLsn + 1)) {
    const event = domainEventOf(frame)
    if (event !== null && matches(t.gateway.engine, { kind: 'account', accountId }, event)) lsns.push(frame.lsn)
  }
  return lsns
}

const CONTROL = new Set(['resync_required', 'disconnect'])
const ids = (frames: SseFrame[]): number[] => frames.filter((frame) => frame.id !== null && !CONTROL.has(frame.event ?? '')).map((frame) => frame.id as number)

describe('SSE over a real server', () => {
  test('a live account stream delivers the order events with the LSN as id', async () => {
    const stream = await connect('/v1/accounts/demo-1/stream')
    const orderId = await place('sse-live-1')
    const frames = await stream.until((all) => all.some((frame) => frame.event === 'order.accepted'))
    const accepted = frames.find((frame) => frame.event === 'order.accepted')
    expect((accepted?.data as { orderId: string; lsn: number }).orderId).toBe(orderId)
    expect(accepted?.id).toBe((accepted?.data as { lsn: number }).lsn)
    await stream.cancel()
  })

  test('resuming with Last-Event-ID replays what was missed from the log, nothing missed or repeated', async () => {
    const first = await connect('/v1/accounts/demo-1/stream')
    await place('sse-resume-1')
    const seen = await first.until((all) => all.some((frame) => frame.event === 'order.accepted'))
    const lastId = Math.max(...ids(seen))
    await first.cancel()
    for (let index = 0; index < 5; index++) await place(`sse-resume-gap-${index}`)
    await Bun.sleep(50) // let sends and venue acks land in the log too
    const endLsn = t.gateway.engine.wal.lastLsn
    const want = expectedLsns(lastId, 'demo-1').filter((lsn) => lsn <= endLsn)
    const resumed = await connect('/v1/accounts/demo-1/stream', { 'Last-Event-ID': String(lastId) })
    const frames = await resumed.until((all) => ids(all).filter((lsn) => lsn <= endLsn).length >= want.length)
    const got = ids(frames).filter((lsn) => lsn <= endLsn)
    expect(got).toEqual(want)
    // Live events continue after the replay, still in order, still without repeats.
    await place('sse-resume-after')
    const more = await resumed.until((all) => ids(all).some((lsn) => lsn > endLsn && all.some((frame) => frame.id === lsn && frame.event === 'order.accepted')))
    const all = ids(more)
    expect(new Set(all).size).toBe(all.length)
    expect([...all].sort((a, b) => a - b)).toEqual(all)
    await resumed.cancel()
  })

  test('an order stream with Last-Event-ID 0 replays that order only', async () => {
    const orderId = await place('sse-order-1')
    await place('sse-order-2')
    const stream = await connect(`/v1/orders/${orderId}/stream`, { 'Last-Event-ID': '0' })
    const frames = await stream.until((all) => all.some((frame) => frame.event === 'order.accepted'))
    for (const frame of frames.filter((item) => item.event?.startsWith('order.') === true)) expect((frame.data as { orderId: string }).orderId).toBe(orderId)
    await stream.cancel()
  })

  test('heartbeat comments arrive while the stream is idle', async () => {
    const stream = await connect('/v1/accounts/demo-1/stream')
    const frames = await stream.until((all) => all.some((frame) => frame.comment === 'heartbeat'), 1_000)
    expect(frames.some((frame) => frame.comment === 'heartbeat')).toBe(true)
    await stream.cancel()
  })

  test('a resume point older than the retained log, or ahead of it, gets resync_required', async () => {
    const wal = t.gateway.engine.wal
    for (let index = 0; index < 40 && wal.segments.length < 3; index++) await place(`sse-fill-${index}`)
    const cut = wal.segments[1]?.firstLsn ?? 0
    expect(wal.removeSegmentsBelow(cut).length).toBeGreaterThan(0)
    expect(wal.firstLsn).toBeGreaterThan(1)
    const stale = await connect('/v1/accounts/demo-1/stream', { 'Last-Event-ID': '1' })
    const frames = await stale.until((all) => all.some((frame) => frame.event === 'resync_required'))
    const resync = frames.find((frame) => frame.event === 'resync_required')
    expect(resync?.data).toMatchObject({ reason: 'resume_point_not_retained', first_retained_lsn: wal.firstLsn, refetch: ['/v1/orders?account=demo-1'] })
    expect(resync?.id).toBe((resync?.data as { resume_lsn: number }).resume_lsn)
    await stale.cancel()
    const ahead = await connect('/v1/accounts/demo-1/stream', { 'Last-Event-ID': String(wal.lastLsn + 1000) })
    const aheadFrames = await ahead.until((all) => all.some((frame) => frame.event === 'resync_required'))
    expect(aheadFrames.find((frame) => frame.event === 'resync_required')?.data).toMatchObject({ reason: 'resume_point_ahead_of_log' })
    await ahead.cancel()
  })

  test('streams check roles and accounts; a bad Last-Event-ID is 400', async () => {
    const other = await t.token({ sub: 'bob', accounts: ['demo-2'] })
    const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
    expect((await fetch(`${base}/v1/accounts/demo-1/stream`, { headers: auth(other) })).status).toBe(403)
    expect((await fetch(`${base}/v1/stream`, { headers: auth(trader) })).status).toBe(403)
    expect((await fetch(`${base}/v1/accounts/demo-1/stream`)).status).toBe(401)
    expect((await fetch(`${base}/v1/accounts/demo-1/stream`, { headers: auth(trader, { 'Last-Event-ID': 'abc' }) })).status).toBe(400)
    const global = await connect('/v1/stream', {}, ops)
    await place('sse-global-1')
    await global.until((all) => all.some((frame) => frame.event === 'order.accepted'))
    await global.cancel()
  })
})

describe('SSE bounds and shutdown', () => {
  test('a subscriber that stops reading is cut off at its buffer bound with a final event saying why', async () => {
    const small = await startTestGateway({ config: { sse: { heartbeatMs: 5_000, subscriberBufferEventsMax: 3 } } })
    try {
      const opened = small.http.services.hub.open({ kind: 'global' }, null)
      if (!opened.ok) throw new Error('not opened')
      const token = await small.token({ accounts: ['demo-1'] })
      for (let index = 0; index < 4; index++) await small.request('/v1/orders', post(token, LIMIT_BUY, { 'Idempotency-Key': `slow-${index}` }))
      expect(small.http.services.hub.subscriberCount).toBe(0)
      const reader = new SseReader(new Response(opened.stream))
      const frames = await reader.until(() => false, 500).catch(() => reader.events())
      const last = reader.events().at(-1) ?? frames.at(-1)
      expect(last?.event).toBe('disconnect')
      expect(last?.data).toMatchObject({ reason: 'slow_consumer', buffer_events_max: 3 })
      expect(await (await small.request('/metrics')).text()).toContain('egress_sse_disconnects_total{reason="slow_consumer"} 1')
    } finally {
      await small.stop()
    }
  })

  test('draining ends every stream with a final shutdown event', async () => {
    const other = await startTestGateway()
    try {
      const opened = other.http.services.hub.open({ kind: 'account', accountId: 'demo-1' }, null)
      if (!opened.ok) throw new Error('not opened')
      other.http.drain()
      const reader = new SseReader(new Response(opened.stream))
      await reader.until(() => false, 500).catch(() => undefined)
      expect(reader.done).toBe(true)
      expect(reader.events().at(-1)).toMatchObject({ event: 'disconnect', data: { reason: 'shutdown' } })
      expect(other.http.services.hub.open({ kind: 'global' }, null)).toEqual({ ok: false, reason: 'closed' })
    } finally {
      await other.stop()
    }
  })
})
