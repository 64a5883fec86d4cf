/**
 * /health's error texts name files of the data dir: the log's fatal error its segment files, a failed read of the free
 * space the data dir. With auth.protectServiceRoutes off (the default) /health answers anyone, and it showed them the
 * texts as they were; now a caller without a service reader's token (ops, auditor, admin) gets the stable code alone
 * (`log.error` WAL_FATAL, FSYNC_FAILED, …; `disk.error` FREE_SPACE_UNREADABLE), a service reader the full text. A bad
 * or refused token is not a 401 here (the route is open): it is answered as no token is. Protected, nothing changes:
 * the summary without a token, the full body to a service reader.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Hono } from 'hono'
import { createApp } from '../../src/http/app.ts'
import type { AuthEnv } from '../../src/http/auth/index.ts'
import { auth, json, startTestGateway, type TestGateway } from './fixture.ts'

const SEGMENT = '/srv/egress/data/wal/00000000000000000001.seg'

let t: TestGateway
let guarded: Hono<AuthEnv>
let diskError: Error | null = null

beforeAll(async () => {
  t = await startTestGateway({
    readFreeBytes: async () => {
      if (diskError !== null) throw diskError
      return 1 << 30
    },
  })
  guarded = createApp({ ...t.http.services, serviceRoutes: { scrapeToken: null } })
  t.gateway.engine.wal.halt(`fsync of ${SEGMENT} failed (EIO)`, new Error('EIO'))
  await t.http.services.disk.refresh() // the read the service began at its start
  diskError = new Error("ENOENT: no such file or directory, statfs '/srv/egress/data'")
  await t.http.services.disk.refresh()
})
afterAll(async () => t.stop())

type Health = { ready: boolean; log?: { error: string | null }; disk?: { error: string | null } }

async function health(app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> }, token?: string): Promise<{ status: number; body: Health }> {
  const response = await app.request('/health', token === undefined ? {} : { headers: auth(token) })
  return { status: response.status, body: (await json(response)) as unknown as Health }
}

test('open: without a token, the stable codes alone; the text names no file', async () => {
  const { status, body } = await health(t.http.app)
  expect(status).toBe(503)
  expect(body.ready).toBe(false)
  expect(body.log?.error).toBe('WAL_FATAL')
  expect(body.disk?.error).toBe('FREE_SPACE_UNREADABLE')
  expect(JSON.stringify(body)).not.toContain('/srv/egress')
})

test('open: a trader token, a bad token and a token of another key are answered as no token is (no 401)', async () => {
  const trader = await t.token({ roles: ['trader'], accounts: ['demo-1'] })
  for (const token of [trader, 'not-a-token', `${trader.slice(0, -2)}xx`]) {
    const { status, body } = await health(t.http.app, token)
    expect(status).toBe(503)
    expect(body.log?.error).toBe('WAL_FATAL')
    expect(body.disk?.error).toBe('FREE_SPACE_UNREADABLE')
  }
})

test('open: an ops, auditor or admin token sees the full texts', async () => {
  for (const role of ['ops', 'auditor', 'admin'] as const) {
    const token = await t.token({ sub: `reader-${role}`, roles: [role], accounts: [] })
    const { body } = await health(t.http.app, token)
    expect(body.log?.error).toContain(SEGMENT)
    expect(body.disk?.error).toBe("ENOENT: no such file or directory, statfs '/srv/egress/data'")
  }
})

test('protected: the summary without a token, the full texts to a service reader', async () => {
  const { body: summary } = await health(guarded)
  expect(summary).toEqual({ live: true, ready: false, draining: false, role: 'leader' } as unknown as Health)
  const ops = await t.token({ sub: 'oscar', roles: ['ops'], accounts: [] })
  expect((await health(guarded, ops)).body.log?.error).toContain(SEGMENT)
})
