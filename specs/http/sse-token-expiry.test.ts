/**
 * A stream is read with the authority of the token it was opened with, for as long as that token holds: once it
 * expires (or its key is no longer trusted) the stream ends with a final `disconnect` event, reason `unauthenticated`.
 * Checked only at open, a stream kept delivering an account's events for as long as the connection lasted — hours
 * after the token expired, or after its key was rotated out.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mintHs256Token } from '../../src/http/auth/index.ts'
import { auth, LIMIT_BUY, post, SECRET, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

let t: TestGateway
let server: ReturnType<typeof Bun.serve>
let base: string
/** The verifier's clock: the wall clock plus what the test moves it on by. */
let skewMs = 0

beforeAll(async () => {
  t = await startTestGateway({ config: { sse: { heartbeatMs: 100 } }, verifierNowMs: () => Date.now() + skewMs })
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => t.http.app.fetch(request) })
  base = `http://127.0.0.1:${server.port}`
})
afterAll(async () => {
  await server.stop(true)
  await t.stop()
})

test('a stream ends with disconnect reason unauthenticated once its token expires, and not before', async () => {
  const ttlSec = 60
  const token = await mintHs256Token(SECRET, { sub: 'alice', roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec })
  const opened = await fetch(`${base}/v1/accounts/demo-1/stream`, { headers: auth(token) })
  expect(opened.status).toBe(200)
  const stream = new SseReader(opened)
  // While the token holds, the stream lives through several heartbeats (each asks the verifier again) and delivers.
  await stream.until((frames) => frames.filter((frame) => frame.comment === 'heartbeat').length >= 3)
  expect((await fetch(`${base}/v1/orders`, post(token, LIMIT_BUY, { 'Idempotency-Key': 'token-expiry-1' }))).status).toBe(202)
  await stream.until((frames) => frames.some((frame) => frame.event === 'order.accepted'))
  expect(stream.events().some((frame) => frame.event === 'disconnect')).toBe(false)
  // Past its expiry and the verifier's 5 s clock tolerance: the next heartbeat ends the stream, saying why.
  skewMs = (ttlSec + 6) * 1000
  const frames = await stream.until((all) => all.some((frame) => frame.event === 'disconnect'))
  const last = frames.filter((frame) => frame.event !== null).at(-1)
  expect(last?.event).toBe('disconnect')
  expect(last?.data).toMatchObject({ reason: 'unauthenticated' })
  await stream.until(() => false, 1_000).catch(() => undefined)
  expect(stream.done).toBe(true)
  expect(t.http.services.hub.subscriberCount).toBe(0)
  // The same token cannot open a new one.
  expect((await fetch(`${base}/v1/accounts/demo-1/stream`, { headers: auth(token) })).status).toBe(401)
})
