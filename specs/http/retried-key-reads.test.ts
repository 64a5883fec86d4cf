/**
 * A key rejected for a retryable reason is decided again under the same order id (retried-key.test.ts), so the log may
 * hold many `order.rejected` records of one order before its `order.accepted`: a trader at its policy's open-order
 * limit that retries one key gets OPEN_ORDERS_LIMIT (retryable, not remembered) each time, as often as its rate allows.
 * The log index found an order's intake record by reading its records one at a time from the first, up to the first
 * that is not a rejection; every read of such an order did so, uncached: its GET (the trace id), `/explain` (its
 * decisions), and once retired its GET, `/events`, `/explain` and a repeat of its key (the lookup reads the intake).
 * 5,000 retries made each of those hold the event loop ~200 ms, and more with more retries.
 *
 * Now the intake is found by a binary search of frame types (log-index-intake.ts intakeSpanOf): each read above reads a handful
 * of frames of the log whatever the number of rejections, and answers as before — the acceptance (its trace id, its
 * decisions: the first rejection, the acceptance, the latest rejections, how many were left out), or for a key never
 * accepted its latest rejection.
 */

import { afterAll, beforeAll, expect, spyOn, test } from 'bun:test'
import type { Principal as KernelPrincipal } from '../../src/domain/accounts.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { orderEnded, placeOrder } from './order-steps.ts'

/** Rejections of one key before it is accepted. */
const RETRIES = 400
/** Log reads (Wal.read calls) one read of the order may make: a binary search over its records, twice, and the page. */
const READS_MAX = 30

let t: TestGateway
let owner: string

beforeAll(async () => {
  const bucket = { ratePerSec: 1_000_000, burst: 1_000_000 }
  t = await startTestGateway({
    config: {
      backpressure: { account: bucket, bot: bucket, inFlightMax: 100 },
      kernel: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 },
      accounts: [
        { id: 'demo-1', balances: { USD: '1000000', BTC: '10' }, policy: { instruments: ['sim:BTC-USD'], maxOpenOrders: 1 } },
        // Never below its open-order limit: every order of it is refused OPEN_ORDERS_LIMIT.
        { id: 'demo-2', balances: { USD: '1000' }, policy: { instruments: ['sim:BTC-USD'], maxOpenOrders: 0 } },
      ],
    },
  })
  owner = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

/** Retries `key` of `account` RETRIES times while the account is at its open-order limit: each an OPEN_ORDERS_LIMIT rejection. */
async function retryAtLimit(account: string, key: string): Promise<string> {
  const principal: KernelPrincipal = { id: 'alice', roles: ['trader'], accounts: [account], liveAllowed: false }
  let orderId = ''
  for (let index = 0; index < RETRIES; index++) {
    const { reply } = await t.gateway.place(principal, { ...LIMIT_BUY, account, client_order_id: key }, key)
    expect(reply).toMatchObject({ kind: 'rejected', reason: 'OPEN_ORDERS_LIMIT' })
    orderId = (reply as { orderId: string }).orderId
  }
  return orderId
}

/** The answer to `path` and how many times the log was read for it. */
async function readCounted(path: string, init: RequestInit = { headers: auth(owner) }): Promise<{ status: number; body: Record<string, unknown>; reads: number }> {
  const reads = spyOn(t.gateway.engine.wal, 'read')
  try {
    const res = await t.request(path, init)
    return { status: res.status, body: await json(res), reads: reads.mock.calls.length }
  } finally {
    reads.mockRestore()
  }
}

test('reads of an order whose key was rejected many times before it was accepted read a few frames, and answer as before', async () => {
  const resting = await placeOrder(t, owner, LIMIT_BUY, 'retried-reads-resting')
  const orderId = await retryAtLimit('demo-1', 'retried-reads-key')
  expect((await t.request(`/v1/orders/${resting}/cancel`, post(owner, {}))).status).toBe(202)
  await orderEnded(t, resting)
  expect(await placeOrder(t, owner, LIMIT_BUY, 'retried-reads-key')).toBe(orderId)
  const positions = t.http.services.logIndex.positionsOf(orderId)
  const acceptedLsn = positions[RETRIES] as number

  const held = await readCounted(`/v1/orders/${orderId}`)
  expect(held).toMatchObject({ status: 200, body: { order_id: orderId, trace_id: expect.any(String) } })
  expect(held.reads).toBeLessThanOrEqual(READS_MAX)
  const explained = await readCounted(`/v1/orders/${orderId}/explain`)
  expect(explained.status).toBe(200)
  const decisions = explained.body.decisions as { lsn: number; outcome: string }[]
  expect(decisions[0]).toMatchObject({ lsn: positions[0], outcome: 'rejected' })
  expect(decisions.at(-1)).toMatchObject({ lsn: acceptedLsn, outcome: 'accepted' })
  expect(decisions).toHaveLength(101)
  expect(explained.body.decisions_omitted).toBe(RETRIES + 1 - 101)
  // The decisions shown are read (the first rejection, the latest ones, the acceptance): in runs, not one per rejection.
  expect(explained.reads).toBeLessThanOrEqual(READS_MAX)

  expect((await t.request(`/v1/orders/${orderId}/cancel`, post(owner, {}))).status).toBe(202)
  await orderEnded(t, orderId)
  await orderEnded(t, await placeOrder(t, owner, { ...LIMIT_BUY, tif: 'IOC' }, 'retried-reads-nudge'))
  expect(t.gateway.engine.state.orders.has(orderId)).toBe(false)
  // The first GET of the retired order rebuilds it from its history (once: README); the reads after it do not.
  expect((await readCounted(`/v1/orders/${orderId}`)).body).toMatchObject({ order_id: orderId, state: 'Canceled' })
  for (const path of [`/v1/orders/${orderId}`, `/v1/orders/${orderId}/events?limit=1`, `/v1/orders/${orderId}/explain`]) {
    const read = await readCounted(path)
    expect([path, read.status, read.reads <= READS_MAX]).toEqual([path, 200, true])
  }
  const repeat = await readCounted('/v1/orders', post(owner, LIMIT_BUY, { 'Idempotency-Key': 'retried-reads-key' }))
  expect(repeat).toMatchObject({ status: 202, body: { order_id: orderId } })
  expect(repeat.reads).toBeLessThanOrEqual(READS_MAX)
}, 60_000)

test('a key never accepted answers its latest rejection, reading a few frames', async () => {
  const orderId = await retryAtLimit('demo-2', 'retried-reads-never')
  const latest = t.http.services.logIndex.positionsOf(orderId).at(-1)
  const read = await readCounted(`/v1/orders/${orderId}`, { headers: auth(await t.token({ accounts: ['demo-2'] })) })
  expect(read).toMatchObject({ status: 200, body: { order_id: orderId, state: 'Rejected', reason: 'OPEN_ORDERS_LIMIT', lsn: latest } })
  expect(read.reads).toBeLessThanOrEqual(READS_MAX)
}, 60_000)
