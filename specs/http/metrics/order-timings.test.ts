/**
 * The order-path latency histograms keep a start time per order until the order's first fill or end, at most
 * `trackedOrdersMax` of them. An order that ends without its end being seen would hold its slot for good: enough of
 * them and no new order is timed, so every order-path histogram goes flat while orders still flow. Such an order is
 * also a reject by the kernel, and counted as one.
 */

import { afterEach, expect, test } from 'bun:test'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from '../fixture.ts'
import { parseExposition } from './exposition.ts'

let t: TestGateway | null = null
afterEach(async () => {
  await t?.stop()
  t = null
})

function sampleOf(metrics: GatewayMetrics, name: string): number | undefined {
  const exposition = parseExposition(metrics.render())
  expect(exposition.problems).toEqual([])
  for (const family of exposition.families.values()) {
    const sample = family.samples.find((candidate) => candidate.name === name)
    if (sample !== undefined) return sample.value
  }
  return undefined
}

test('an order rejected at send (a blocked place) gives back its timing slot: the next order is still timed', async () => {
  t = await startTestGateway()
  const gw = t
  const metrics = new GatewayMetrics({ trackedOrdersMax: 1 })
  metrics.attach(gw.gateway, { inFlight: () => 0 })
  try {
    const admin = await gw.token({ sub: 'adam', roles: ['admin'], accounts: [] })
    const trader = await gw.token({})
    // Shadow mode: the I-100 gate blocks every send, and a blocked place rejects the order (order.send_blocked).
    expect((await gw.request('/v1/admin/mode', post(admin, { mode: 'shadow' }))).status).toBe(200)
    const blocked = (await json(await gw.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'blocked' })))).order_id as string
    await eventually(() => gw.gateway.engine.state.orders.get(blocked)?.status === 'Rejected')
    expect((await gw.request('/v1/admin/mode', post(admin, { mode: 'paper' }))).status).toBe(200)
    const sent = (await json(await gw.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'sent' })))).order_id as string
    await eventually(() => gw.gateway.engine.state.orders.get(sent)?.status === 'AckedOpen')
    // The metrics hear of an event once it is durable, a moment after the state has it.
    await eventually(() => sampleOf(metrics, 'egress_order_sent_to_venue_ack_seconds_count') === 1)
    expect(sampleOf(metrics, 'egress_order_accept_to_sent_seconds_count')).toBe(1)
    expect(sampleOf(metrics, 'egress_order_sent_to_venue_ack_seconds_count')).toBe(1)
  } finally {
    metrics.detach()
  }
})

test('a place the kernel rejects at send (the gate blocked it) is counted in egress_order_rejects_total by its reason', async () => {
  t = await startTestGateway()
  const gw = t
  const admin = await gw.token({ sub: 'adam', roles: ['admin'], accounts: [] })
  const trader = await gw.token({})
  expect((await gw.request('/v1/admin/mode', post(admin, { mode: 'shadow' }))).status).toBe(200)
  const blocked = (await json(await gw.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'blocked' })))).order_id as string
  await eventually(() => gw.gateway.engine.state.orders.get(blocked)?.status === 'Rejected')
  // The metrics hear of an event once it is durable, a moment after the state has it.
  const rejects = (): [string | undefined, number][] =>
    (parseExposition(gw.http.services.metrics.render()).families.get('egress_order_rejects_total')?.samples ?? []).map((sample) => [sample.labels.reason, sample.value])
  await eventually(() => rejects().length > 0, 1_000).catch(() => {})
  expect(rejects()).toEqual([['SHADOW_NOT_SENT', 1]])
})
