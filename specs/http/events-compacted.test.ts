/**
 * /events of an order whose first records compaction removed (src/http/routes/order-log.ts, log-index.ts eventsPage,
 * log-index-intake.ts intakeRetained): an order resting across a snapshot has its acceptance compacted away while the
 * kernel still holds it. Every page must say that the order's history begins before records the log no longer holds
 * (`history_compacted`), as /explain does, not start mid-history as if it were the order's beginning. Not the first
 * page only: a client paging on (with a cursor, or one handed out before the compaction) reads a later page alone.
 */

import { expect, test } from 'bun:test'
import { auth, eventually, json, LIMIT_BUY, post } from './fixture.ts'
import { compactableGateway, compactedBelow } from './order-steps.ts'

const gateway = compactableGateway()

interface EventsPage {
  history_compacted: boolean | null
  events: { lsn: number; type: string }[]
  next_cursor: string | null
}

const page = async (orderId: string, query = ''): Promise<EventsPage> => {
  const { t, trader } = gateway
  const res = await t.request(`/v1/orders/${orderId}/events${query}`, { headers: auth(trader) })
  expect(res.status).toBe(200)
  return (await json(res)) as unknown as EventsPage
}

test('an order whose acceptance was compacted away: every page of its events says its history is incomplete, the first and each after a cursor', async () => {
  const { t, trader } = gateway
  const placed = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, price: '58000' }, { 'Idempotency-Key': 'events-compacted-0' }))
  expect(placed.status).toBe(202)
  const orderId = (await json(placed)).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen', 20_000)
  const whole = await page(orderId)
  const acceptedLsn = whole.events[0]?.lsn ?? 0
  expect({ compacted: whole.history_compacted, first: whole.events[0]?.type }).toEqual({ compacted: false, first: 'order.accepted' })
  // A page after a cursor says it too: nothing before it was compacted away.
  expect((await page(orderId, `?limit=1&cursor=${whole.events[0]?.lsn}`)).history_compacted).toBe(false)

  // Still held by the kernel, and now with records above the cut: its cancel, to its end in the log, so no record joins
  // it between the pages compared below.
  const cut = await compactedBelow(t, trader, orderId, 'events-compacted')
  expect(t.http.services.logIndex.positionsOf(orderId).filter((lsn) => lsn >= cut).length).toBeGreaterThanOrEqual(2)

  const check = async (): Promise<void> => {
    const first = await page(orderId)
    expect(first.events.length).toBeGreaterThan(0)
    expect(first.events.every((event) => event.lsn >= cut)).toBe(true)
    expect(first.events.some((event) => event.type === 'order.accepted')).toBe(false)
    expect(first.history_compacted).toBe(true)
    // A first page of one record says it too.
    expect((await page(orderId, '?limit=1')).history_compacted).toBe(true)
    // And every later page, read one record at a time: each is read alone, and what came before it is still gone.
    const retained = first.events.map((event) => event.lsn)
    for (const cursor of retained.slice(0, -1)) {
      const later = await page(orderId, `?limit=1&cursor=${cursor}`)
      expect({ cursor, compacted: later.history_compacted }).toEqual({ cursor, compacted: true })
    }
    // A cursor handed out before the compaction (the acceptance's LSN, below the retained log) reads on: compacted too.
    const below = await page(orderId, `?cursor=${acceptedLsn}`)
    expect({ lsns: below.events.map((event) => event.lsn), compacted: below.history_compacted }).toEqual({ lsns: retained, compacted: true })
  }
  // Before the index forgets the positions below the cut, and after.
  await check()
  await t.http.services.logIndex.forgetCompacted()
  expect(t.http.services.logIndex.positionsOf(orderId).every((lsn) => lsn >= cut)).toBe(true)
  await check()
}, 60_000)

test('a rejected order: its first record is its intake, its history whole', async () => {
  const { t, trader } = gateway
  const rejected = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, qty: '100', price: '60000' }, { 'Idempotency-Key': 'events-compacted-rejected' }))
  const error = (await json(rejected)).error as { code: string; details: { order_id: string } }
  expect(error.code).toBe('ORDER_NOTIONAL_LIMIT')
  const answer = await page(error.details.order_id)
  expect({ compacted: answer.history_compacted, types: answer.events.map((event) => event.type) }).toEqual({ compacted: false, types: ['order.rejected'] })
})
