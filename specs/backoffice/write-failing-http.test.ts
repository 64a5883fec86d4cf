/**
 * The back office's reads while its query model cannot be written (src/backoffice/write-failures.ts). Before, a read
 * brought the query model up to the log first and the failed write (SQLITE_BUSY: another connection held the file's
 * write lock) answered 500 INTERNAL; nothing on /health or /metrics said so. Now a read answers 503
 * QUERY_MODEL_UNAVAILABLE with the SQLite code (Retry-After while the writes are retried; none once stopped), /health
 * says the query model's state without taking the node out of `ready`, /metrics counts the failures, and orders go on.
 */

import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { backOfficeOf, QueryModelWriteError } from '../../src/backoffice/index.ts'
import { auth, errorCode, eventually, json, post, startTestGateway, type TestGateway } from '../http/fixture.ts'

let gw: TestGateway
let trader: string
let ops: string
let placed = 0

beforeAll(async () => {
  gw = await startTestGateway()
  trader = await gw.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  ops = await gw.token({ sub: 'olga', roles: ['ops'], accounts: [] })
})

afterAll(async () => {
  await gw.stop()
})

async function get(path: string, token: string): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | null }> {
  const response = await gw.request(path, { headers: auth(token) })
  return { status: response.status, body: await json(response), retryAfter: response.headers.get('Retry-After') }
}

async function place(): Promise<number> {
  const body = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '61000' }
  const response = await gw.request('/v1/orders', post(trader, body, { 'Idempotency-Key': `wf-${placed++}` }))
  return response.status
}

async function metrics(): Promise<string> {
  return (await gw.request('/metrics', { headers: auth(ops) })).text()
}

describe('back office reads while the query model cannot be written', () => {
  test('a failing write answers 503 QUERY_MODEL_UNAVAILABLE with Retry-After, /health and /metrics say so; reads resume after', async () => {
    const office = backOfficeOf(gw.gateway)
    const other = new Database(office.projector.store.path)
    other.exec('BEGIN IMMEDIATE')
    expect(await place()).toBe(202)
    for (const path of ['/v1/balances?account=demo-1', '/v1/positions', '/v1/pnl', '/v1/fills', '/v1/ledger']) {
      const read = await get(path, trader)
      expect(`${path} ${read.status} ${errorCode(read.body)} ${read.retryAfter}`).toBe(`${path} 503 QUERY_MODEL_UNAVAILABLE 1`)
      expect((read.body.error as { details: unknown }).details).toEqual({ reason: 'write_failing', code: 'QUERY_MODEL_WRITE_FAILED', sqlite_code: 'SQLITE_BUSY' })
    }
    const health = await gw.request('/health')
    expect(health.status).toBe(200)
    expect((await json(health)).backoffice).toEqual({ query_model: 'write_failing', error: 'QUERY_MODEL_WRITE_FAILED (SQLITE_BUSY)' })
    expect(await metrics()).toMatch(/egress_backoffice_write_failures_total\{sqlite_code="SQLITE_BUSY"\} [1-9]/)

    other.exec('ROLLBACK')
    other.close()
    await eventually(() => office.projector.writeFailures.failing === null)
    const read = await get('/v1/balances?account=demo-1', trader)
    expect(read.status).toBe(200)
    expect(read.body.as_of_lsn).toBe(gw.gateway.engine.wal.lastLsn)
    expect((await json(await gw.request('/health'))).backoffice).toEqual({ query_model: 'following', error: null })
  })

  test('stopped, reads answer 503 without Retry-After, /health says stopped and stays ready, and orders are still taken', async () => {
    const office = backOfficeOf(gw.gateway)
    // The bound itself is the projector's (store-write-failing.test.ts); here, its outcome as HTTP shows it.
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })
    office.projector.writeFailures.failed(new QueryModelWriteError(office.projector.store.path, busy), 1, 1)
    const read = await get('/v1/fills', trader)
    expect(`${read.status} ${errorCode(read.body)} ${read.retryAfter}`).toBe('503 QUERY_MODEL_UNAVAILABLE null')
    expect((read.body.error as { details: unknown }).details).toEqual({ reason: 'stopped', code: 'QUERY_MODEL_WRITE_FAILED', sqlite_code: 'SQLITE_BUSY' })
    const health = await gw.request('/health')
    expect(health.status).toBe(200)
    expect((await json(health)).backoffice).toEqual({ query_model: 'stopped', error: 'QUERY_MODEL_WRITE_FAILED (SQLITE_BUSY)' })
    expect(await metrics()).toContain('egress_backoffice_stopped 1')
    expect(await place()).toBe(202)
    const stats = await get('/v1/stats', ops)
    expect(stats.status).toBe(200)
    expect(stats.body.store_held).toStartWith('QUERY_MODEL_WRITE_FAILED (SQLITE_BUSY): the query model stopped')
  })
})
