/**
 * Request bodies are JSON, and say so: a body sent as another media type (text/plain — what fetch sends for a string —
 * or the form encoding curl -d uses) is 415 UNSUPPORTED_MEDIA_TYPE and reaches nothing. It was parsed as JSON whatever
 * its Content-Type, so a text/plain order was placed (a "simple" cross-origin request a browser sends without asking).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { auth, errorCode, json, LIMIT_BUY, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let ops: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ accounts: ['demo-1'] })
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
})
afterAll(async () => t.stop())

function place(key: string, contentType: string | null): Promise<Response> {
  const headers = auth(trader, { 'Idempotency-Key': key, ...(contentType === null ? {} : { 'Content-Type': contentType }) })
  return t.request('/v1/orders', { method: 'POST', headers, body: JSON.stringify(LIMIT_BUY) })
}

test('a JSON body sent as text/plain, as a form or without a Content-Type is 415, and nothing is logged', async () => {
  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null]) {
    const lsn = t.gateway.engine.wal.lastLsn
    const res = await place(`media-${contentType ?? 'none'}`, contentType)
    expect(res.status).toBe(415)
    const body = await json(res)
    expect(errorCode(body)).toBe('UNSUPPORTED_MEDIA_TYPE')
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
  }
})

test('application/json with parameters, and +json types, are read as JSON', async () => {
  expect((await place('media-json-charset', 'application/json; charset=utf-8')).status).toBe(202)
  expect((await place('media-json-upper', 'Application/JSON')).status).toBe(202)
  expect((await place('media-plus-json', 'application/vnd.egress+json')).status).toBe(202)
})

test('the README and /openapi.json say what the 415 check reads as JSON: +json types too, not application/json alone', async () => {
  const readme = readFileSync(join(import.meta.dir, '..', '..', 'README.md'), 'utf8')
  const row = readme.split('\n').find((line) => line.startsWith('| `UNSUPPORTED_MEDIA_TYPE` |')) ?? ''
  expect(row).toContain('+json')
  const document = await json(await t.request('/openapi.json'))
  expect(JSON.stringify(document)).toContain('UNSUPPORTED_MEDIA_TYPE: a body sent without Content-Type application/json (or a +json type)')
})

test('a route whose body may be empty still takes none, with no Content-Type', async () => {
  const res = await t.request('/v1/admin/resume', { method: 'POST', headers: auth(ops) })
  expect(res.status).toBe(200)
})

test('a body that is JSON but not an object (an array, a string, null) is 400 on every route, and nothing is logged', async () => {
  // valibot's object schemas take an array for an object: `[]` passed as `{}` where every member is optional.
  const admin = await t.token({ sub: 'adam', roles: ['admin'], accounts: [] })
  // The orders of the tests above are still being sent and answered: wait for the log to be still.
  for (let still = 0, lsn = -1; still < 5; await Bun.sleep(20)) {
    still = t.gateway.engine.wal.lastLsn === lsn ? still + 1 : 0
    lsn = t.gateway.engine.wal.lastLsn
  }
  const routes: [string, string][] = [
    ['/v1/admin/halt', ops],
    ['/v1/admin/cancel-only', ops],
    ['/v1/admin/resume', ops],
    ['/v1/accounts/demo-1/halt', ops],
    ['/v1/accounts/demo-1/cancel-only', ops],
    ['/v1/accounts/demo-1/resume', ops],
    ['/v1/admin/snapshot', admin],
    ['/v1/audit/anchor', admin],
    ['/v1/accounts/demo-1/flatten', ops],
    ['/v1/orders', trader],
  ]
  for (const [path, token] of routes) {
    for (const body of ['[]', '[{"note":"x"}]', '"halt"', 'null', '5']) {
      const lsn = t.gateway.engine.wal.lastLsn
      const headers = auth(token, { 'Content-Type': 'application/json', 'Idempotency-Key': `not-object-${path}` })
      const res = await t.request(path, { method: 'POST', headers, body })
      expect([path, body, res.status]).toEqual([path, body, 400])
      const answer = await json(res)
      expect([path, body, errorCode(answer)]).toEqual([path, body, 'VALIDATION_FAILED'])
      expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
    }
  }
  expect(t.gateway.engine.state.tradingSwitch).not.toBe('halted')
})

test('every operation /openapi.json documents with a JSON body answers a non-JSON one 415, and documents that 415', async () => {
  const doc = await json(await t.request('/openapi.json'))
  const admin = await t.token({ sub: 'adam', roles: ['admin'], accounts: [] })
  const placed = await t.request('/v1/orders', { method: 'POST', headers: auth(trader, { 'Content-Type': 'application/json', 'Idempotency-Key': 'media-doc' }), body: JSON.stringify(LIMIT_BUY) })
  const orderId = (await json(placed)).order_id as string
  // The order is still being sent and answered: wait for the log to be still.
  for (let still = 0, lsn = -1; still < 5; await Bun.sleep(20)) {
    still = t.gateway.engine.wal.lastLsn === lsn ? still + 1 : 0
    lsn = t.gateway.engine.wal.lastLsn
  }
  const tokenFor = (path: string): string => (path.startsWith('/v1/orders') ? trader : path === '/v1/admin/mode' || path === '/v1/admin/snapshot' || path === '/v1/admin/revocations' || path.startsWith('/v1/audit/') || path.startsWith('/v1/admin/venues/') ? admin : ops)
  const checked: string[] = []
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown> }>>)) {
    for (const [method, operation] of Object.entries(item)) {
      if (operation.requestBody?.content['application/json'] === undefined) continue
      const url = path.replace('{id}', path.startsWith('/v1/accounts') ? 'demo-1' : orderId).replace('{venue}', 'sim')
      const lsn = t.gateway.engine.wal.lastLsn
      const headers = auth(tokenFor(path), { 'Content-Type': 'text/plain', 'Idempotency-Key': `media-doc-${path}` })
      const res = await t.request(url, { method: method.toUpperCase(), headers, body: '{}' })
      expect([method, path, res.status, errorCode(await json(res))]).toEqual([method, path, 415, 'UNSUPPORTED_MEDIA_TYPE'])
      expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
      expect([method, path, operation.responses['415']]).toEqual([
        method,
        path,
        { description: expect.any(String), content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      ])
      checked.push(`${method} ${path}`)
    }
  }
  expect(checked.length).toBeGreaterThanOrEqual(8)
})

test('a body that is not UTF-8 is 400 MALFORMED_REQUEST and nothing is logged; a non-JSON type still says 415 first', async () => {
  // The bytes 0xFF 0xFE inside a note: decoded leniently they became U+FFFD and the switch was logged with a note
  // nobody sent.
  const encoder = new TextEncoder()
  const bytes = new Uint8Array([...encoder.encode('{"note":"a'), 0xff, 0xfe, ...encoder.encode('b"}')])
  const lsn = t.gateway.engine.wal.lastLsn
  const res = await t.request('/v1/admin/halt', { method: 'POST', headers: auth(ops, { 'Content-Type': 'application/json' }), body: bytes })
  expect(res.status).toBe(400)
  const body = await json(res)
  expect(errorCode(body)).toBe('MALFORMED_REQUEST')
  expect(body.error).toMatchObject({ message: 'the request body is not valid UTF-8' })
  const asText = await t.request('/v1/admin/halt', { method: 'POST', headers: auth(ops, { 'Content-Type': 'text/plain' }), body: bytes })
  expect(asText.status).toBe(415)
  expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
  expect(t.gateway.engine.state.tradingSwitch).not.toBe('halted')
})

test('a JSON string escape that is not valid Unicode (an unpaired surrogate) is 400 MALFORMED_REQUEST naming where, and nothing is logged', async () => {
  // Valid JSON, but no UTF-8 can hold it: the log would have stored U+FFFD in its place.
  for (const [text, path] of [['{"note":"a\\ud800b"}', 'note'], ['{"note":"\\udc00"}', 'note'], ['{"\\ud83d":"x"}', '\ud83d']] as const) {
    const lsn = t.gateway.engine.wal.lastLsn
    const res = await t.request('/v1/admin/halt', { method: 'POST', headers: auth(ops, { 'Content-Type': 'application/json' }), body: text })
    expect([text, res.status]).toEqual([text, 400])
    const body = await json(res)
    expect([text, errorCode(body), (body.error as { details: { path: string } }).details.path]).toEqual([text, 'MALFORMED_REQUEST', path])
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
  }
  // A pair, escaped or not, is a character like any other.
  const paired = await t.request('/v1/admin/resume', { method: 'POST', headers: auth(ops, { 'Content-Type': 'application/json' }), body: '{"note":"\\ud83d\\ude00 😀"}' })
  expect(paired.status).toBe(200)
})
