/**
 * An order held in its lane by a kill switch has nothing in the log to say why it is not sent (a held item is never
 * picked, so no send is decided). `/explain` says it from the state: `held` names the switch, the work held and the
 * reason code; null once nothing holds it. Since a switch ends the places and amends waiting as it engages (on record,
 * src/kernel/kill-switch.ts), what it still holds is flatten's closes under CANCEL_ONLY (and work a log of an older build
 * left held).
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
  test("a flatten close accepted under CANCEL_ONLY is held and says so; a place or amend waiting when a switch engages is ended, on record", async () => {
    // The executor is paused so the order is still queued when HALT lands (accepted, not yet sent).
    t.gateway.executor.stop()
    const placed = await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'held-1' })))
    const queued = placed.order_id as string
    expect((await t.request('/v1/admin/halt', post(ops, {}))).status).toBe(200)
    t.gateway.executor.start()
    expect(t.gateway.engine.state.orders.get(queued)).toMatchObject({ status: 'Canceled', lastReason: 'KILL_SWITCH_HALT' })
    expect(await explainHeld(queued)).toBeNull()
    expect((await t.request('/v1/admin/resume', post(ops, {}))).status).toBe(200)

    const rested = (await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'held-2' })))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(rested)?.status === 'AckedOpen')
    t.gateway.executor.stop()
    expect((await t.request(`/v1/orders/${rested}/amend`, post(trader, { price: '58000' }))).status).toBe(202)
    expect((await t.request('/v1/admin/cancel-only', post(ops, {}))).status).toBe(200)
    // The amend is not held but failed by the switch (src/kernel/kill-switch.ts): its events and story say why, and the
    // order stands at its old price.
    expect(await explainHeld(rested)).toBeNull()
    const events = (await json(await t.request(`/v1/orders/${rested}/events`, { headers: auth(trader) }))).events as Record<string, unknown>[]
    expect(events.find((event) => event.type === 'order.amend_failed')).toMatchObject({ amendId: 1, reason: 'KILL_SWITCH_CANCEL_ONLY' })
    const explain = await json(await t.request(`/v1/orders/${rested}/explain`, { headers: auth(trader) }))
    const story = explain.story as { type: string; summary: string }[]
    expect(story.find((entry) => entry.type === 'order.amend_failed')?.summary).toStartWith('amend #1 failed (KILL_SWITCH_CANCEL_ONLY)')
    expect(t.gateway.engine.state.orders.get(rested)).toMatchObject({ status: 'AckedOpen', price: parseDecimal(LIMIT_BUY.price), amend: { stage: 'failed' } })

    // Flatten's closes are accepted under CANCEL_ONLY and held until RESUME: the one thing a switch still holds.
    expect((await t.request('/v1/accounts/demo-1/flatten', post(ops, {}))).status).toBe(202)
    t.gateway.executor.start()
    const close = [...t.gateway.engine.state.orders.values()].find((order) => order.flattenId !== null && order.symbol === 'BTC-USD')
    expect(close?.status).toBe('Enqueued')
    expect(await explainHeld(close?.orderId ?? '')).toEqual({ action: 'place', reason: 'KILL_SWITCH_CANCEL_ONLY', held_by: 'trading_switch', trading_switch: 'cancel_only', account_switch: 'normal', description: expect.any(String) })
    expect((await t.request('/v1/admin/resume', post(ops, {}))).status).toBe(200)
    await eventually(() => t.gateway.engine.state.orders.get(close?.orderId ?? '')?.status !== 'Enqueued')
    expect(await explainHeld(close?.orderId ?? '')).toBeNull()
  })
})
