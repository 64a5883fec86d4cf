/**
 * What reading a retired order costs (src/http/retired-order.ts, routes/order-lookup.ts). A retired order is rebuilt
 * from every record it has, which costs what its history is long; before, every route naming it did that on every
 * request, nothing kept the result, and a repeat of its key is admitted free: fifty repeats for an order amended
 * 1,500 times held the event loop for 5.1 s (review). Now a repeat of its key reads its acceptance record alone, as do
 * its events, explain, stream and cancel; only GET /v1/orders/:id rebuilds it, once, and keeps the rebuild. The
 * answers are the same as before, byte for byte.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { initialState } from '../../src/kernel/index.ts'
import type { LogIndex } from '../../src/http/log-index.ts'
import { RETIRED_ORDERS_KEPT_MAX, retiredOrderOf } from '../../src/http/retired-order.ts'
import { auth, eventually, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

const AMENDS = 30

let g: TestGateway
beforeAll(async () => {
  g = await startTestGateway({ config: { kernel: { terminalOrderRetireAfterMs: 0, terminalOrdersKeptMax: 1 } } })
})
afterAll(async () => {
  await g.stop()
})

async function placed(token: string, key: string): Promise<{ id: string; body: string }> {
  const response = await g.request('/v1/orders', post(token, LIMIT_BUY, { 'Idempotency-Key': key }))
  const body = await response.text()
  expect(response.status).toBe(202)
  return { id: (JSON.parse(body) as { order_id: string }).order_id, body }
}

/**
 * Cancels the order and waits until it ended and its cancel call's record is in (order.call_completed may land just
 * after the status: a view taken between the two differs from the rebuilt one by updated_at_ms, seen under CI load).
 */
async function canceled(token: string, id: string): Promise<void> {
  await (await g.request(`/v1/orders/${id}/cancel`, { method: 'POST', headers: auth(token) })).text()
  const state = g.gateway.engine.state
  await eventually(() => state.orders.get(id)?.status !== 'CancelRequested' && state.orders.get(id)?.status !== 'CancelPending' && !state.inFlight.has(id))
}

test('a retired order\'s repeat, events, explain, stream and cancel read none of its history; its GET rebuilds it once', async () => {
  const alice = await g.token({ sub: 'alice', accounts: ['demo-1'] })
  const first = await placed(alice, 'long')
  await eventually(() => g.gateway.engine.state.orders.get(first.id)?.status === 'AckedOpen')
  for (let index = 0; index < AMENDS; index++) {
    const amended = await g.request(`/v1/orders/${first.id}/amend`, post(alice, { price: String(58_000 + (index % 2)) }))
    await amended.text()
    await eventually(() => g.gateway.engine.state.orders.get(first.id)?.amend === null)
  }
  await canceled(alice, first.id)
  const heldView = await (await g.request(`/v1/orders/${first.id}`, { headers: auth(alice) })).text()
  const heldEvents = await (await g.request(`/v1/orders/${first.id}/events?limit=5`, { headers: auth(alice) })).text()
  // The next order's end retires it (terminalOrdersKeptMax 1, no grace).
  for (const key of ['next-1', 'next-2']) await canceled(alice, (await placed(alice, key)).id)
  expect(g.gateway.engine.state.orders.has(first.id)).toBe(false)
  const logIndex = g.http.services.logIndex
  expect(logIndex.recordCountOf(first.id)).toBeGreaterThan(AMENDS * 2)

  // Every read of the order's whole history is counted.
  const events = logIndex.events.bind(logIndex)
  let historyReads = 0
  logIndex.events = (orderId: string) => {
    historyReads++
    return events(orderId)
  }
  try {
    const repeat = await g.request('/v1/orders', post(alice, LIMIT_BUY, { 'Idempotency-Key': 'long' }))
    expect(repeat.status).toBe(202)
    expect(await repeat.text()).toBe(first.body)
    const page = await g.request(`/v1/orders/${first.id}/events?limit=5`, { headers: auth(alice) })
    expect(await page.text()).toBe(heldEvents)
    const explain = await g.request(`/v1/orders/${first.id}/explain`, { headers: auth(alice) })
    expect(explain.status).toBe(200)
    expect((JSON.parse(await explain.text()) as { held: unknown; account: string }).account).toBe('demo-1')
    // Ended, so not cancelable nor amendable: 409 as for a held ended order (it answered 404 while GET answered 200).
    const cancel = await g.request(`/v1/orders/${first.id}/cancel`, { method: 'POST', headers: auth(alice) })
    expect(cancel.status).toBe(409)
    expect(((await cancel.json()) as { error: { code: string } }).error.code).toBe('ORDER_NOT_CANCELABLE')
    const amend = await g.request(`/v1/orders/${first.id}/amend`, post(alice, { qty: '0.02' }))
    expect(amend.status).toBe(409)
    expect(((await amend.json()) as { error: { code: string } }).error.code).toBe('ORDER_NOT_AMENDABLE')
    const stream = await g.request(`/v1/orders/${first.id}/stream`, { method: 'HEAD', headers: auth(alice) })
    expect(stream.status).toBe(200)
    expect(historyReads).toBe(0)

    // GET shows the whole order: rebuilt once, the same as while it was held, and kept for the next ask.
    for (let ask = 0; ask < 3; ask++) {
      const view = await g.request(`/v1/orders/${first.id}`, { headers: auth(alice) })
      expect(view.status).toBe(200)
      expect(await view.text()).toBe(heldView)
    }
    expect(historyReads).toBe(1)

    // Another account's caller gets the 404 of an unknown id, reading nothing.
    const bob = await g.token({ sub: 'bob', accounts: ['demo-2'] })
    for (const path of ['', '/events', '/explain']) expect((await g.request(`/v1/orders/${first.id}${path}`, { headers: auth(bob) })).status).toBe(404)
    expect(historyReads).toBe(1)
  } finally {
    logIndex.events = events
  }
})

test('the rebuilds kept are bounded, the most recently asked kept; one whose order gained a record is made again', () => {
  let reads = 0
  const counts = new Map<string, number>()
  const source = {
    recordCountOf: (orderId: string) => counts.get(orderId) ?? 1,
    events: () => {
      reads++
      return []
    },
  } as unknown as LogIndex
  const live = initialState()
  for (let index = 0; index <= RETIRED_ORDERS_KEPT_MAX; index++) retiredOrderOf(live, source, `o${index}`)
  expect(reads).toBe(RETIRED_ORDERS_KEPT_MAX + 1)
  retiredOrderOf(live, source, `o${RETIRED_ORDERS_KEPT_MAX}`)
  retiredOrderOf(live, source, 'o1')
  expect(reads).toBe(RETIRED_ORDERS_KEPT_MAX + 1)
  // The first asked went when the map went past its bound.
  retiredOrderOf(live, source, 'o0')
  expect(reads).toBe(RETIRED_ORDERS_KEPT_MAX + 2)
  counts.set('o1', 2)
  retiredOrderOf(live, source, 'o1')
  expect(reads).toBe(RETIRED_ORDERS_KEPT_MAX + 3)
})
