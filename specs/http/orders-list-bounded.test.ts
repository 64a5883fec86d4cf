/**
 * GET /v1/orders no longer walks the kernel's orders from the start (src/http/order-list/): the Map holds every order
 * that ended within the last hour, and each page walked it on the thread that decides orders — to the cursor, and
 * for a filter matching little or a scoped reader, to the end. These drive the route through `app.request`:
 *
 * - no page iterates state.orders, from the start or from a cursor, for any reader or filter (it did on every one);
 * - a page reads at most limits.listExaminedMax orders: a state filter matching nothing among more orders than that
 *   answers a short page with a cursor, and following next_cursor to null lists exactly what one walk would;
 * - a trader's pages read only its accounts' orders: its few orders among many of another account come in one page;
 * - an order id as the cursor (what next_cursor was before it carried a position) whose order was retired since
 *   answers VALIDATION_FAILED, like an unknown one (as before); next_cursor itself pages on past a retired order
 *   (orders-cursor-retired.test.ts).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { isTerminal } from '../../src/domain/states.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

const EXAMINED_MAX = 12

let t: TestGateway
let trader1: string
let trader2: string
let ops: string
const demo1: string[] = []
const demo2: string[] = []

beforeAll(async () => {
  t = await startTestGateway({
    httpLimits: { listExaminedMax: EXAMINED_MAX },
    config: { accounts: [{ id: 'demo-1', balances: { USD: '1000000' } }, { id: 'demo-2', balances: { USD: '1000000' } }] },
  })
  trader1 = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  trader2 = await t.token({ sub: 'bob', roles: ['trader'], accounts: ['demo-2'] })
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  // 40 orders of demo-1 with a demo-2 order after every tenth.
  for (let index = 0; index < 40; index++) {
    demo1.push(await place(trader1, `bounded-1-${index}`, LIMIT_BUY))
    if (index % 10 === 9) demo2.push(await place(trader2, `bounded-2-${index}`, { ...LIMIT_BUY, account: 'demo-2' }))
  }
})
afterAll(async () => t.stop())

async function place(token: string, key: string, body: unknown): Promise<string> {
  const response = await t.request('/v1/orders', post(token, body, { 'Idempotency-Key': key }))
  expect(response.status).toBe(202)
  return (await json(response)).order_id as string
}

async function page(token: string, query: string): Promise<{ ids: string[]; next: string | null }> {
  const response = await t.request(`/v1/orders?${query}`, { headers: auth(token) })
  expect(response.status).toBe(200)
  const body = (await json(response)) as { orders: { order_id: string }[]; next_cursor: string | null }
  return { ids: body.orders.map((order) => order.order_id), next: body.next_cursor }
}

async function followed(token: string, query: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const next: { ids: string[]; next: string | null } = await page(token, `${query}${cursor === null ? '' : `&cursor=${cursor}`}`)
    ids.push(...next.ids)
    cursor = next.next
    pages++
  } while (cursor !== null && pages < 100)
  return { ids, pages }
}

test('no page walks state.orders, whoever reads and whatever the filter', async () => {
  const orders = t.gateway.engine.state.orders
  let walks = 0
  const originals = { values: orders.values, entries: orders.entries, keys: orders.keys, iterator: orders[Symbol.iterator] }
  orders.values = function () {
    walks++
    return originals.values.call(this)
  }
  orders.entries = function () {
    walks++
    return originals.entries.call(this)
  }
  orders.keys = function () {
    walks++
    return originals.keys.call(this)
  }
  orders[Symbol.iterator] = function () {
    walks++
    return originals.iterator.call(this)
  }
  try {
    await page(ops, 'limit=5')
    await page(ops, `limit=5&cursor=${demo1[30]}`)
    await page(ops, 'state=Filled')
    await page(trader2, 'limit=2')
    await page(trader1, `account=demo-1&symbol=ETH-USD&cursor=${demo1[3]}`)
    expect(walks).toBe(0)
  } finally {
    Object.assign(orders, { values: originals.values, entries: originals.entries, keys: originals.keys })
    orders[Symbol.iterator] = originals.iterator
  }
})

test('a filter matching nothing answers short pages with a cursor; followed to the end they list what one walk lists', async () => {
  const first = await page(ops, 'state=Expired&limit=5')
  expect(first).toEqual({ ids: [], next: expect.any(String) })
  const all = await followed(ops, 'state=Expired&limit=5')
  expect(all.ids).toEqual([])
  expect(all.pages).toBeGreaterThan(1)
  // Every order, in acceptance order: in one page, and in pages of 2 through a filter that every order matches.
  const accepted = demo1.flatMap((orderId, index) => (index % 10 === 9 ? [orderId, demo2[(index - 9) / 10] as string] : [orderId]))
  expect((await followed(ops, 'limit=1000')).ids).toEqual(accepted)
  expect((await followed(ops, 'symbol=BTC-USD&limit=2')).ids).toEqual(accepted)
})

test("a trader's pages read only its own accounts' orders", async () => {
  // 4 orders among 44: one page, though a page may read only 12 orders.
  expect(await page(trader2, 'limit=10')).toEqual({ ids: demo2, next: null })
  expect(await page(trader2, `limit=2&cursor=${demo2[1]}`)).toEqual({ ids: demo2.slice(2), next: null })
  const first = await page(trader2, 'limit=3')
  expect(first).toEqual({ ids: demo2.slice(0, 3), next: expect.stringMatching(new RegExp(`^v2\\.[\\w-]{70}\\.${demo2[2]}$`)) })
  expect(await page(trader2, `cursor=${first.next}`)).toEqual({ ids: demo2.slice(3), next: null })
})

test('an order id as the cursor, once its order retired, answers like an unknown one', async () => {
  const retiring = await startTestGateway({ config: { kernel: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 } } })
  try {
    const trader = await retiring.token({ accounts: ['demo-1'] })
    const orderIds: string[] = []
    for (let index = 0; index < 3; index++) {
      const response = await retiring.request('/v1/orders', post(trader, { ...LIMIT_BUY, tif: 'IOC' }, { 'Idempotency-Key': `retire-cursor-${index}` }))
      const orderId = (await json(response)).order_id as string
      orderIds.push(orderId)
      await eventually(() => isTerminal(retiring.gateway.engine.state.orders.get(orderId)?.status ?? 'Enqueued'))
      await Bun.sleep(2)
    }
    await eventually(() => !retiring.gateway.engine.state.orders.has(orderIds[0] as string))
    const unknown = await retiring.request('/v1/orders?cursor=00000000000000000000', { headers: auth(trader) })
    const retired = await retiring.request(`/v1/orders?cursor=${orderIds[0]}`, { headers: auth(trader) })
    expect(retired.status).toBe(400)
    expect(await retired.text()).toBe(await unknown.text())
    const held = orderIds.filter((orderId) => retiring.gateway.engine.state.orders.has(orderId))
    expect((await json(await retiring.request('/v1/orders', { headers: auth(trader) }))).orders).toHaveLength(held.length)
  } finally {
    await retiring.stop()
  }
})
