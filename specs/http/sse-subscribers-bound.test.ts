/**
 * Every stream counts against the hub's bound (sseSubscribersMax), whoever opens it: past it a new stream gets 503
 * UNAVAILABLE (reason too_many_subscribers, Retry-After) and holds nothing, and a closed stream frees its slot. The
 * per-caller bound (sse-per-principal) comes first; this is the bound over all of them, which no HTTP spec covered.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway

beforeAll(async () => {
  t = await startTestGateway({ sseSubscribersMax: 3, sseSubscribersPerPrincipalMax: 64 })
})
afterAll(async () => t.stop())

test('past the hub\'s bound a new stream, any caller\'s, gets 503 too_many_subscribers; a closed one frees its slot', async () => {
  const tokens = await Promise.all(['ann', 'ben', 'cat', 'dan'].map((sub) => t.token({ sub, accounts: ['demo-1'] })))
  const open = []
  for (const token of tokens.slice(0, 3)) open.push(await t.request('/v1/accounts/demo-1/stream', { headers: auth(token) }))
  expect(open.map((res) => res.status)).toEqual([200, 200, 200])

  const refused = await t.request('/v1/accounts/demo-1/stream', { headers: auth(tokens[3]!) })
  expect(refused.status).toBe(503)
  expect(refused.headers.get('Retry-After')).toBe('5')
  const body = (await refused.json()) as { error: { code: string; details: { reason: string } } }
  expect(body.error.code).toBe('UNAVAILABLE')
  expect(body.error.details.reason).toBe('too_many_subscribers')
  expect(t.http.services.hub.subscriberCount).toBe(3)
  expect(t.http.services.hub.countOpenedBy('dan')).toBe(0)

  await open[0]!.body?.cancel()
  await Bun.sleep(0)
  expect(t.http.services.hub.subscriberCount).toBe(2)
  const again = await t.request('/v1/accounts/demo-1/stream', { headers: auth(tokens[3]!) })
  expect(again.status).toBe(200)

  for (const res of [open[1], open[2], again]) await res?.body?.cancel()
})
