/**
 * The refusals someone following the README's quick start meets are in /openapi.json under the status they come
 * with, by code: each request below is sent, and the document's response for that route and status must exist, be
 * the error shape, and name the answer's `error.code` (a client reading the document learns the codes it must handle).
 * Before, POST /v1/orders' 400 said "Malformed JSON, a body ... that fails validation" without naming MALFORMED_REQUEST
 * or IDEMPOTENCY_KEY_MISSING (a POST without the header), and every 401 said "Missing or invalid bearer token" without
 * UNAUTHENTICATED or TOKEN_REVOKED.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mintHs256Token } from '../../src/http/auth/index.ts'
import { auth, json, LIMIT_BUY, post, SECRET, startTestGateway, type TestGateway } from './fixture.ts'

type Json = Record<string, unknown>

let gw: TestGateway
let doc: Json
let trader: string

beforeAll(async () => {
  gw = await startTestGateway()
  trader = await gw.token({})
  doc = await json(await gw.request('/openapi.json'))
})
afterAll(async () => gw.stop())

/** The document's response for METHOD path at status. */
function documented(method: string, path: string, status: number): Json | undefined {
  const operation = (doc.paths as Record<string, Record<string, Json>>)[path]?.[method.toLowerCase()]
  return (operation?.responses as Record<string, Json> | undefined)?.[String(status)]
}

/** Sends the request, then checks the document names its answer's code under its status, as the error shape. */
async function expectNamed(method: string, route: string, path: string, init: RequestInit, status: number): Promise<void> {
  const response = await gw.request(path, { ...init, method })
  expect(response.status).toBe(status)
  const code = ((await json(response)).error as { code: string }).code
  const entry = documented(method, route, status)
  expect([route, status, entry?.description === undefined ? 'not documented' : 'documented']).toEqual([route, status, 'documented'])
  expect([route, status, code, String(entry?.description).includes(code)]).toEqual([route, status, code, true])
  expect((entry?.content as Json)['application/json']).toEqual({ schema: { $ref: '#/components/schemas/Error' } })
}

describe('the quick start refusals are documented by code', () => {
  const orders = '/v1/orders'
  const json = { 'Content-Type': 'application/json' }

  test('POST /v1/orders: no token, a bad token, an expired token', async () => {
    await expectNamed('POST', orders, orders, { headers: { ...json, 'Idempotency-Key': 'q-1' }, body: JSON.stringify(LIMIT_BUY) }, 401)
    await expectNamed('POST', orders, orders, post('not-a-token', LIMIT_BUY, { 'Idempotency-Key': 'q-2' }), 401)
    const expired = await mintHs256Token(SECRET, { sub: 'alice', roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 1, nowMs: Date.now() - 3_600_000 })
    await expectNamed('POST', orders, orders, post(expired, LIMIT_BUY, { 'Idempotency-Key': 'q-3' }), 401)
  })

  test('POST /v1/orders: a bad body, a body not JSON, no Idempotency-Key, keys that differ, no Content-Type', async () => {
    await expectNamed('POST', orders, orders, post(trader, { ...LIMIT_BUY, qty: 0.01 }, { 'Idempotency-Key': 'q-4' }), 400)
    await expectNamed('POST', orders, orders, post(trader, '{account:demo-1}', { 'Idempotency-Key': 'q-5' }), 400)
    await expectNamed('POST', orders, orders, post(trader, LIMIT_BUY), 400)
    await expectNamed('POST', orders, orders, post(trader, { ...LIMIT_BUY, client_order_id: 'q-6' }, { 'Idempotency-Key': 'q-7' }), 400)
    await expectNamed('POST', orders, orders, { headers: auth(trader, { 'Idempotency-Key': 'q-8' }), body: JSON.stringify(LIMIT_BUY) }, 415)
  })

  test('POST /v1/orders: another account than the token names, a key used with another body', async () => {
    await expectNamed('POST', orders, orders, post(trader, { ...LIMIT_BUY, account: 'demo-2' }, { 'Idempotency-Key': 'q-9' }), 403)
    expect((await gw.request(orders, post(trader, LIMIT_BUY, { 'Idempotency-Key': 'q-10' }))).status).toBe(202)
    await expectNamed('POST', orders, orders, post(trader, { ...LIMIT_BUY, qty: '0.02' }, { 'Idempotency-Key': 'q-10' }), 409)
  })

  test('the stream and a cancel: no token, an order that is not there', async () => {
    await expectNamed('GET', '/v1/accounts/{id}/stream', '/v1/accounts/demo-1/stream', {}, 401)
    await expectNamed('POST', '/v1/orders/{id}/cancel', '/v1/orders/nope/cancel', {}, 401)
    await expectNamed('GET', '/v1/orders/{id}', '/v1/orders/nope', { headers: auth(trader) }, 404)
  })
})
