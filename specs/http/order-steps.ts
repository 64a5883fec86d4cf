/** Steps the compaction specs take with orders: place one and wait until it has ended (and can be retired). */

import { afterAll, beforeAll, expect } from 'bun:test'
import { isTerminal } from '../../src/domain/states.ts'
import { eventually, json, post, startTestGateway, type TestGateway } from './fixture.ts'

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
