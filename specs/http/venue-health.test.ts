/**
 * Venue health over HTTP (src/http/routes/venue-health.ts): the ops read, /health and /metrics showing each venue's
 * recorded level, a place to a CRITICAL venue rejected at its send with VENUE_HEALTH_CRITICAL and an explanation naming
 * the record that set the level, and the emergency override's routes: roles, two distinct admins, and bad input
 * refused with a typed error and nothing recorded.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let ops: string
let auditor: string
let admin: string
let admin2: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  auditor = await t.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  admin = await t.token({ sub: 'adam', roles: ['admin'], accounts: [] })
  admin2 = await t.token({ sub: 'bea', roles: ['admin'], accounts: [] })
})
afterAll(async () => t.stop())

async function venues(token: string): Promise<Record<string, unknown>[]> {
  const res = await t.request('/v1/venue_health', { headers: auth(token) })
  expect(res.status).toBe(200)
  return (await json(res)).venues as Record<string, unknown>[]
}

async function recordLevel(level: 'OK' | 'CRITICAL'): Promise<number> {
  const committed = await t.gateway.engine.submit({ kind: 'venue_health', nowMs: t.gateway.clock.nowMs(), venue: 'sim', level, score: level === 'OK' ? 100 : 5, detail: 'from the spec' })
  return committed.lsns.at(-1) as number
}

describe('venue health over HTTP', () => {
  test('the read is for ops, admin and auditor; a trader gets 403', async () => {
    expect((await t.request('/v1/venue_health', { headers: auth(trader) })).status).toBe(403)
    for (const token of [ops, admin, auditor]) expect((await venues(token)).find((item) => item.venue === 'sim')).toMatchObject({ level: 'OK', lsn: null, override: null })
  })

  test('a CRITICAL venue shows in /health and /metrics (venue labels only), and a place to it is rejected at its send, explained', async () => {
    const lsn = await recordLevel('CRITICAL')
    const health = await json(await t.request('/health'))
    expect(health.venues).toEqual({ sim: 'CRITICAL' })
    const metrics = await (await t.request('/metrics')).text()
    expect(metrics).toContain('egress_venue_health_level{venue="sim"} 2')
    expect(metrics.split('\n').filter((line) => line.startsWith('egress_venue_')).every((line) => !/order|account/.test(line))).toBe(true)
    expect((await venues(ops)).find((item) => item.venue === 'sim')).toMatchObject({ level: 'CRITICAL', lsn })

    const placed = await json(await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'vh-1' })))
    const orderId = placed.order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'Rejected')
    expect(t.gateway.engine.state.orders.get(orderId)?.lastReason).toBe('VENUE_HEALTH_CRITICAL')
    // The explanation reads the log's index, which follows the durable records (it may trail the state by a batch).
    let blocked: { type: string; summary: string } | undefined
    for (let attempt = 0; attempt < 100 && blocked === undefined; attempt++) {
      const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
      blocked = (explain.story as { type: string; summary: string }[]).find((entry) => entry.type === 'order.send_blocked')
      if (blocked === undefined) await Bun.sleep(10)
    }
    expect(blocked?.summary).toContain('VENUE_HEALTH_CRITICAL')
    expect(blocked?.summary).toContain(`venue sim CRITICAL since venue.health_changed at LSN ${lsn}`)
  })

  test('bad override input is a typed 400 (or 403/404) and records nothing', async () => {
    const before = t.gateway.engine.wal.lastLsn
    const path = '/v1/admin/venues/sim/override'
    const refusals: [string, RequestInit, number, string][] = [
      [path, post(admin, { duration_ms: 60_000 }), 400, 'VALIDATION_FAILED'],
      [path, post(admin, { reason: '   ', duration_ms: 60_000 }), 400, 'VALIDATION_FAILED'],
      [path, post(admin, { reason: 'r', duration_ms: 999 }), 400, 'VALIDATION_FAILED'],
      [path, post(admin, { reason: 'r', duration_ms: 3_600_001 }), 400, 'VALIDATION_FAILED'],
      [path, post(admin, { reason: 'r', duration_ms: 60_000, scope: 'most' }), 400, 'VALIDATION_FAILED'],
      [path, post(admin, { reason: 'r', duration_ms: 60_000, extra: 1 }), 400, 'VALIDATION_FAILED'],
      [path, post(ops, { reason: 'r', duration_ms: 60_000 }), 403, 'FORBIDDEN'],
      [path, post(trader, { reason: 'r', duration_ms: 60_000 }), 403, 'FORBIDDEN'],
      ['/v1/admin/venues/nowhere/override', post(admin, { reason: 'r', duration_ms: 60_000 }), 404, 'VENUE_UNKNOWN'],
      [`${path}/approve`, post(admin, {}), 400, 'VALIDATION_FAILED'],
      [`${path}/approve`, post(admin, { override_id: 'sim#9' }), 409, 'OVERRIDE_NOT_PENDING'],
      [`${path}/revoke`, post(trader, {}), 403, 'FORBIDDEN'],
      [`${path}/revoke`, post(ops, {}), 404, 'OVERRIDE_NOT_FOUND'],
    ]
    for (const [url, init, status, code] of refusals) {
      const res = await t.request(url, init)
      expect([url, init.body, res.status, errorCode(await json(res))]).toEqual([url, init.body, status, code])
    }
    expect(t.gateway.engine.wal.lastLsn).toBe(before)
    expect(t.gateway.engine.state.venueHealth.get('sim')?.override).toBeNull()
  })

  test("/openapi.json marks a body required exactly where the override routes require one (revoke's is optional)", async () => {
    const paths = (await json(await t.request('/openapi.json'))).paths as Record<string, { post: { requestBody: { required: boolean } } }>
    const required = (path: string): boolean => paths[`/v1/admin/venues/{venue}/override${path}`]?.post.requestBody.required ?? false
    expect({ propose: required(''), approve: required('/approve'), revoke: required('/revoke') }).toEqual({ propose: true, approve: true, revoke: false })
    // What the document says, the routes do: no body is MALFORMED_REQUEST where one is required, and read as {} on revoke.
    const noBody = (path: string, token: string): Promise<Response> => t.request(`/v1/admin/venues/sim/override${path}`, { method: 'POST', headers: auth(token) })
    expect(errorCode(await json(await noBody('', admin)))).toBe('MALFORMED_REQUEST')
    expect(errorCode(await json(await noBody('/approve', admin)))).toBe('MALFORMED_REQUEST')
    expect(errorCode(await json(await noBody('/revoke', ops)))).toBe('OVERRIDE_NOT_FOUND')
  })

  test('an override takes two distinct admins; once in force places are sent; ops revokes it', async () => {
    const proposed = await t.request('/v1/admin/venues/sim/override', post(admin, { reason: 'venue confirmed its timeouts are a monitoring bug', duration_ms: 600_000, scope: 'all' }))
    expect(proposed.status).toBe(200)
    expect((await json(proposed)).override).toMatchObject({ override_id: 'sim#1', status: 'pending_approval', proposed_by: 'adam', approved_by: null })
    const self = await t.request('/v1/admin/venues/sim/override/approve', post(admin, { override_id: 'sim#1' }))
    expect([self.status, errorCode(await json(self))]).toEqual([403, 'OVERRIDE_SELF_APPROVAL'])
    const approved = await t.request('/v1/admin/venues/sim/override/approve', post(admin2, { override_id: 'sim#1' }))
    expect(approved.status).toBe(200)
    expect((await json(approved)).override).toMatchObject({ status: 'in_force', approved_by: 'bea', scope: 'all' })
    expect(await (await t.request('/metrics')).text()).toContain('egress_venue_override_in_force{venue="sim"} 1')

    const placed = await json(await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'vh-2' })))
    await eventually(() => t.gateway.engine.state.orders.get(placed.order_id as string)?.status === 'AckedOpen')

    const revoked = await t.request('/v1/admin/venues/sim/override/revoke', post(ops, { note: 'venue fixed' }))
    expect(revoked.status).toBe(200)
    expect((await json(revoked)).override).toBeNull()
    await recordLevel('OK')
  })
})
