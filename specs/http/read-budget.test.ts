/**
 * The read budget (src/http/backpressure/read-budget.ts, read-limit.ts): GET routes under /v1 are charged to the
 * caller's (token `sub`) bucket and answered 429 RATE_LIMITED with Retry-After past it; writes — cancels above all —
 * /health and /metrics are never charged. Config `backpressure.read`, validated, with a default that leaves the digest
 * of a config without it unchanged.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ConfigError, configDigest, DEFAULT_READ_BUDGET, parseConfig, readBudgetOf } from '../../src/config/index.ts'
import { ReadBudget } from '../../src/http/backpressure/index.ts'
import { openApiDocument } from '../../src/http/openapi/document.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

describe('GET routes under the read budget', () => {
  let g: TestGateway
  beforeAll(async () => {
    // A stopped clock: the buckets never refill during the test, however slow the machine.
    g = await startTestGateway({ config: { backpressure: { read: { ratePerSec: 1, burst: 3 } } }, bucketsNowMs: () => 0 })
  })
  afterAll(async () => {
    await g.stop()
  })

  test('past its burst a caller gets 429 RATE_LIMITED with Retry-After on every read route; another caller does not', async () => {
    const reader = await g.token({ sub: 'reader-1' })
    const reads = ['/v1/orders', '/v1/balances?account=demo-1', '/v1/stats']
    for (const path of reads) expect((await g.request(path, { headers: auth(reader) })).status).toBe(200)
    for (const path of [...reads, '/v1/orders/no-such-order', '/v1/orders/no-such-order/events', '/v1/orders/no-such-order/explain', '/v1/fills?account=demo-1']) {
      const refused = await g.request(path, { headers: auth(reader) })
      expect(refused.status).toBe(429)
      expect(refused.headers.get('Retry-After')).toBe('1')
      expect(await json(refused)).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String), details: { scope: 'read', retry_after_sec: 1 } } })
    }
    const other = await g.token({ sub: 'reader-2' })
    expect((await g.request('/v1/orders', { headers: auth(other) })).status).toBe(200)
  })

  test('writes, cancels included, /health and /metrics are not charged, and do not charge the budget', async () => {
    const trader = await g.token({ sub: 'trader-1' })
    for (let index = 0; index < 3; index++) expect((await g.request('/v1/orders', { headers: auth(trader) })).status).toBe(200)
    expect((await g.request('/v1/orders', { headers: auth(trader) })).status).toBe(429)
    const placed = await g.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'read-budget-order-1' }))
    expect(placed.status).toBe(202)
    const orderId = (await json(placed)).order_id as string
    expect((await g.request(`/v1/orders/${orderId}/cancel`, post(trader, {}))).status).toBe(202)
    for (let index = 0; index < 5; index++) {
      expect((await g.request('/health')).status).toBe(200)
      expect((await g.request('/metrics')).status).toBe(200)
    }
  })
})

describe('the OpenAPI document', () => {
  test('every GET under /v1 documents the read budget 429', () => {
    const doc = openApiDocument({ version: 'x', replication: true }) as { paths: Record<string, { get?: { responses: Record<string, { description: string }> } }> }
    const gets = Object.entries(doc.paths).filter(([path, operations]) => path.startsWith('/v1/') && operations.get !== undefined)
    expect(gets.length).toBeGreaterThan(10)
    for (const [, operations] of gets) expect(operations.get?.responses['429']?.description).toContain('read budget')
    expect(doc.paths['/health']?.get?.responses['429']).toBeUndefined()
  })
})

describe('ReadBudget', () => {
  test('refills at its rate and keeps at most bucketsMax callers, refusing a new one while every bucket is in use', () => {
    let nowMs = 0
    const budget = new ReadBudget({ limits: { ratePerSec: 2, burst: 1 }, bucketsMax: 2, nowMs: () => nowMs })
    expect(budget.take('a')).toEqual({ ok: true })
    expect(budget.take('a')).toEqual({ ok: false, retryAfterSec: 1 })
    expect(budget.take('b')).toEqual({ ok: true })
    expect(budget.take('c')).toEqual({ ok: false, retryAfterSec: 1 })
    expect(budget.size).toBe(2)
    nowMs = 500
    expect(budget.take('c')).toEqual({ ok: true }) // a was full again and is forgotten
    expect(budget.size).toBe(2)
  })
})

describe('config backpressure.read', () => {
  test('validated with the field named; unset it is the default and leaves the digest as it was', () => {
    expect(() => parseConfig({ backpressure: { read: { ratePerSec: 0, burst: 10 } } })).toThrow(ConfigError)
    expect(() => parseConfig({ backpressure: { read: { ratePerSec: 0, burst: 10 } } })).toThrow('backpressure.read.ratePerSec')
    expect(() => parseConfig({ backpressure: { read: { ratePerSec: 10 } } })).toThrow('backpressure.read.burst')
    const plain = parseConfig({})
    expect(readBudgetOf(plain.backpressure)).toEqual({ ...DEFAULT_READ_BUDGET })
    expect(configDigest(plain)).toBe(configDigest(parseConfig({ backpressure: {} })))
    expect(readBudgetOf(parseConfig({ backpressure: { read: { ratePerSec: 5, burst: 7 } } }).backpressure)).toEqual({ ratePerSec: 5, burst: 7 })
  })
})
