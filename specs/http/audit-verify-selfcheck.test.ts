import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { join } from 'node:path'
import { editPayloadByte } from '../audit/support.ts'
import { requireAuth, type AuthEnv } from '../../src/http/auth/index.ts'
import { createErrorHandler } from '../../src/http/errors.ts'
import { auditRoutes } from '../../src/http/routes/audit.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway

beforeAll(async () => {
  t = await startTestGateway()
})
afterAll(async () => {
  await t.stop().catch(() => undefined)
})

/** The audit routes of `gateway` (default: the file's) with liveVerifyBytesMax 1: every verification is answered by the runtime self-check. */
function selfCheckApp(gateway: TestGateway = t): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  app.onError(createErrorHandler({ log: () => {} }))
  app.use('/v1/*', requireAuth(gateway.http.services.verifier))
  app.route('/', auditRoutes(gateway.http.services, { liveVerifyBytesMax: 1 }))
  return app
}

describe('GET /v1/audit/verify answered by the runtime self-check', () => {
  test('a check already under way is not the answer: the route waits for a check through the head, and reports what it found', async () => {
    const trader = await t.token({ sub: 'trader-1', roles: ['trader'], accounts: ['demo-1'] })
    const auditor = await t.token({ sub: 'auditor-1', roles: ['auditor'], accounts: [] })
    const audit = t.gateway.audit
    if (audit === null) throw new Error('the gateway runs its audit duty')
    await audit.selfCheck()
    for (let index = 0; index < 5; index++) {
      expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `sc-${index}` }))).status).toBe(202)
    }
    await t.gateway.engine.settled()
    const edited = t.gateway.engine.wal.lastLsn
    editPayloadByte(join(t.dir, 'log'), edited)
    // A periodic check under way when the auditor asks.
    const periodic = audit.selfCheck()
    const body = await json(await selfCheckApp().request('/v1/audit/verify', { headers: auth(auditor) }))
    await periodic
    expect(body.method).toBe('self-check')
    expect(body.runtime).toMatchObject({ verified: false, lastFinding: { code: 'CHAIN_BREAK', lsn: edited } })
  })

  test('a check that could not run (its thread stopped) is 503 AUDIT_SELF_CHECK_FAILED, not a 500', async () => {
    const other = await startTestGateway()
    try {
      const trader = await other.token({ sub: 'trader-1', roles: ['trader'], accounts: ['demo-1'] })
      const auditor = await other.token({ sub: 'auditor-1', roles: ['auditor'], accounts: [] })
      expect((await other.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'sc-stopped' }))).status).toBe(202)
      await other.gateway.engine.settled()
      other.gateway.audit?.stop()
      const res = await selfCheckApp(other).request('/v1/audit/verify', { headers: auth(auditor) })
      const body = await json(res)
      expect(res.status).toBe(503)
      expect(body.error).toMatchObject({ code: 'UNAVAILABLE', details: { reason: 'AUDIT_SELF_CHECK_FAILED' } })
      // The document names it under the route's 503, as a client must handle it.
      const doc = await json(await other.request('/openapi.json'))
      const documented = (doc.paths as Record<string, { get: { responses: Record<string, { description: string }> } }>)['/v1/audit/verify']?.get.responses['503']
      expect(documented?.description).toMatch(/UNAVAILABLE.*AUDIT_SELF_CHECK_FAILED/)
    } finally {
      await other.stop().catch(() => undefined)
    }
  })
})
