/**
 * /explain of an order whose first records compaction removed (src/http/routes/order-log.ts): an order resting across
 * a snapshot has its acceptance compacted away while the kernel still holds it. Its explanation must say that its
 * history begins after records the log no longer holds, not show what is left as the whole story (its first story
 * entry a later record, no acceptance decision, and `ttl` null for an order with a time-to-live).
 */

import { expect, test } from 'bun:test'
import { auth, eventually, json, LIMIT_BUY, post } from './fixture.ts'
import { compactableGateway } from './order-steps.ts'

const gateway = compactableGateway()

test('an order whose acceptance was compacted away: explain says its history is incomplete, and keeps its ttl from the order held', async () => {
  const { t, trader } = gateway
  const wal = t.gateway.engine.wal
  const ttlMs = 3_600_000
  const body = { ...LIMIT_BUY, price: '58000', ttl_ms: ttlMs }
  const placed = await t.request('/v1/orders', post(trader, body, { 'Idempotency-Key': 'explain-compacted-0' }))
  expect(placed.status).toBe(202)
  const orderId = (await json(placed)).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen', 20_000)
  const whole = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
  expect(whole.history_compacted).toBe(false)
  const expiresAtMs = (whole.ttl as { expires_at_ms: number }).expires_at_ms

  const last = t.http.services.logIndex.positionsOf(orderId).at(-1) ?? 0
  const segmentsAfter = (): number => wal.segments.filter((segment) => segment.firstLsn > last).length
  for (let index = 1; index < 400 && segmentsAfter() < 2; index++) {
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `explain-compacted-${index}` }))).status).toBe(202)
  }
  const cut = wal.segments.find((segment) => segment.firstLsn > last)?.firstLsn ?? 0
  expect(wal.removeSegmentsBelow(cut).length).toBeGreaterThan(0)
  // Still held by the kernel, and now with records above the cut: its cancel.
  expect((await t.request(`/v1/orders/${orderId}/cancel`, post(trader, {}))).status).toBe(202)
  await eventually(() => t.http.services.logIndex.positionsOf(orderId).some((lsn) => lsn >= cut), 20_000)

  const check = async (): Promise<void> => {
    const explain = await json(await t.request(`/v1/orders/${orderId}/explain`, { headers: auth(trader) }))
    const story = explain.story as { lsn: number; type: string }[]
    expect(story.every((entry) => entry.lsn >= cut)).toBe(true)
    expect(story.some((entry) => entry.type === 'order.accepted')).toBe(false)
    expect({ compacted: explain.history_compacted, ttl: explain.ttl }).toEqual({ compacted: true, ttl: { ttl_ms: ttlMs, expires_at_ms: expiresAtMs } })
  }
  // Before the index forgets the positions below the cut, and after.
  await check()
  await t.http.services.logIndex.forgetCompacted()
  expect(t.http.services.logIndex.positionsOf(orderId).every((lsn) => lsn >= cut)).toBe(true)
  await check()
}, 60_000)
