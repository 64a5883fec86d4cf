/**
 * Config auth.protectServiceRoutes (src/http/auth/service-routes.ts), through app.request: off (the default), /health,
 * /metrics and /openapi.json answer anyone as before; on, /metrics takes an ops, auditor or admin token or the scrape
 * token, /openapi.json any valid token, and /health answers a caller without a token its summary only (same status),
 * the details to a service reader. Refusals are the one error shape: 401 UNAUTHENTICATED, 403 FORBIDDEN.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hono } from 'hono'
import { createApp } from '../../src/http/app.ts'
import { openScrapeTokenFile, type AuthEnv } from '../../src/http/auth/index.ts'
import { openApiDocument } from '../../src/http/index.ts'
import type { Services } from '../../src/http/services.ts'
import { auth, errorCode, json, startTestGateway, type TestGateway } from './fixture.ts'
import { documentedAnswers } from './openapi-departures.ts'

type Json = Record<string, unknown>

const SCRAPE_TOKEN = 'scrape-token-0123456789-abcdefghijklmnopqrstuvwxyz'
/** Same length as the scrape token, one character off: the compare must refuse it, not throw or admit. */
const WRONG_SCRAPE_TOKEN = `${SCRAPE_TOKEN.slice(0, -1)}Z`

let t: TestGateway
let dir: string
let open: Hono<AuthEnv>
let guarded: Hono<AuthEnv>
let guardedServices: Services
let ops: string
let auditor: string
let admin: string
let trader: string

beforeAll(async () => {
  t = await startTestGateway()
  dir = mkdtempSync(join(tmpdir(), 'egress-scrape-'))
  const path = join(dir, 'scrape.token')
  writeFileSync(path, `${SCRAPE_TOKEN}\n`)
  open = t.http.app
  guardedServices = { ...t.http.services, serviceRoutes: { scrapeToken: openScrapeTokenFile(path, { reloadMs: 60_000, log: () => {} }) } }
  guarded = createApp(guardedServices)
  ops = await t.token({ sub: 'oscar', roles: ['ops'], accounts: [] })
  auditor = await t.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  admin = await t.token({ sub: 'ada', roles: ['admin'], accounts: [] })
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
})
afterAll(async () => {
  await t.stop()
  rmSync(dir, { recursive: true, force: true })
})

const get = (app: Hono<AuthEnv>, path: string, token?: string): Promise<Response> =>
  Promise.resolve(app.request(path, token === undefined ? {} : { headers: auth(token) }))

async function refusal(response: Response): Promise<{ status: number; code: string; reason: unknown }> {
  const body = await json(response)
  return { status: response.status, code: errorCode(body), reason: ((body.error as Json).details as Json).reason }
}

describe('off (the default): the service routes answer anyone, as before', () => {
  test('/metrics, /openapi.json and /health with its details need no token', async () => {
    expect((await get(open, '/metrics')).status).toBe(200)
    expect((await get(open, '/openapi.json')).status).toBe(200)
    const health = await json(await get(open, '/health'))
    expect(health.config_digest).toBe(t.http.services.configDigest)
    expect(Object.keys(health.venues as Json)).toContain('sim')
  })
})

