/**
 * A VALIDATION_FAILED answer lists the first 20 issues, and counts them all in `issues_total` when it left some out.
 * Every issue was listed: a 16 KiB order list of empty legs (five missing members each) was answered with 27,000
 * issues, 2.6 MB, and a query string of unknown parameters with one issue each — answers a body or a URL made grow
 * far past their own size. The code and the error shape stay as they were.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { ISSUES_LISTED_MAX } from '../../src/http/errors.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader = ''
beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

interface Failed {
  error: { code: string; message: string; details: { issues: { path: string; message: string }[]; issues_total?: number } }
}

test('a 16 KiB list of empty legs is answered with the first 20 issues and their total, not 2.6 MB', async () => {
  const legs = Array(5_000).fill('{}').join(',')
  const body = `{"type":"oco","account":"demo-1","client_list_id":"many-issues","orders":[${legs}]}`
  expect(body.length).toBeLessThan(16 * 1024)
  const response = await t.request('/v1/order-lists', { method: 'POST', headers: auth(trader, { 'Content-Type': 'application/json' }), body })
  expect(response.status).toBe(400)
  const text = await response.text()
  expect(text.length).toBeLessThan(4 * 1024)
  const { error } = JSON.parse(text) as Failed
  expect(error.code).toBe('VALIDATION_FAILED')
  expect(error.message).toBe(`${error.details.issues[0]?.path}: ${error.details.issues[0]?.message}`)
  expect(error.details.issues).toHaveLength(ISSUES_LISTED_MAX)
  expect(error.details.issues[0]?.path).toBe('orders.0.account')
  expect(error.details.issues_total).toBeGreaterThanOrEqual(25_000)
  expect(Object.keys(error.details).sort()).toEqual(['issues', 'issues_total'])
})

test('unknown query parameters: the first 20 listed, all counted', async () => {
  const query = Array.from({ length: 1_000 }, (_, index) => `p${index}=1`).join('&')
  const body = (await json(await t.request(`/v1/orders?${query}`, { headers: auth(trader) }))) as unknown as Failed
  expect(body.error.code).toBe('VALIDATION_FAILED')
  expect(body.error.details.issues.map(({ path }) => path)).toEqual(Array.from({ length: ISSUES_LISTED_MAX }, (_, index) => `query.p${index}`))
  expect(body.error.details.issues_total).toBe(1_000)
})

test('up to 20 issues are all listed, with no total', async () => {
  const bad = { ...LIMIT_BUY, side: 'up', type: 'stop', qty: 'x', price: 'y' }
  const body = (await json(await t.request('/v1/orders', post(trader, bad, { 'Idempotency-Key': 'four-issues' })))) as unknown as Failed
  expect(body.error.details).toEqual({
    issues: [
      { path: 'side', message: expect.any(String) },
      { path: 'type', message: expect.any(String) },
      { path: 'qty', message: expect.any(String) },
      { path: 'price', message: expect.any(String) },
    ],
  })
})
