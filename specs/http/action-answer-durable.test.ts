/**
 * A cancel's or an amend's 202 shows the order as memory holds it when the answer is built, and memory may already
 * hold later decisions about the order in a batch the log has not made durable: the amend was answered "CancelPending,
 * amend failed" while the log held only its amend_requested — a crash then lost the cancel the answer reported. Both
 * answers now wait, as GETs do, until the log holds what they show (routes/support.ts appliedDurable).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { nodeIo } from '../../wal/index.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

/** How long each batch's sync takes while the disk is made slow. */
const SLOW_SYNC_MS = 400

let t: TestGateway
let trader: string
let slowSyncMs = 0

beforeAll(async () => {
  t = await startTestGateway({
    config: { wal: { durability: 'fsync' } },
    wal: { io: { ...nodeIo, fdatasyncOffLoop: (fd, done) => nodeIo.fdatasyncOffLoop(fd, (error) => (slowSyncMs > 0 ? setTimeout(() => done(error), slowSyncMs) : done(error))) } },
  })
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => {
  slowSyncMs = 0
  await t.stop()
})

/** The durable records about `orderId`, by type. */
function durableTypesOf(orderId: string): string[] {
  const types: string[] = []
  for (const frame of t.gateway.engine.wal.read(1, { toLsn: t.gateway.engine.wal.lastLsn })) {
    const event = domainEventOf(frame)
    if (event !== null && 'orderId' in event && event.orderId === orderId) types.push(event.type)
  }
  return types
}

test('an amend answered after a cancel was decided shows only what the log holds', async () => {
  const placed = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, price: '59000' }, { 'Idempotency-Key': 'durable-answer-1' }))
  const orderId = (await json(placed)).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen', 5_000)
  slowSyncMs = SLOW_SYNC_MS
  const amended = t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '58000' }, { 'Idempotency-Key': 'durable-answer-amend' })).then(async (res) => ({
    status: res.status,
    body: await json(res),
    durable: durableTypesOf(orderId),
  }))
  // The cancel is decided while the amend's batch is still syncing.
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.amend !== null, 2_000)
  const canceled = t.request(`/v1/orders/${orderId}/cancel`, { method: 'POST', headers: auth(trader) })
  const amend = await amended
  expect(amend.status).toBe(202)
  if (amend.body.state === 'CancelPending' || amend.body.state === 'CancelRequested') expect(amend.durable).toContain('order.cancel_requested')
  else expect(amend.durable).toContain('order.amend_requested')
  expect(amend.body.state).not.toBe('AckedOpen')
  const cancel = await canceled
  expect(cancel.status).toBe(202)
  slowSyncMs = 0
})
