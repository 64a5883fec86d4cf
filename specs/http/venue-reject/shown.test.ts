/**
 * A venue's refusal shows its venue reject code where users look: GET /v1/orders/{id} (`venue_reject`, beside the
 * venue's text), /explain (the story entry's `venue_reject_code` and summary), /events (`venueRejectCode` beside the
 * record's `venueReason`), egress_venue_rejects_total{action, code} and egress_order_rejects_total{reason="VENUE_REJECTED"}. A real gateway and sim venue: a post-only buy
 * above the ask is refused by the venue (post_only_would_cross).
 */

import { afterEach, expect, test } from 'bun:test'
import { formatDecimal, parseDecimal } from '../../../src/domain/decimal.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from '../fixture.ts'
import { parseExposition } from '../metrics/exposition.ts'

let gw: TestGateway | null = null
afterEach(async () => {
  await gw?.stop()
  gw = null
})

async function rejectedByVenue(): Promise<{ gw: TestGateway; token: string; orderId: string }> {
  gw = await startTestGateway()
  const token = await gw.token({})
  // 0.2 % above the reference price (on the tick): above the ask however the sim's price has walked meanwhile, inside
  // the kernel's price band (5 %).
  const reference = gw.venue.referencePrice('BTC-USD')?.price as bigint
  const tick = parseDecimal('0.01')
  const price = ((reference * 1002n) / 1000n / tick) * tick
  const created = await json(await gw.request('/v1/orders', post(token, { ...LIMIT_BUY, price: formatDecimal(price), post_only: true }, { 'Idempotency-Key': 'vr-1' })))
  const orderId = created.order_id as string
  const state = gw.gateway.engine.state
  // Rejected in memory is enough: a read waits for the log to hold what memory shows before it reads the log's part
  // (read-before-durable.test.ts holds the refusal's batch to check it).
  await eventually(() => state.orders.get(orderId)?.status === 'Rejected')
  return { gw, token, orderId }
}

test('GET /v1/orders/{id} shows the venue reject code beside the venue reason text', async () => {
  const { gw, token, orderId } = await rejectedByVenue()
  const body = await json(await gw.request(`/v1/orders/${orderId}`, { headers: auth(token) }))
  expect(body.state).toBe('Rejected')
  expect(body.venue_reject).toMatchObject({ action: 'place', code: 'POST_ONLY_WOULD_CROSS', reason: 'post_only_would_cross' })
  // An order the venue refused nothing of says so: null, not absent.
  const other = await json(await gw.request('/v1/orders', post(token, LIMIT_BUY, { 'Idempotency-Key': 'vr-2' })))
  const plain = await json(await gw.request(`/v1/orders/${other.order_id as string}`, { headers: auth(token) }))
  expect(plain.venue_reject).toBeNull()
})

test('/explain and /events show the code on the venue_rejected record', async () => {
  const { gw, token, orderId } = await rejectedByVenue()
  const explain = await json(await gw.request(`/v1/orders/${orderId}/explain`, { headers: auth(token) }))
  const story = explain.story as { type: string; summary: string; venue_reject_code: string | null }[]
  const entry = story.find((item) => item.type === 'order.venue_rejected')
  expect(entry?.venue_reject_code).toBe('POST_ONLY_WOULD_CROSS')
  expect(entry?.summary).toBe('venue rejected the order (POST_ONLY_WOULD_CROSS): post_only_would_cross')
  expect(story.filter((item) => item.type !== 'order.venue_rejected').every((item) => item.venue_reject_code === null)).toBe(true)
  const events = (await json(await gw.request(`/v1/orders/${orderId}/events`, { headers: auth(token) }))).events as Record<string, unknown>[]
  expect(events.find((event) => event.type === 'order.venue_rejected')).toMatchObject({ venueReason: 'post_only_would_cross', venueRejectCode: 'POST_ONLY_WOULD_CROSS' })
  expect(events.filter((event) => 'venueRejectCode' in event)).toHaveLength(1)
})

test('egress_venue_rejects_total counts the refusal by action and code, egress_order_rejects_total as VENUE_REJECTED, no order or account in their labels', async () => {
  const { gw } = await rejectedByVenue()
  await eventually(() => (gw.http.services.metrics.render().includes('egress_venue_rejects_total{')))
  const families = parseExposition(gw.http.services.metrics.render()).families
  const samples = families.get('egress_venue_rejects_total')?.samples ?? []
  expect(samples.map((sample) => [sample.labels, sample.value])).toEqual([[{ action: 'place', code: 'POST_ONLY_WOULD_CROSS' }, 1]])
  const rejects = families.get('egress_order_rejects_total')?.samples ?? []
  expect(rejects.map((sample) => [sample.labels, sample.value])).toEqual([[{ reason: 'VENUE_REJECTED' }, 1]])
})
