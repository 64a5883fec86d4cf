/**
 * OCO lists over HTTP (src/http/routes/order-lists.ts): POST /v1/order-lists places both legs through the place path
 * (202 once durable), a repeat answers the first answer, bad bodies are 400 with paths and record nothing, a leg a guard
 * rejects rejects the list; GET /v1/order-lists/{id} is scoped as orders are; and end to end on the sim venue, a fill
 * of one leg, or a user's cancel of one, cancels the other.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({})
})
afterAll(async () => {
  await t.stop()
})

function list(key: string, legs: Record<string, unknown>[] = [{ ...LIMIT_BUY, price: '59000' }, { ...LIMIT_BUY, price: '58000' }]): Record<string, unknown> {
  return { type: 'oco', account: 'demo-1', client_list_id: key, orders: legs }
}

async function placeList(body: unknown, token = trader, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await t.request('/v1/order-lists', post(token, body, headers))
  return { status: response.status, body: await json(response), headers: response.headers }
}

/** The reasons of the order's cancel requests, as its events show them (what explain tells a reader). */
async function cancelReasonOf(orderId: string): Promise<unknown[]> {
  const events = await json(await t.request(`/v1/orders/${orderId}/events`, { headers: auth(trader) }))
  return (events.events as { type: string; reason?: unknown }[]).filter((event) => event.type === 'order.cancel_requested').map((event) => event.reason)
}

function statusOf(orderId: string): string | undefined {
  return t.gateway.engine.state.orders.get(orderId)?.status
}

describe('POST /v1/order-lists', () => {
  test('202 once durable with the list and both order ids; GET shows it; a repeat answers the same, another body 409', async () => {
    const placed = await placeList(list('http-ok'))
    expect(placed.status).toBe(202)
    const ids = placed.body.order_ids as string[]
    expect(ids).toHaveLength(2)
    expect(placed.body).toMatchObject({ type: 'oco', account: 'demo-1', list_key: 'http-ok' })
    const listId = placed.body.list_id as string
    const read = await t.request(`/v1/order-lists/${listId}`, { headers: auth(trader) })
    expect(read.status).toBe(200)
    const view = await json(read)
    expect(view).toMatchObject({ list_id: listId, state: 'open', triggered: null, ended_at_ms: null })
    expect((view.legs as { order_id: string }[]).map((leg) => leg.order_id)).toEqual(ids)
    const again = await placeList(list('http-ok'))
    expect(again.status).toBe(202)
    expect(again.headers.get('Idempotent-Replayed')).toBe('true')
    expect(again.body).toEqual(placed.body)
    const other = await placeList(list('http-ok', [{ ...LIMIT_BUY, price: '59000' }, { ...LIMIT_BUY, price: '57000' }]))
    expect(other.status).toBe(409)
    expect(errorCode(other.body)).toBe('IDEMPOTENCY_CONFLICT')
  })

  test('a bad body is 400 with paths, a missing key 400, legs on two symbols 400: nothing recorded', async () => {
    const lsn = t.gateway.engine.wal.lastLsn
    const one = await placeList({ type: 'oco', account: 'demo-1', client_list_id: 'bad-1', orders: [LIMIT_BUY] })
    expect(one.status).toBe(400)
    expect(errorCode(one.body)).toBe('VALIDATION_FAILED')
    expect(((one.body.error as { details: { issues: { path: string }[] } }).details.issues)[0]?.path).toBe('orders')
    const leg = await placeList(list('bad-2', [{ ...LIMIT_BUY, qty: 1 }, LIMIT_BUY]))
    expect(leg.status).toBe(400)
    expect(((leg.body.error as { details: { issues: { path: string }[] } }).details.issues)[0]?.path).toBe('orders.0.qty')
    const noKey = await placeList({ type: 'oco', account: 'demo-1', orders: [LIMIT_BUY, { ...LIMIT_BUY, price: '58000' }] })
    expect(noKey.status).toBe(400)
    expect(errorCode(noKey.body)).toBe('IDEMPOTENCY_KEY_MISSING')
    const twoSymbols = await placeList(list('bad-3', [LIMIT_BUY, { ...LIMIT_BUY, symbol: 'ETH-USD', price: '2900' }]))
    expect(twoSymbols.status).toBe(400)
    expect(errorCode(twoSymbols.body)).toBe('ORDER_LIST_LEGS_MISMATCH')
    const mismatch = await placeList(list('bad-4'), trader, { 'Idempotency-Key': 'other' })
    expect(mismatch.status).toBe(400)
    expect(errorCode(mismatch.body)).toBe('IDEMPOTENCY_KEY_MISMATCH')
    // A leg's amount with a leading zero ("059000" was taken as 59000): the transport's refusal (routes/input-amounts.ts).
    const leadingZero = await placeList(list('bad-5', [LIMIT_BUY, { ...LIMIT_BUY, price: '058000' }]))
    expect(leadingZero.status).toBe(400)
    expect(((leadingZero.body.error as { details: { issues: { path: string }[] } }).details.issues).map((issue) => issue.path)).toEqual(['orders.1.price'])
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
  })

  test('a leg a guard rejects rejects the list (422, details.leg): only that leg is recorded', async () => {
    const poor = await t.token({ accounts: ['demo-2'] })
    const legs = [{ ...LIMIT_BUY, account: 'demo-2', price: '59000' }, { ...LIMIT_BUY, account: 'demo-2', price: '58000' }]
    const lists = t.gateway.engine.state.orderLists.lists.size
    // demo-2 holds 1000 USD: one leg (590 USD) fits, both do not.
    const placed = await placeList({ ...list('poor-1', legs), account: 'demo-2' }, poor)
    expect(placed.status).toBe(422)
    expect(errorCode(placed.body)).toBe('INSUFFICIENT_FUNDS')
    expect((placed.body.error as { details: Record<string, unknown> }).details).toMatchObject({ leg: 1, guard: 'reservation' })
    expect(t.gateway.engine.state.orderLists.lists.size).toBe(lists)
  })

  test('roles and scopes: an auditor may not place; a trader of another account reads 404; ops reads any', async () => {
    const placed = await placeList(list('scoped'))
    const listId = placed.body.list_id as string
    const auditor = await t.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
    const refused = await placeList(list('by-auditor'), auditor)
    expect(refused.status).toBe(403)
    const stranger = await t.token({ sub: 'bob', accounts: ['demo-2'] })
    const hidden = await t.request(`/v1/order-lists/${listId}`, { headers: auth(stranger) })
    expect(hidden.status).toBe(404)
    expect(errorCode(await json(hidden))).toBe('ORDER_LIST_NOT_FOUND')
    const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
    expect((await t.request(`/v1/order-lists/${listId}`, { headers: auth(ops) })).status).toBe(200)
    expect((await t.request('/v1/order-lists/Lnope', { headers: auth(trader) })).status).toBe(404)
  })
})

