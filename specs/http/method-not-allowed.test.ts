/**
 * A path the API serves, asked with a method it does not serve, is 405 METHOD_NOT_ALLOWED with an `Allow` header, in
 * the one error shape; a path it does not serve stays 404. (Both were 404 "no route", which told a client that used
 * the wrong method that nothing was there.)
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createApp } from '../../src/http/app.ts'
import { haHttp } from '../runtime/ha/support.ts'
import { auth, errorCode, json, startTestGateway, type TestGateway } from './fixture.ts'
import { documentedAnswers } from './openapi-departures.ts'

type Json = Record<string, unknown>

const HA = haHttp({ replicationToken: 'method-not-allowed-token', heartbeatMs: 1_000 })

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

test('a wrong method on a served path is 405 with Allow; the error body lists the methods', async () => {
  const cases: [string, string, string][] = [
    ['DELETE', '/v1/orders', 'GET, HEAD, POST'],
    ['PUT', '/v1/orders/abc', 'GET, HEAD'],
    ['GET', '/v1/orders/abc/cancel', 'POST'],
    ['POST', '/health', 'GET, HEAD'],
    ['OPTIONS', '/v1/admin/halt', 'POST'],
  ]
  for (const [method, path, allow] of cases) {
    const res = await t.request(path, { method, headers: auth(trader) })
    expect(res.status).toBe(405)
    expect(res.headers.get('Allow')).toBe(allow)
    const body = await json(res)
    expect(errorCode(body)).toBe('METHOD_NOT_ALLOWED')
    expect((body.error as { details: { allowed: string[] } }).details.allowed).toEqual(allow.split(', '))
  }
})

test('a path nothing serves is still 404, and a wrong method still needs a token under /v1', async () => {
  expect((await t.request('/v1/nope', { headers: auth(trader) })).status).toBe(404)
  expect((await t.request('/v1/orders/a/b/c', { method: 'DELETE', headers: auth(trader) })).status).toBe(404)
  expect((await t.request('/v1/orders', { method: 'DELETE' })).status).toBe(401)
})

test('404 and 405 messages show the path printable and bounded: no control or bidi characters, no 10,000-character echo', async () => {
  const hostile = await t.request('/x%0Ay%00z%E2%80%AE', { method: 'PUT', headers: auth(trader) })
  expect(hostile.status).toBe(404)
  expect(((await json(hostile)).error as { message: string }).message).toBe('no route for PUT /x?y?z?')
  const long = await t.request(`/${'a'.repeat(10_000)}`, { headers: auth(trader) })
  const longMessage = ((await json(long)).error as { message: string }).message
  expect(longMessage).toBe(`no route for GET /${'a'.repeat(199)}…`)
  const wrongMethod = await t.request('/v1/orders/%0A%E2%80%AE/cancel', { method: 'PUT', headers: auth(trader) })
  expect(wrongMethod.status).toBe(405)
  expect(((await json(wrongMethod)).error as { message: string }).message).toBe('PUT is not allowed on /v1/orders/??/cancel; use POST')
})

test('/openapi.json documents the 405 on every operation, with the Allow value the app sends for its path', async () => {
  // An HA node serves every path a single node does, and the replication routes.
  const app = createApp({ ...t.http.services, ha: HA })
  const admin = await t.token({ sub: 'adam', roles: ['admin'], accounts: [] })
  const doc = (await json(await app.request('/openapi.json'))) as Json
  const { departures } = documentedAnswers(doc)
  const found: string[] = []
  let checked = 0
  for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, Json> }>>)) {
    // PATCH: a method no route of the API serves.
    expect(Object.keys(operations)).not.toContain('patch')
    const url = path.replace(/\{[^}]+\}/g, 'x')
    const token = path.startsWith('/replication/') ? HA.replicationToken : admin
    const res = await app.request(url, { method: 'PATCH', headers: { Authorization: `Bearer ${token}` } })
    const body = await json(res)
    for (const [method, operation] of Object.entries(operations)) {
      checked++
      const documented = operation.responses['405'] as { headers?: { Allow?: { schema?: { const?: string } } }; content?: Record<string, { schema: Json }> } | undefined
      if (documented === undefined) {
        found.push(`${method.toUpperCase()} ${path}: no 405`)
        continue
      }
      const allow = documented.headers?.Allow?.schema?.const
      if (res.status !== 405 || res.headers.get('Allow') !== allow) found.push(`${method.toUpperCase()} ${path}: PATCH answered ${res.status} Allow ${res.headers.get('Allow')}, documented 405 Allow ${allow}`)
      const schema = documented.content?.['application/json']?.schema
      found.push(...(schema === undefined ? [`${method.toUpperCase()} ${path}: the 405 has no schema`] : departures(schema, body, `${path} 405`)))
    }
  }
  expect(checked).toBeGreaterThan(30)
  expect(found).toEqual([])
})
