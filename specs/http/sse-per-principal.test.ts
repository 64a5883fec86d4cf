/**
 * One caller holds at most sseSubscribersPerPrincipalMax streams. The hub's bound (sseSubscribersMax) is shared by
 * every client, so one client that reconnected in a loop without closing its old streams could take every slot and
 * shut every other reader out with 503. Past its own bound a caller now gets 429 RATE_LIMITED (Retry-After), and
 * other callers still open streams.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway

beforeAll(async () => {
  t = await startTestGateway({ sseSubscribersPerPrincipalMax: 2 })
})
afterAll(async () => t.stop())

test('a caller past its own stream bound gets 429; another caller still opens one; closing a stream frees a slot', async () => {
  const alice = await t.token({ sub: 'alice', accounts: ['demo-1'] })
  const bob = await t.token({ sub: 'bob', accounts: ['demo-1'] })
  const first = await t.request('/v1/accounts/demo-1/stream', { headers: auth(alice) })
  const second = await t.request('/v1/accounts/demo-1/stream', { headers: auth(alice) })
  expect([first.status, second.status]).toEqual([200, 200])

  const third = await t.request('/v1/accounts/demo-1/stream', { headers: auth(alice) })
  expect(third.status).toBe(429)
  expect(third.headers.get('Retry-After')).toBe('5')
  const body = (await third.json()) as { error: { code: string; details: { reason: string; subscribersPerPrincipalMax: number } } }
  expect(body.error.code).toBe('RATE_LIMITED')
  expect(body.error.details).toEqual({ reason: 'too_many_subscribers_for_principal', subscribersPerPrincipalMax: 2 })
  expect(t.http.services.hub.subscriberCount).toBe(2)

  const bobs = await t.request('/v1/accounts/demo-1/stream', { headers: auth(bob) })
  expect(bobs.status).toBe(200)
  expect(t.http.services.hub.countOpenedBy('bob')).toBe(1)

  await first.body?.cancel()
  await Bun.sleep(0)
  expect(t.http.services.hub.countOpenedBy('alice')).toBe(1)
  const again = await t.request('/v1/accounts/demo-1/stream', { headers: auth(alice) })
  expect(again.status).toBe(200)

  for (const res of [second, bobs, again]) await res.body?.cancel()
})