describe('OCO on the sim venue', () => {
  test("a user's cancel of one leg cancels the other; the list ends", async () => {
    const placed = await placeList(list('cancel-one'))
    const [a, b] = placed.body.order_ids as [string, string]
    await eventually(() => statusOf(a) === 'AckedOpen' && statusOf(b) === 'AckedOpen')
    const cancel = await t.request(`/v1/orders/${a}/cancel`, { method: 'POST', headers: auth(trader) })
    expect(cancel.status).toBe(202)
    await eventually(() => statusOf(a) === 'Canceled' && statusOf(b) === 'Canceled')
    const view = await json(await t.request(`/v1/order-lists/${placed.body.list_id as string}`, { headers: auth(trader) }))
    expect(view).toMatchObject({ state: 'ended', triggered: { order_id: a, cause: 'canceled' } })
    expect(await cancelReasonOf(b)).toEqual(['OCO_SIBLING_CANCELED'])
  })

  test('a fill of one leg cancels the other (OCO_SIBLING_FILLED), and the cancel is sent once', async () => {
    // Leg A crosses the sim's book and fills; leg B rests until the kernel cancels it.
    const placed = await placeList(list('fill-one', [{ ...LIMIT_BUY, price: '60500', tif: 'IOC' }, { ...LIMIT_BUY, price: '58000' }]))
    expect(placed.status).toBe(202)
    const [a, b] = placed.body.order_ids as [string, string]
    await eventually(() => statusOf(a) === 'Filled' && statusOf(b) === 'Canceled', 4_000)
    expect(await cancelReasonOf(b)).toEqual(['OCO_SIBLING_FILLED'])
    const view = await json(await t.request(`/v1/order-lists/${placed.body.list_id as string}`, { headers: auth(trader) }))
    expect(view).toMatchObject({ state: 'ended', triggered: { order_id: a, cause: 'fill' } })
    const events = await json(await t.request(`/v1/orders/${b}/events`, { headers: auth(trader) }))
    const types = (events.events as { type: string }[]).map((event) => event.type)
    expect(types.filter((type) => type === 'order.cancel_send_requested')).toHaveLength(1)
  })
})
