/**
 * Every write under /v1 on a node that does not lead (an HA standby, a leader whose lease was taken) is 503 NOT_LEADER
 * naming the leader, before it is read or decided: nothing is written. The routes are taken from /openapi.json, so a
 * write route added later (as the venue override routes were in s38) is held to it without a row of its own.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Hono } from 'hono'
import { createApp } from '../../src/http/app.ts'
import type { AuthEnv } from '../../src/http/auth/index.ts'
import { haHttp } from '../runtime/ha/support.ts'
import { auth, errorCode, json, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let standby: Hono<AuthEnv>
let everyRole = ''

beforeAll(async () => {
  t = await startTestGateway()
  standby = createApp({ ...t.http.services, ha: haHttp({ isLeader: () => false, leaderUrl: () => 'http://leader.example:8080' }) })
  everyRole = await t.token({ sub: 'all', roles: ['trader', 'bot', 'ops', 'auditor', 'admin'], accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

test('every /v1 write a node not leading is asked is 503 NOT_LEADER naming the leader, and nothing is written', async () => {
  const document = await json(await t.request('/openapi.json'))
  const writes = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
    path.startsWith('/v1/') ? Object.keys(operations).filter((method) => method !== 'get').map((method) => ({ method: method.toUpperCase(), path })) : [],
  )
  expect(writes.map(({ path }) => path)).toContain('/v1/admin/venues/{venue}/override/approve')
  const before = t.gateway.engine.wal.lastLsn
  const answers: string[] = []
  for (const { method, path } of writes) {
    const url = path.replace('{id}', 'demo-1').replace('{venue}', 'sim')
    const response = await standby.request(url, { method, headers: auth(everyRole, { 'Content-Type': 'application/json', 'Idempotency-Key': 'standby' }), body: '{}' })
    const body = await json(response)
    answers.push(`${method} ${path} ${response.status} ${errorCode(body)} ${JSON.stringify((body.error as { details: unknown }).details)}`)
  }
  expect(answers).toEqual(writes.map(({ method, path }) => `${method} ${path} 503 NOT_LEADER {"leader":"http://leader.example:8080"}`))
  expect(t.gateway.engine.wal.lastLsn).toBe(before)
})
