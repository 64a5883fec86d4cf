/**
 * ttl_ms on POST /v1/orders (spec 004 §8 "TTL"; src/kernel/ttl.ts): a bad one is refused at the door with its path
 * (VALIDATION_FAILED, nothing recorded); a good one is shown, with its computed expiry, by GET /v1/orders/:id, the
 * list, /explain and the OpenAPI document; the order is canceled when it passes.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { TTL_MS_MAX } from '../../src/domain/schema-kit.ts'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

async function place(key: string, body: Record<string, unknown>): Promise<Response> {
  return t.request('/v1/orders', post(trader, body, { 'Idempotency-Key': key }))
}

describe('ttl_ms on a new order', () => {
  test('a ttl_ms that is not a positive whole number of ms up to 24 h is 400 VALIDATION_FAILED at path ttl_ms, and nothing is recorded; 1 and 24 h are accepted', async () => {
    for (const good of [1, TTL_MS_MAX]) expect((await place(`good-ttl-${good}`, { ...LIMIT_BUY, ttl_ms: good })).status).toBe(202)
    for (const [index, bad] of [0, -5, 1.5, TTL_MS_MAX + 1, '1000', null, true].entries()) {
      const lsn = t.gateway.engine.wal.lastLsn
      const res = await place(`bad-ttl-${index}`, { ...LIMIT_BUY, ttl_ms: bad })
      expect(res.status).toBe(400)
      const body = await json(res)
      expect(errorCode(body)).toBe('VALIDATION_FAILED')
      const issues = (body.error as { details: { issues: { path: string; message: string }[] } }).details.issues
      expect(issues.map((issue) => issue.path)).toEqual(['ttl_ms'])
      expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
    }
  })

  test('an accepted order shows ttl_ms and expires_at_ms in GET, the list and /explain; one without shows null', async () => {
    const res = await place('ttl-shown', { ...LIMIT_BUY, ttl_ms: TTL_MS_MAX })
    expect(res.status).toBe(202)
    const orderId = (await json(res)).order_id as string
    const view = await json(await t.request(`/v1/orders/${orderId}`, { headers: auth(trader) }))
    expect(view.ttl_ms).toBe(TTL_MS_MAX)
    expect(view.expires_at_ms).toBe((view.accepted_at_ms as number) + TTL_MS_MAX)
    const list = await json(await t.request('/v1/orders?account=demo-1', { headers: auth(trader) }))
    expect((list.orders as Record<string, unknown>[]).find((order) => order.order_id === orderId)).toMatchObject({ ttl_ms: TTL_MS_MAX, expires_at_ms: view.expires_at_ms })
    const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
    expect(explain.ttl).toEqual({ ttl_ms: TTL_MS_MAX, expires_at_ms: view.expires_at_ms })
    expect(((explain.story as { summary: string }[])[0] as { summary: string }).summary).toContain(`time-to-live of ${TTL_MS_MAX} ms`)

    const plain = (await json(await place('ttl-none', LIMIT_BUY))).order_id as string
    const plainView = await json(await t.request(`/v1/orders/${plain}`, { headers: auth(trader) }))
    expect([plainView.ttl_ms, plainView.expires_at_ms]).toEqual([null, null])
    expect((await json(await t.request(`/v1/orders/${plain}/explain`, { headers: auth(trader) }))).ttl).toBeNull()
  })

  test('a resting order whose time-to-live passes is canceled, its cancel recorded with TTL_EXPIRED', async () => {
    const orderId = (await json(await place('ttl-short', { ...LIMIT_BUY, ttl_ms: 300 }))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'Canceled', 4_000)
    const events = await json(await t.request(`/v1/orders/${orderId}/events`, { headers: auth(trader) }))
    expect((events.events as { type: string; reason?: string }[]).find((event) => event.type === 'order.cancel_requested' || event.type === 'order.canceled')?.reason).toBe('TTL_EXPIRED')
  })

  test('/openapi.json documents ttl_ms on PlaceOrder and ttl_ms, expires_at_ms on Order', async () => {
    const doc = await json(await t.request('/openapi.json'))
    const schemas = (doc.components as { schemas: Record<string, { properties: Record<string, { type?: unknown; maximum?: number; minimum?: number }> }> }).schemas
    expect(schemas.PlaceOrder?.properties.ttl_ms).toMatchObject({ maximum: TTL_MS_MAX, minimum: 1 })
    expect(Object.keys(schemas.Order?.properties ?? {})).toEqual(expect.arrayContaining(['ttl_ms', 'expires_at_ms']))
  })
})
