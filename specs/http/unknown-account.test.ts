/**
 * A token's `accounts` claim names the accounts its holder may trade, but only the gateway's config makes an account
 * exist. An order for an account the gateway never held is refused at admission (403 POLICY_MISSING, the code the
 * kernel's policy guard gives it) without a rate bucket and without a log record: otherwise one token could spread its
 * orders over made-up accounts, each with a full bucket of its own, and write an `order.rejected` record per order.
 * An account the config once named (it has a ledger) but names no more still goes to the kernel, whose refusal is
 * recorded (routes/place-admission.ts accountKnown).
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { errorCode, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

function accountBuckets(g: TestGateway): number {
  return (g.http.services.shedder as unknown as { accounts: { size: number } }).accounts.size
}

describe('orders for accounts the gateway does not know', () => {
  let g: TestGateway
  beforeAll(async () => {
    g = await startTestGateway({ config: { backpressure: { account: { ratePerSec: 1, burst: 1 } } }, bucketsNowMs: () => 0 })
  })
  afterAll(async () => {
    await g.stop()
  })

  test('are refused 403 POLICY_MISSING before a bucket is made or a record is written, however many are named', async () => {
    const ghosts = Array.from({ length: 50 }, (_, index) => `ghost-${index}`)
    const token = await g.token({ sub: 'spreader', accounts: ['demo-1', ...ghosts] })
    const lsnBefore = g.gateway.engine.wal.lastLsn
    const bucketsBefore = accountBuckets(g)
    for (const [index, account] of ghosts.entries()) {
      const response = await g.request('/v1/orders', post(token, { ...LIMIT_BUY, account }, { 'Idempotency-Key': `ghost-order-${index}` }))
      expect(response.status).toBe(403)
      const body = await json(response)
      expect(body).toEqual({ error: { code: 'POLICY_MISSING', message: expect.any(String), details: { reason: 'POLICY_MISSING', account, guard: 'policy' } } })
    }
    expect(g.gateway.engine.wal.lastLsn).toBe(lsnBefore)
    expect(accountBuckets(g)).toBe(bucketsBefore)
    // The configured account keeps its own bucket (burst 1): the ghosts took nothing from it, and it is still bounded.
    const placed = await g.request('/v1/orders', post(token, LIMIT_BUY, { 'Idempotency-Key': 'real-order-1' }))
    expect(placed.status).toBe(202)
    const shed = await g.request('/v1/orders', post(token, LIMIT_BUY, { 'Idempotency-Key': 'real-order-2' }))
    expect(shed.status).toBe(429)
    expect(errorCode(await json(shed))).toBe('RATE_LIMITED')
  })
})

describe('an account the config no longer names', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'egress-retired-account-'))
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  test('still reaches the kernel, whose POLICY_MISSING refusal is recorded with its order id', async () => {
    const first = await startTestGateway({ config: { dataDir, accounts: [{ id: 'demo-1', balances: { USD: '1000' } }, { id: 'old-1', balances: { USD: '1000' } }] } })
    await first.stop()
    const second = await startTestGateway({ config: { dataDir, accounts: [{ id: 'demo-1', balances: { USD: '1000' } }] } })
    try {
      const token = await second.token({ accounts: ['old-1'] })
      const lsnBefore = second.gateway.engine.wal.lastLsn
      const response = await second.request('/v1/orders', post(token, { ...LIMIT_BUY, account: 'old-1' }, { 'Idempotency-Key': 'old-order-1' }))
      expect(response.status).toBe(403)
      const body = await json(response)
      expect(errorCode(body)).toBe('POLICY_MISSING')
      expect((body.error as { details: Record<string, unknown> }).details).toMatchObject({ order_id: expect.any(String), guard: 'policy' })
      expect(second.gateway.engine.wal.lastLsn).toBeGreaterThan(lsnBefore)
    } finally {
      await second.stop()
    }
  })
})
