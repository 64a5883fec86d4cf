/**
 * Resuming a stream over more events than the subscriber's buffer holds. The buffer bound is for clients that fall
 * behind the live feed; a replay reads the log at the client's pace, so it must wait for room instead of filling the
 * buffer and cutting off a client that reads as fast as it can (it did: a curl resuming from 0 over ~1,300 LSNs was
 * disconnected as `slow_consumer` after 1,022 events with the shipped bound of 1,024).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

const BUFFER_EVENTS_MAX = 8

let t: TestGateway
let server: ReturnType<typeof Bun.serve>
let base: string
let trader: string

beforeAll(async () => {
  t = await startTestGateway({ config: { sse: { heartbeatMs: 1_000, subscriberBufferEventsMax: BUFFER_EVENTS_MAX } } })
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => t.http.app.fetch(request) })
  base = `http://127.0.0.1:${server.port}`
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => {
  await server.stop(true)
  await t.stop()
})

test('a resume over more events than the subscriber buffer holds delivers them all, without a slow_consumer cut', async () => {
  for (let index = 0; index < 6; index++) {
    const res = await fetch(`${base}/v1/orders`, post(trader, LIMIT_BUY, { 'Idempotency-Key': `replay-${index}` }))
    expect(res.status).toBe(202)
    await json(res)
  }
  await Bun.sleep(50) // the sends and venue acks land in the log too
  const endLsn = t.gateway.engine.wal.lastLsn
  const want: number[] = []
  for (const frame of t.gateway.engine.wal.read(1, { toLsn: endLsn })) if (domainEventOf(frame) !== null) want.push(frame.lsn)
  expect(want.length).toBeGreaterThan(BUFFER_EVENTS_MAX * 2)

  // The global stream sees every domain event, so the expected list needs no account filter.
  const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  const res = await fetch(`${base}/v1/stream`, { headers: auth(ops, { 'Last-Event-ID': '0' }) })
  expect(res.status).toBe(200)
  const stream = new SseReader(res)
  const frames = await stream.until((all) => all.some((frame) => frame.event === 'disconnect') || all.filter((frame) => frame.id !== null && frame.id <= endLsn).length >= want.length)
  await stream.cancel()
  expect(frames.find((frame) => frame.event === 'disconnect')?.data ?? null).toBeNull()
  expect(frames.filter((frame) => frame.id !== null && frame.id <= endLsn).map((frame) => frame.id)).toEqual(want)
})
