/**
 * A path the API serves, asked with a method it does not serve, is 405 METHOD_NOT_ALLOWED with an `Allow` header, in
 * the one error shape; a path it does not serve stays 404. (Both were 404 "no route", which told a client that used
 * the wrong method that nothing was there.)
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, errorCode, json, startTestGateway, type TestGateway } from './fixture.ts'

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
