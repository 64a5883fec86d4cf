/**
 * What a repeated cancel, amend, mode change or revocation does (README, API: "Repeating a cancel, an amend, a mode
 * change or a revocation"). These routes read no `Idempotency-Key`: each request is decided again on the state as it
 * is then, and what makes a repeat harmless is the decision itself — a cancel of an order already being canceled is
 * answered as done and records nothing, an amend names absolute values (the new total qty, the new limit), so the same
 * amend while it is pending is its duplicate and once applied changes nothing, the mode already in force records
 * nothing, and a revocation of the same token widens the entry it already has. These pin that, including what the key
 * does not do: a retry of an amend that arrives after a different amend was applied is decided as a new amend.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Order } from '../../src/domain/orders.ts'
import type { AmendRequest, CancelRequest } from '../../src/venues/adapter.ts'
import { errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let admin: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  admin = await t.token({ sub: 'adam', roles: ['admin'], accounts: [] })
})
afterAll(async () => t.stop())

function order(orderId: string): Order {
  const found = t.gateway.engine.state.orders.get(orderId)
  if (found === undefined) throw new Error(`no order ${orderId}`)
  return found
}

async function restingOrder(key: string): Promise<string> {
  const orderId = (await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': key })))).order_id as string
  await eventually(() => order(orderId).status === 'AckedOpen')
  return orderId
}

function recordsOf(orderId: string, type: string): number {
  return t.http.services.logIndex.events(orderId).filter(({ event }) => event.type === type).length
}

/** Holds the sim venue's `method` calls until the returned release is called. */
function holdVenue(method: 'cancel' | 'amend'): () => void {
  const venue = t.venue as unknown as Record<string, (request: CancelRequest | AmendRequest) => Promise<unknown>>
  const original = venue[method] as (request: CancelRequest | AmendRequest) => Promise<unknown>
  const { promise, resolve } = Promise.withResolvers<void>()
  venue[method] = async (request) => {
    await promise
    return original.call(t.venue, request)
  }
  return () => {
    Reflect.deleteProperty(venue, method)
    resolve()
  }
}

describe('a repeated cancel', () => {
  test('while the cancel is under way: 202 again, nothing recorded; once the order ended: 409 ORDER_NOT_CANCELABLE', async () => {
    const orderId = await restingOrder('repeat-cancel')
    const release = holdVenue('cancel')
    const cancel = (): Promise<Response> => t.request(`/v1/orders/${orderId}/cancel`, post(trader, '', { 'Idempotency-Key': 'cancel-1' }))
    const first = await cancel()
    expect(first.status).toBe(202)
    const again = await cancel()
    expect(again.status).toBe(202)
    expect((await json(again)).cancel_requested).toBe(true)
    expect(recordsOf(orderId, 'order.cancel_requested')).toBe(1)
    release()
    await eventually(() => order(orderId).status === 'Canceled')
    const late = await cancel()
    expect(late.status).toBe(409)
    expect(errorCode(await json(late))).toBe('ORDER_NOT_CANCELABLE')
    expect(recordsOf(orderId, 'order.cancel_requested')).toBe(1)
  })
})

describe('a repeated amend (its qty and price are absolute: the new total and the new limit)', () => {
  test('while pending: 202 with the same amend id, nothing recorded; once applied: 200 unchanged; the order changed once', async () => {
    const orderId = await restingOrder('repeat-amend')
    const qtyBefore = order(orderId).qty
    const release = holdVenue('amend')
    const amend = (): Promise<Response> => t.request(`/v1/orders/${orderId}/amend`, post(trader, { qty: '0.02' }, { 'Idempotency-Key': 'amend-1' }))
    const first = await amend()
    expect(first.status).toBe(202)
    expect((await json(first)).amend_id).toBe(1)
    const again = await amend()
    expect(again.status).toBe(202)
    expect((await json(again)).amend_id).toBe(1)
    expect(recordsOf(orderId, 'order.amend_requested')).toBe(1)
    release()
    await eventually(() => order(orderId).qty === qtyBefore * 2n && order(orderId).amend === null)
    const late = await amend()
    expect(late.status).toBe(200)
    expect(await json(late)).toMatchObject({ amend_id: null, unchanged: true })
    expect({ qty: order(orderId).qty, requested: recordsOf(orderId, 'order.amend_requested'), amended: recordsOf(orderId, 'order.amended') }).toEqual({ qty: qtyBefore * 2n, requested: 1, amended: 1 })
  })

  test('current behaviour, not protected by the key: a retry arriving after a different amend was applied is a new amend', async () => {
    const orderId = await restingOrder('repeat-amend-aba')
    const qtyBefore = order(orderId).qty
    const amendTo = (qty: string): Promise<Response> => t.request(`/v1/orders/${orderId}/amend`, post(trader, { qty }, { 'Idempotency-Key': `amend-to-${qty}` }))
    expect((await amendTo('0.02')).status).toBe(202)
    await eventually(() => order(orderId).qty === qtyBefore * 2n && order(orderId).amend === null)
    expect((await amendTo('0.03')).status).toBe(202)
    await eventually(() => order(orderId).qty === qtyBefore * 3n && order(orderId).amend === null)
    // The first request again (same body, same key): decided on the order as it is now, it takes the order back.
    const retry = await amendTo('0.02')
    expect(retry.status).toBe(202)
    expect((await json(retry)).amend_id).toBe(3)
    await eventually(() => order(orderId).qty === qtyBefore * 2n && order(orderId).amend === null)
  })
})

describe('a repeated revocation', () => {
  test('each is a record; the entry keeps the latest end and names the latest record', async () => {
    const untilMs = t.gateway.clock.nowMs() + 3_600_000
    const revoke = (): Promise<Response> => t.request('/v1/admin/revocations', post(admin, { jti: 'repeated-jti', until_ms: untilMs }, { 'Idempotency-Key': 'revoke-1' }))
    const first = await json(await revoke())
    const again = await json(await revoke())
    expect(again.lsn as number).toBeGreaterThan(first.lsn as number)
    expect(again.revocation).toMatchObject({ kind: 'token', jti: 'repeated-jti', until_ms: untilMs, lsn: again.lsn })
  })
})

describe('a repeated mode change', () => {
  test('the mode already in force: 200 again with lsn null, nothing recorded', async () => {
    const change = async (mode: string): Promise<Record<string, unknown>> => {
      const response = await t.request('/v1/admin/mode', post(admin, { mode, note: 'repeat spec' }, { 'Idempotency-Key': `mode-${mode}` }))
      expect(response.status).toBe(200)
      return json(response)
    }
    const first = await change('shadow')
    expect(first.lsn).toEqual(expect.any(Number))
    expect(await change('shadow')).toEqual({ mode: 'shadow', lsn: null })
    expect((await change('paper')).lsn).toEqual(expect.any(Number))
  })
})
