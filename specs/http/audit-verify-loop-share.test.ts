/**
 * A full verification (GET /v1/audit/verify) holds the event loop while it scans a segment (~0.7 s for 64 MiB) and
 * costs its caller one read of a 200/s budget: an auditor's or admin's loop of them, back to back, held the gateway's
 * loop nearly all the time, every order's answer waiting behind it (a log of 48 MB: 330–740 ms a run, no timer turned
 * meanwhile, run after run). Full runs now share the loop within a time budget (routes/audit.ts VerifyTime): past it,
 * 429 RATE_LIMITED with scope audit_verify and Retry-After; callers joining a run under way share it.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Hono } from 'hono'
import { requireAuth, type AuthEnv } from '../../src/http/auth/index.ts'
import { createErrorHandler } from '../../src/http/errors.ts'
import { auditRoutes, VERIFY_LOOP_SHARE, VERIFY_MS_BURST_DEFAULT } from '../../src/http/routes/audit.ts'
import { auth, errorCode, json, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let auditor: string

beforeAll(async () => {
  t = await startTestGateway()
  auditor = await t.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
})
afterAll(async () => t.stop())

/** The audit routes alone with another time budget, behind the same auth and error handling as the app. */
function budgetApp(verifyMsBurst: number): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  app.onError(createErrorHandler({ log: () => {} }))
  app.use('/v1/*', requireAuth(t.http.services.verifier))
  app.route('/', auditRoutes(t.http.services, { verifyMsBurst }))
  return app
}

/** Grows the log by about `bytes` (fundings with long references: what a busy day's records add up to). */
async function growLog(bytes: number): Promise<void> {
  const reference = 'r'.repeat(8_000)
  let last: Promise<unknown> = Promise.resolve()
  for (let index = 0; index < bytes / 8_000; index++) {
    last = t.gateway.engine.submit({ kind: 'fund', nowMs: t.gateway.clock.nowMs(), principalId: 'spec', accountId: 'demo-2', asset: 'USD', amount: 1n, reference: `${index}${reference}` })
  }
  await last
}

describe('GET /v1/audit/verify back to back', () => {
  test('a run past the time budget is 429 RATE_LIMITED (scope audit_verify, Retry-After); concurrent callers share one run', async () => {
    // A log whose full run takes well past the 1 ms burst, whatever the machine: on a near-empty log a run could end
    // within it, and the third call was still admitted (CI).
    await growLog(2 * 1024 * 1024)
    const app = budgetApp(1)
    // The token verified once (the verifier's cache): both requests below reach the route in the order sent.
    expect((await t.request('/v1/auto_stop', { headers: auth(auditor) })).status).toBe(200)
    const [first, second] = await Promise.all([1, 2].map(() => app.request('/v1/audit/verify', { headers: auth(auditor) })))
    expect([first?.status, second?.status]).toEqual([200, 200])
    const refused = await app.request('/v1/audit/verify', { headers: auth(auditor) })
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1)
    const body = await json(refused)
    expect(errorCode(body)).toBe('RATE_LIMITED')
    expect((body.error as { details: unknown }).details).toMatchObject({ scope: 'audit_verify' })
  })

  test('one auditor looping over a 16 MB log holds the event loop for no more than the burst and its share', async () => {
    await growLog(16 * 1024 * 1024)
    const startedMs = performance.now()
    let verifyingMs = 0
    let refusals = 0
    while (performance.now() - startedMs < 6_000 && refusals === 0) {
      const callMs = performance.now()
      const response = await t.request('/v1/audit/verify', { headers: auth(auditor) })
      if (response.status === 429) refusals++
      else expect(response.status).toBe(200)
      await response.arrayBuffer()
      if (response.status === 200) verifyingMs += performance.now() - callMs
    }
    // Refused before 6 s had passed, and the runs before took at most the burst and the share of the time passing
    // (and the one run that spent the rest).
    expect(refusals).toBe(1)
    const elapsedMs = performance.now() - startedMs
    expect(verifyingMs).toBeLessThan(VERIFY_MS_BURST_DEFAULT + VERIFY_LOOP_SHARE * elapsedMs + 1_000)
  }, 30_000)
})
