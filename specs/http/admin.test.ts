import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let ops: string
let auditor: string
let admin: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  auditor = await t.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  admin = await t.token({ sub: 'adam', roles: ['admin'], accounts: [] })
})
afterAll(async () => t.stop())

describe('POST /v1/admin/mode', () => {
  test('admin changes the mode; ops, trader and auditor get 403', async () => {
    for (const token of [ops, trader, auditor]) {
      const res = await t.request('/v1/admin/mode', post(token, { mode: 'shadow' }))
      expect(res.status).toBe(403)
    }
    const res = await t.request('/v1/admin/mode', post(admin, { mode: 'shadow', note: 'drill' }))
    expect(res.status).toBe(200)
    expect((await json(res)).mode).toBe('shadow')
    expect(t.gateway.engine.state.mode).toBe('shadow')
    expect((await t.request('/v1/admin/mode', post(admin, { mode: 'paper' }))).status).toBe(200)
  })

  test('an unknown mode or field is 400 with the path', async () => {
    const res = await t.request('/v1/admin/mode', post(admin, { mode: 'turbo' }))
    expect(res.status).toBe(400)
    const body = await json(res)
    expect((body.error as { details: { issues: { path: string }[] } }).details.issues[0]?.path).toBe('mode')
    expect((await t.request('/v1/admin/mode', post(admin, { mode: 'paper', extra: 1 }))).status).toBe(400)
  })
})

describe('kill switches', () => {
  test('HALT sheds new orders (503 MODE_HALTED) while cancels still pass; RESUME reopens', async () => {
    const placed = await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'pre-halt' })))
    const orderId = placed.order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    expect((await t.request('/v1/admin/halt', post(trader, {}))).status).toBe(403)
    expect((await t.request('/v1/admin/halt', post(auditor, {}))).status).toBe(403)
    const halt = await t.request('/v1/admin/halt', post(ops, { note: 'drill' }))
    expect(halt.status).toBe(200)
    expect((await json(halt)).trading_switch).toBe('halted')
    const refused = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'during-halt' }))
    expect(refused.status).toBe(503)
    expect(errorCode(await json(refused))).toBe('MODE_HALTED')
    expect((await t.request(`/v1/orders/${orderId}/cancel`, post(trader, ''))).status).toBe(202)
    const cancelOnly = await t.request('/v1/admin/cancel-only', { method: 'POST', headers: auth(admin) })
    expect((await json(cancelOnly)).trading_switch).toBe('cancel_only')
    const resume = await t.request('/v1/admin/resume', post(ops, {}))
    expect((await json(resume)).trading_switch).toBe('normal')
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'after-halt' }))).status).toBe(202)
  })
})

describe('POST /v1/accounts/:id/flatten', () => {
  test('the account trader or ops flatten; another trader 403; an unknown account 404', async () => {
    const other = await t.token({ sub: 'bob', accounts: ['demo-2'] })
    expect((await t.request('/v1/accounts/demo-1/flatten', post(other, ''))).status).toBe(403)
    expect((await t.request('/v1/accounts/demo-1/flatten', post(auditor, ''))).status).toBe(403)
    const res = await t.request('/v1/accounts/demo-1/flatten', post(trader, '', { 'Idempotency-Key': 'flat-1' }))
    expect(res.status).toBe(202)
    expect((await json(res)).flatten_id).toBe('flat-1')
    expect((await t.request('/v1/accounts/demo-1/flatten', post(ops, ''))).status).toBe(202)
    expect((await t.request('/v1/accounts/nobody/flatten', post(ops, ''))).status).toBe(404)
  })
})

describe('health, metrics, openapi, unknown routes', () => {
  test('/health reports readiness, role and log position without a token', async () => {
    const res = await t.request('/health')
    expect(res.status).toBe(200)
    const body = await json(res)
    expect(body.ready).toBe(true)
    expect(body.role).toBe('leader')
    expect((body.log as { last_lsn: number }).last_lsn).toBe(t.gateway.engine.wal.lastLsn)
    expect((await t.request('/health/live')).status).toBe(200)
  })

  test('/metrics is Prometheus text with the order-path metrics and no ids in labels', async () => {
    await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'metrics-1' }))
    const res = await t.request('/metrics')
    expect(res.headers.get('Content-Type')).toContain('text/plain')
    const text = await res.text()
    for (const name of [
      'egress_order_ack_latency_seconds_bucket',
      'egress_order_accept_to_sent_seconds',
      'egress_order_sent_to_venue_ack_seconds',
      'egress_order_accept_to_first_fill_seconds',
      'egress_wal_batch_records',
      'egress_lane_depth{lane="0"}',
      'egress_orders_unknown',
      'egress_sse_subscribers',
      'egress_order_rejects_total',
    ]) {
      expect(text).toContain(name)
    }
    for (const order of t.gateway.engine.state.orders.keys()) expect(text).not.toContain(order)
    expect(text).not.toContain('demo-1')
    // The idempotency keys held and their cap (src/kernel/key-window.ts), read from the state at scrape time.
    expect(text).toContain(`egress_idempotency_keys_held ${t.gateway.engine.state.idempotency.size}\n`)
    expect(t.gateway.engine.state.idempotency.size).toBeGreaterThan(0)
    expect(text).toContain(`egress_idempotency_keys_held_max ${t.gateway.engine.state.config?.params.idempotencyKeysHeldMax}\n`)
  })

  test('/openapi.json describes the routes with the valibot-derived order schema', async () => {
    const doc = await json(await t.request('/openapi.json'))
    expect(doc.openapi).toBe('3.1.0')
    const paths = Object.keys(doc.paths as object)
    for (const path of ['/v1/orders', '/v1/orders/{id}/cancel', '/v1/orders/{id}/events', '/v1/orders/{id}/explain', '/v1/accounts/{id}/flatten', '/v1/admin/mode', '/health', '/metrics']) {
      expect(paths).toContain(path)
    }
    const place = (doc.components as { schemas: { PlaceOrder: { required: string[]; additionalProperties: boolean } } }).schemas.PlaceOrder
    expect(place.required).toEqual(['account', 'symbol', 'side', 'type', 'qty'])
    expect(place.additionalProperties).toBe(false)
  })

  test('an unknown route is 404 in the one error shape', async () => {
    const res = await t.request('/v2/nothing')
    expect(res.status).toBe(404)
    expect(errorCode(await json(res))).toBe('NOT_FOUND')
  })
})
