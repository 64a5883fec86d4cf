/**
 * An order of another account answers 404 exactly as an unknown id does — in what it reads too. A retired order (ended,
 * out of the kernel's hot state) was rebuilt from every record of its history before its account was looked at, so a
 * stranger's 404 for it came later than one for an unknown id, by as much as the history was long; order ids are
 * computable from an account and an idempotency key, so the delay told which keys another account had used. Now the
 * account is read from the intake record first, and a stranger's lookup reads nothing more; an order the log index
 * knows in memory (accepted or rejected since the start) is judged before even that read (it took ~20 µs).
 */

import { afterAll, beforeAll, expect, spyOn, test } from 'bun:test'
import { auth, LIMIT_BUY, startTestGateway, type TestGateway } from './fixture.ts'
import { orderEnded, placeOrder } from './order-steps.ts'

let t: TestGateway
let owner: string
let stranger: string

beforeAll(async () => {
  t = await startTestGateway({ config: { kernel: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 } } })
  owner = await t.token({ accounts: ['demo-1'] })
  stranger = await t.token({ sub: 'mallory', accounts: ['demo-2'] })
})
afterAll(async () => t.stop())

test("a stranger's lookup of another account's retired order reads none of its history; the owner's rebuilds it", async () => {
  const retired = await placeOrder(t, owner, { ...LIMIT_BUY, tif: 'IOC' }, 'stranger-retired-0')
  await orderEnded(t, retired)
  // A later order's events retire the first (an order is retired by a later event, never by the one that ended it).
  await orderEnded(t, await placeOrder(t, owner, { ...LIMIT_BUY, tif: 'IOC' }, 'stranger-retired-1'))
  expect(t.gateway.engine.state.orders.has(retired)).toBe(false)

  const histories = spyOn(t.http.services.logIndex, 'events')
  try {
    for (const path of [`/v1/orders/${retired}`, `/v1/orders/${retired}/events`, `/v1/orders/${retired}/explain`]) {
      const res = await t.request(path, { headers: auth(stranger) })
      expect([path, res.status]).toEqual([path, 404])
    }
    expect(histories).toHaveBeenCalledTimes(0)
    expect((await t.request(`/v1/orders/${retired}`, { headers: auth(owner) })).status).toBe(200)
    expect(histories).toHaveBeenCalledTimes(1)
  } finally {
    histories.mockRestore()
  }
})

test("a stranger's lookup of another account's retired or rejected order reads no log at all: its 404 costs what an unknown id's does", async () => {
  const retired = await placeOrder(t, owner, { ...LIMIT_BUY, tif: 'IOC' }, 'stranger-read-0')
  await orderEnded(t, retired)
  await orderEnded(t, await placeOrder(t, owner, { ...LIMIT_BUY, tif: 'IOC' }, 'stranger-read-1'))
  expect(t.gateway.engine.state.orders.has(retired)).toBe(false)
  // A rejection (a quantity of zero) exists only as its record in the log.
  const res = await t.request('/v1/orders', { method: 'POST', headers: { ...auth(owner), 'Content-Type': 'application/json', 'Idempotency-Key': 'stranger-read-rejected' }, body: JSON.stringify({ ...LIMIT_BUY, qty: '1000000' }) })
  const rejected = ((await res.json()) as { order_id?: string; error?: { details?: { order_id?: string } } })
  const rejectedId = rejected.order_id ?? rejected.error?.details?.order_id
  expect(typeof rejectedId).toBe('string')

  const intakeReads = spyOn(t.http.services.logIndex, 'intakeRecord')
  try {
    for (const orderId of [retired, rejectedId as string]) {
      expect((await t.request(`/v1/orders/${orderId}`, { headers: auth(stranger) })).status).toBe(404)
    }
    expect(intakeReads).toHaveBeenCalledTimes(0)
    expect((await t.request(`/v1/orders/${rejectedId}`, { headers: auth(owner) })).status).toBe(200)
    expect(intakeReads).toHaveBeenCalledTimes(1)
  } finally {
    intakeReads.mockRestore()
  }
})
