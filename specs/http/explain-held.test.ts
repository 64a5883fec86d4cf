/**
 * An order or amend accepted before a kill switch and held in its lane by it has nothing in the log to say why it is
 * not sent (a held item is never picked, so no send is decided). `/explain` says it from the state: `held` names the
 * switch, the work held and the reason code; null once nothing holds it. An amend waiting when the switch engages is not
 * held: the switch fails it, on record.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let ops: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
})
afterAll(async () => t.stop())

async function explainHeld(orderId: string): Promise<unknown> {
  return (await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))).held
}

describe('/v1/orders/:id/explain names the kill switch holding the order', () => {
  test('a place queued before HALT is held; an amend queued before CANCEL_ONLY fails, and the order says why', async () => {
    // The executor is paused so the order is still queued when HALT lands (accepted, not yet sent).
    t.gateway.executor.stop()
    const placed = await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'held-1' })))
    const orderId = placed.order_id as string
    expect((await t.request('/v1/admin/halt', post(ops, {}))).status).toBe(200)
    t.gateway.executor.start()
    expect(t.gateway.engine.state.orders.get(orderId)?.status).toBe('Enqueued')
    expect(await explainHeld(orderId)).toEqual({ action: 'place', reason: 'KILL_SWITCH_HALT', trading_switch: 'halted', description: expect.any(String) })

    expect((await t.request('/v1/admin/resume', post(ops, {}))).status).toBe(200)
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    expect(await explainHeld(orderId)).toBeNull()

    t.gateway.executor.stop()
    expect((await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '58000' }))).status).toBe(202)
    expect((await t.request('/v1/admin/cancel-only', post(ops, {}))).status).toBe(200)
    t.gateway.executor.start()
    // An amend waiting when a switch engages is not held but failed by it (src/kernel/kill-switch.ts): nothing holds the
    // order, its events and its story say why the amend did not happen, and the order stands at its old price.
    expect(await explainHeld(orderId)).toBeNull()
    const events = (await json(await t.request(`/v1/orders/${orderId}/events`, { headers: auth(trader) }))).events as Record<string, unknown>[]
    expect(events.find((event) => event.type === 'order.amend_failed')).toMatchObject({ amendId: 1, reason: 'KILL_SWITCH_CANCEL_ONLY' })
    const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
    const story = explain.story as { type: string; summary: string }[]
    expect(story.find((entry) => entry.type === 'order.amend_failed')?.summary).toStartWith('amend #1 failed (KILL_SWITCH_CANCEL_ONLY)')
    expect((await t.request('/v1/admin/resume', post(ops, {}))).status).toBe(200)
    expect(t.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'AckedOpen', price: parseDecimal(LIMIT_BUY.price), amend: { stage: 'failed' } })
  })
})
