/**
 * A stream whose gateway stopped under it: an HA leader deposed (its gateway stopped at the step-down), or a standby's
 * gateway closed for a takeover or a re-sync. The HTTP service of that gateway is replaced only once the next gateway
 * has started — a replay of the log, a bootstrap: seconds, or much longer — and until then its streams went on with
 * heartbeats and no events, so a client could not tell a live stream from one that would never move again (while
 * the new leader wrote on), and a client that reconnected got another such stream. Now the next heartbeat ends them
 * (`disconnect`, reason `shutdown`) and a new one is refused (503 UNAVAILABLE): the client resumes with Last-Event-ID
 * once a gateway serves again.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

let t: TestGateway
let server: ReturnType<typeof Bun.serve>
let base: string

beforeAll(async () => {
  t = await startTestGateway({ config: { sse: { heartbeatMs: 100 } } })
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 30, fetch: (request) => t.http.app.fetch(request) })
  base = `http://127.0.0.1:${server.port}`
})
afterAll(async () => {
  await server.stop(true)
  await t.stop()
})

test("a stream ends (disconnect, shutdown) at the first heartbeat after its gateway's log closed, and no new one opens", async () => {
  const token = await t.token({})
  const opened = await fetch(`${base}/v1/accounts/demo-1/stream`, { headers: auth(token) })
  expect(opened.status).toBe(200)
  const stream = new SseReader(opened)
  expect((await fetch(`${base}/v1/orders`, post(token, LIMIT_BUY, { 'Idempotency-Key': 'log-closed-1' }))).status).toBe(202)
  await stream.until((frames) => frames.some((frame) => frame.event === 'order.accepted'))
  await t.gateway.stop()
  const frames = await stream.until((all) => all.some((frame) => frame.event === 'disconnect'), 2_000)
  expect(frames.filter((frame) => frame.event !== null).at(-1)?.data).toMatchObject({ reason: 'shutdown' })
  expect(t.http.services.hub.subscriberCount).toBe(0)
  const again = await fetch(`${base}/v1/accounts/demo-1/stream`, { headers: auth(token) })
  expect(again.status).toBe(503)
  expect(((await again.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE')
})
