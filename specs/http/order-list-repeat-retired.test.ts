/**
 * A repeat of an order list's key after the kernel forgot the list (ended, beyond ORDER_LISTS_ENDED_KEPT_MAX, its legs
 * retired) answers the first 202 byte for byte, read from the list's record in the log (src/http/retired-list.ts), as a
 * retired order's repeat does; it was a 409 IDEMPOTENCY_CONFLICT. Nothing is placed. Another body under the key is
 * still a conflict, and so is a list whose leg key a lone order took with that leg's body.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { ORDER_LISTS_ENDED_KEPT_MAX } from '../../src/domain/order-lists.ts'
import { eventually, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { orderEnded, placeOrder } from './order-steps.ts'

let t: TestGateway
let trader: string
beforeAll(async () => {
  t = await startTestGateway({
    config: { kernel: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 }, backpressure: { account: { ratePerSec: 100_000, burst: 100_000 }, bot: { ratePerSec: 100_000, burst: 100_000 } } },
  })
  trader = await t.token({})
})
afterAll(async () => t.stop())

/** Both legs IOC below the market: the venue ends the first at once, which fires the list and ends the second. */
function iocList(key: string, price = '59000'): Record<string, unknown> {
  return { type: 'oco', account: 'demo-1', client_list_id: key, orders: [{ ...LIMIT_BUY, price, tif: 'IOC' }, { ...LIMIT_BUY, price: '58000', tif: 'IOC' }] }
}

async function placeList(body: unknown): Promise<{ status: number; text: string; replayed: string | null }> {
  const response = await t.request('/v1/order-lists', post(trader, body))
  return { status: response.status, text: await response.text(), replayed: response.headers.get('Idempotent-Replayed') }
}

function listEnded(listId: string): boolean {
  const list = t.gateway.engine.state.orderLists.lists.get(listId)
  return list !== undefined && list.endedAtMs !== null
}

/** The log's end once nothing has been written for 50 ms (the venue's reports of what was placed have landed). */
async function quietLog(): Promise<number> {
  for (;;) {
    const before = t.gateway.engine.wal.lastLsn
    await Bun.sleep(50)
    if (t.gateway.engine.wal.lastLsn === before) return before
  }
}

/** Places and ends lists, fifty at a time, until the kernel no longer holds `listId`. */
async function forget(listId: string, prefix: string): Promise<void> {
  for (let round = 0; t.gateway.engine.state.orderLists.lists.has(listId); round++) {
    expect(round).toBeLessThan(ORDER_LISTS_ENDED_KEPT_MAX / 50 + 5)
    const fillers = await Promise.all(Array.from({ length: 50 }, (_, index) => placeList(iocList(`${prefix}-${round}-${index}`))))
    for (const filler of fillers) expect([filler.status, filler.text]).toEqual([202, expect.any(String)])
    const ids = fillers.map((filler) => JSON.parse(filler.text).list_id as string)
    await eventually(() => ids.every((id) => listEnded(id) || !t.gateway.engine.state.orderLists.lists.has(id)), 5_000)
  }
}

test('a repeat after the kernel forgot the list answers its first 202 byte for byte, from the log; another body is 409', async () => {
  const first = await placeList(iocList('forgotten'))
  expect(first.status).toBe(202)
  expect(first.replayed).toBeNull()
  const { list_id: listId, order_ids: legs } = JSON.parse(first.text) as { list_id: string; order_ids: string[] }
  await eventually(() => listEnded(listId))
  await forget(listId, 'filler')
  for (const leg of legs) expect(t.gateway.engine.state.orders.has(leg)).toBe(false)
  const logged = await quietLog()

  const again = await placeList(iocList('forgotten'))
  expect({ status: again.status, text: again.text }).toEqual({ status: first.status, text: first.text })
  expect(again.replayed).toBe('true')
  // The first leg's body unchanged, the second's not: the list's body differs.
  const other = await placeList({ ...iocList('forgotten'), orders: [{ ...LIMIT_BUY, price: '59000', tif: 'IOC' }, { ...LIMIT_BUY, price: '57000', tif: 'IOC' }] })
  expect(other.status).toBe(409)
  expect(JSON.parse(other.text).error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' })
  expect(JSON.parse(other.text).error.details.detail).toContain(`list ${listId}`)
  expect(t.gateway.engine.wal.lastLsn).toBe(logged)
}, 30_000)

test("a list whose first leg's key a lone order took with that leg's body stays a conflict: the lone order has no list record", async () => {
  const leg = { ...LIMIT_BUY, price: '59000', tif: 'IOC', client_order_id: 'lone-leg' }
  const lone = await placeOrder(t, trader, leg, 'lone-leg')
  await orderEnded(t, lone)
  const logged = await quietLog()
  const list = await placeList({ ...iocList('lone'), orders: [leg, { ...LIMIT_BUY, price: '58000', tif: 'IOC' }] })
  expect(list.status).toBe(409)
  expect(JSON.parse(list.text).error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' })
  expect(JSON.parse(list.text).error.details.detail).toContain(`already names order ${lone}`)
  expect(t.gateway.engine.wal.lastLsn).toBe(logged)
})

test("a list whose first leg's key another list's leg took with that body stays a conflict: that list is under another key", async () => {
  const leg = { ...LIMIT_BUY, price: '59000', tif: 'IOC', client_order_id: 'shared-leg' }
  const taken = await placeList({ ...iocList('owner-list'), orders: [leg, { ...LIMIT_BUY, price: '58000', tif: 'IOC' }] })
  expect(taken.status).toBe(202)
  const logged = await quietLog()
  const list = await placeList({ ...iocList('other-list'), orders: [leg, { ...LIMIT_BUY, price: '58000', tif: 'IOC' }] })
  expect(list.status).toBe(409)
  expect(JSON.parse(list.text).error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' })
  expect(t.gateway.engine.wal.lastLsn).toBe(logged)
})
