/**
 * Where a stream resumes: the `Last-Event-ID` header, else `?last_event_id=`. A bad query value was reported under the
 * path `header.Last-Event-ID` (a client that never sent the header was told to fix it), and an empty header — which
 * means "absent", as the header parser reads it — hid the query: `?last_event_id=` was ignored and the stream
 * started live, silently skipping what the client asked to replay. A bad query value behind a good header passed
 * unread: it is refused as when it stands alone.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ accounts: ['demo-1'] })
  expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'lei-1' }))).status).toBe(202)
})
afterAll(async () => t.stop())

async function issues(path: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await t.request(path, { headers: auth(trader, headers) })
  expect(res.status).toBe(400)
  const body = await json(res)
  const error = body.error as { code: string; message: string; details: { issues: unknown } }
  expect(error.code).toBe('VALIDATION_FAILED')
  return { message: error.message, issues: error.details.issues }
}

test('a bad ?last_event_id= is reported under query.last_event_id', async () => {
  expect(await issues('/v1/accounts/demo-1/stream?last_event_id=abc')).toEqual({
    message: 'query.last_event_id: expected an event id (a non-negative integer)',
    issues: [{ path: 'query.last_event_id', message: 'expected a non-negative integer' }],
  })
})

test('a bad Last-Event-ID header is still reported under header.Last-Event-ID, and wins over the query', async () => {
  expect(await issues('/v1/accounts/demo-1/stream?last_event_id=0', { 'Last-Event-ID': 'abc' })).toEqual({
    message: 'header.Last-Event-ID: expected an event id (a non-negative integer)',
    issues: [{ path: 'header.Last-Event-ID', message: 'expected a non-negative integer' }],
  })
})

test('a bad ?last_event_id= is refused behind a good Last-Event-ID header too', async () => {
  expect(await issues('/v1/accounts/demo-1/stream?last_event_id=-1', { 'Last-Event-ID': '3' })).toEqual({
    message: 'query.last_event_id: expected an event id (a non-negative integer)',
    issues: [{ path: 'query.last_event_id', message: 'expected a non-negative integer' }],
  })
  expect(t.http.services.hub.subscriberCount).toBe(0)
})

test('an empty Last-Event-ID header counts as absent: the query is checked and used', async () => {
  expect(await issues('/v1/accounts/demo-1/stream?last_event_id=x1', { 'Last-Event-ID': '' })).toEqual({
    message: 'query.last_event_id: expected an event id (a non-negative integer)',
    issues: [{ path: 'query.last_event_id', message: 'expected a non-negative integer' }],
  })
  const res = await t.request('/v1/accounts/demo-1/stream?last_event_id=0', { headers: auth(trader, { 'Last-Event-ID': ' ' }) })
  expect(res.status).toBe(200)
  const stream = new SseReader(res)
  // Replayed from the log: the order placed before the stream opened.
  const frames = await stream.until((all) => all.some((frame) => frame.event === 'order.accepted'), 2_000)
  expect(frames.some((frame) => frame.event === 'order.accepted')).toBe(true)
  await stream.cancel()
})
