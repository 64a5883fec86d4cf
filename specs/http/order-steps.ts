/**
 * Steps the compaction specs take with orders: place one and wait until it has ended (and can be retired), or compact
 * an order's first records away while the kernel still holds it; and the gateways they run on.
 */

import { afterAll, beforeAll, expect } from 'bun:test'
import { isTerminal } from '../../src/domain/states.ts'
import { eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

/** Places an order with this Idempotency-Key; its id. */
export async function placeOrder(t: TestGateway, token: string, body: Record<string, unknown>, key: string): Promise<string> {
  const res = await t.request('/v1/orders', post(token, body, { 'Idempotency-Key': key }))
  expect(res.status).toBe(202)
  return (await json(res)).order_id as string
}

/**
 * Waits until the order has ended, and a moment more: an order is retired by a later event, never by the one that ended
 * it (src/kernel/retention.ts). An order no longer held was retired, so it ended (it was held once its 202 came): with
 * retirement at once, the event after its end can retire it between two looks.
 */
export async function orderEnded(t: TestGateway, orderId: string): Promise<void> {
  await eventually(() => {
    const order = t.gateway.engine.state.orders.get(orderId)
    return order === undefined || isTerminal(order.status)
  }, 5_000)
  await Bun.sleep(2)
}

/**
 * A gateway for the file's tests (started before them, stopped after) that retires every ended order at once and rolls
 * its log every 8 KiB, so compaction removes acceptances soon; with a trader of demo-1 placing orders.
 */
export function retiringGateway(): { gateway: () => TestGateway; trader: () => string; place: (body: Record<string, unknown>, key: string) => Promise<string>; ended: (orderId: string) => Promise<void> } {
  let t: TestGateway | null = null
  let trader = ''
  beforeAll(async () => {
    t = await startTestGateway({ config: { kernel: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 } }, wal: { segmentBytesMax: 8192 } })
    trader = await t.token({ accounts: ['demo-1'] })
  })
  afterAll(async () => t?.stop())
  const gateway = (): TestGateway => t as TestGateway
  return {
    gateway,
    trader: () => trader,
    place: (body, key) => placeOrder(gateway(), trader, body, key),
    ended: (orderId) => orderEnded(gateway(), orderId),
  }
}

/**
 * A gateway for the file's tests (started before them, stopped after) that rolls its log every 8 KiB and limits no
 * one's rate, so a few hundred orders fill the segments compaction removes; with a trader of demo-1 placing orders.
 */
export function compactableGateway(): { readonly t: TestGateway; readonly trader: string } {
  let t: TestGateway | null = null
  let trader = ''
  beforeAll(async () => {
    const bucket = { ratePerSec: 1_000_000, burst: 1_000_000 }
    t = await startTestGateway({ config: { backpressure: { account: bucket, bot: bucket, inFlightMax: 100 } }, wal: { segmentBytesMax: 8192 } })
    trader = await t.token({ accounts: ['demo-1'] })
  })
  afterAll(async () => t?.stop())
  return {
    get t() {
      if (t === null) throw new Error('the test gateway is not started yet (compactableGateway starts it in beforeAll)')
      return t
    },
    get trader() {
      return trader
    },
  }
}

/**
 * Compacts away `orderId`'s records so far (an order resting across a snapshot): segmentCutAfter, the segments below
 * the cut removed, then canceledToEnd, so the order has records above the cut and none comes after. Returns the cut:
 * the first LSN of the segments kept.
 */
export async function compactedBelow(t: TestGateway, token: string, orderId: string, keyPrefix: string): Promise<number> {
  const cut = await segmentCutAfter(t, token, orderId, keyPrefix)
  expect(t.gateway.engine.wal.removeSegmentsBelow(cut).length).toBeGreaterThan(0)
  await canceledToEnd(t, token, orderId)
  return cut
}

/**
 * Places other orders (`body`, Idempotency-Keys `${keyPrefix}-1`, `-2`, …) until two segments begin after `orderId`'s
 * last record, and returns the first LSN of the first of them: a cut below which every record of the order so far lies.
 */
export async function segmentCutAfter(t: TestGateway, token: string, orderId: string, keyPrefix: string, body: Record<string, unknown> = LIMIT_BUY): Promise<number> {
  const wal = t.gateway.engine.wal
  const last = t.http.services.logIndex.positionsOf(orderId).at(-1) ?? 0
  const segmentsAfter = (): number => wal.segments.filter((segment) => segment.firstLsn > last).length
  for (let index = 1; index < 400 && segmentsAfter() < 2; index++) {
    expect((await t.request('/v1/orders', post(token, body, { 'Idempotency-Key': `${keyPrefix}-${index}` }))).status).toBe(202)
  }
  return wal.segments.find((segment) => segment.firstLsn > last)?.firstLsn ?? 0
}

/**
 * Cancels `orderId` and waits until it has ended in the log (its cancel's venue call answered and the order canceled:
 * the venue's report travels apart from the call's answer), so no record of it comes after.
 */
export async function canceledToEnd(t: TestGateway, token: string, orderId: string): Promise<void> {
  expect((await t.request(`/v1/orders/${orderId}/cancel`, post(token, {}))).status).toBe(202)
  await eventually(() => {
    const events = t.http.services.logIndex.events(orderId).map(({ event }) => event)
    return events.some((event) => event.type === 'order.canceled') && events.some((event) => event.type === 'order.call_completed' && event.action === 'cancel')
  }, 20_000)
}