describe('on: /metrics', () => {
  test('no token: 401 UNAUTHENTICATED, reason missing, with a Bearer challenge', async () => {
    const response = await get(guarded, '/metrics')
    expect(response.headers.get('WWW-Authenticate')).toBe('Bearer')
    expect(await refusal(response)).toEqual({ status: 401, code: 'UNAUTHENTICATED', reason: 'missing' })
  })

  test('a trader token: 403 FORBIDDEN naming the roles that may read it', async () => {
    const response = await get(guarded, '/metrics', trader)
    const body = await json(response)
    expect({ status: response.status, code: errorCode(body) }).toEqual({ status: 403, code: 'FORBIDDEN' })
    expect((body.error as Json).details).toEqual({ requiredRoles: ['ops', 'auditor', 'admin'] })
  })

  test('an ops, auditor or admin token: 200 with the metrics', async () => {
    for (const token of [ops, auditor, admin]) {
      const response = await get(guarded, '/metrics', token)
      expect(response.status).toBe(200)
      expect(await response.text()).toContain('egress_http_requests_total')
    }
  })

  test('the scrape token: 200; a wrong bearer of the same length, or of another length: 401', async () => {
    expect((await get(guarded, '/metrics', SCRAPE_TOKEN)).status).toBe(200)
    expect(await refusal(await get(guarded, '/metrics', WRONG_SCRAPE_TOKEN))).toEqual({ status: 401, code: 'UNAUTHENTICATED', reason: 'malformed' })
    expect((await get(guarded, '/metrics', 'short')).status).toBe(401)
    expect((await get(guarded, '/metrics', `${SCRAPE_TOKEN}x`)).status).toBe(401)
  })

  test('a JWT with a forged signature: 401 with the verifier reason', async () => {
    const forged = `${ops.slice(0, -4)}AAAA`
    expect(await refusal(await get(guarded, '/metrics', forged))).toEqual({ status: 401, code: 'UNAUTHENTICATED', reason: 'bad_signature' })
  })
})

describe('on: /openapi.json', () => {
  test('no token 401; any valid token, a trader one too, 200; the scrape token (not a JWT) 401', async () => {
    expect(await refusal(await get(guarded, '/openapi.json'))).toEqual({ status: 401, code: 'UNAUTHENTICATED', reason: 'missing' })
    expect((await get(guarded, '/openapi.json', trader)).status).toBe(200)
    expect((await get(guarded, '/openapi.json', SCRAPE_TOKEN)).status).toBe(401)
  })

  test('the document says so: /metrics takes a bearer or the scrape token, /health may be asked without one', async () => {
    const doc = (await json(await get(guarded, '/openapi.json', ops))) as { paths: Record<string, { get: { security: unknown[] } }> }
    expect(doc.paths['/metrics']!.get.security).toEqual([{ bearer: [] }, { scrapeToken: [] }])
    expect(doc.paths['/health']!.get.security).toEqual([{}, { bearer: [] }, { scrapeToken: [] }])
    expect(doc.paths['/openapi.json']!.get.security).toEqual([{ bearer: [] }])
    expect(doc.paths['/health/live']!.get.security).toEqual([])
  })
})

describe('on: /health', () => {
  test('no token: the summary only (live, ready, draining, role), nothing about venues, config or the log', async () => {
    const response = await get(guarded, '/health')
    const body = await json(response)
    expect(response.status).toBe(200)
    expect(body).toEqual({ live: true, ready: true, draining: false, role: 'leader' })
    const document = openApiDocument({ version: 'spec', replication: false, serviceRoutes: { scrapeToken: true } })
    const { answerSchema, departures } = documentedAnswers(document)
    expect(departures(answerSchema('GET', '/health', '200'), body, 'answer')).toEqual([])
  })

  test('the summary keeps the status a load balancer decides by: 503 while draining', async () => {
    const draining = createApp({ ...guardedServices, draining: () => true })
    const response = await get(draining, '/health')
    expect(response.status).toBe(503)
    expect(await json(response)).toEqual({ live: true, ready: false, draining: true, role: 'leader' })
  })

  test('an ops token or the scrape token: the full body, config digest and venues included', async () => {
    for (const token of [ops, SCRAPE_TOKEN]) {
      const response = await get(guarded, '/health', token)
      const body = await json(response)
      expect(response.status).toBe(200)
      expect(body.config_digest).toBe(t.http.services.configDigest)
      expect(Object.keys(body.venues as Json)).toContain('sim')
      expect((body.log as Json).last_lsn).toBeGreaterThan(0)
    }
  })

  test('a header that does not admit is refused, not answered the summary: trader 403, wrong bearer 401', async () => {
    expect((await get(guarded, '/health', trader)).status).toBe(403)
    expect(await refusal(await get(guarded, '/health', WRONG_SCRAPE_TOKEN))).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' })
  })

  test('/health/live stays open', async () => {
    const response = await get(guarded, '/health/live')
    expect({ status: response.status, body: await json(response) }).toEqual({ status: 200, body: { live: true } })
  })
})
