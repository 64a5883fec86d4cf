/**
 * An account stream carries its order lists' records: `order_list.accepted` names its account, and
 * `order_list.triggered` names only its list and the leg that fired it (`legOrderId`), no `orderId` and no account.
 * Judged like an order's record, it matched no account: an account stream showed a list accepted and its sibling's
 * cancel (OCO_SIBLING_CANCELED), but never the trigger that caused it, which only the global stream carried. Its
 * account is its leg's, live and replayed (Last-Event-ID) alike; another account's stream still does not get it.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { StreamScope } from '../../src/http/sse/index.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

let t: TestGateway
let trader: string
beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({})
})
afterAll(async () => t.stop())

function open(scope: StreamScope, lastEventId: number | null): SseReader {
  const opened = t.http.services.hub.open(scope, lastEventId)
  if (!opened.ok) throw new Error(`not opened: ${opened.reason}`)
  return new SseReader(new Response(opened.stream))
}

test("an account stream, live or resumed, carries its list's order_list.triggered; another account's does not", async () => {
  const live = open({ kind: 'account', accountId: 'demo-1' }, null)
  const other = open({ kind: 'account', accountId: 'demo-2' }, null)
  const legs = [{ ...LIMIT_BUY, price: '59000' }, { ...LIMIT_BUY, price: '58000' }]
  const placed = await json(await t.request('/v1/order-lists', post(trader, { type: 'oco', account: 'demo-1', client_list_id: 'sse-trigger', orders: legs })))
  const [leg] = placed.order_ids as [string, string]
  await eventually(() => t.gateway.engine.state.orders.get(leg)?.status === 'AckedOpen')
  expect((await t.request(`/v1/orders/${leg}/cancel`, { method: 'POST', headers: auth(trader) })).status).toBe(202)

  const triggered = (frames: { event: string | null }[]): boolean => frames.some((frame) => frame.event === 'order_list.triggered')
  const frame = (await live.until(triggered)).find((item) => item.event === 'order_list.triggered')
  expect(frame?.data).toMatchObject({ listId: placed.list_id, legOrderId: leg, cause: 'canceled' })
  const resumed = open({ kind: 'account', accountId: 'demo-1' }, 0)
  expect((await resumed.until(triggered)).find((item) => item.event === 'order_list.triggered')?.id).toBe(frame?.id as number)

  // Every live stream was handed the trigger's batch when the demo-1 stream was: demo-2's passed it.
  const others = await other.until(() => false, 300).catch(() => other.events())
  expect(others.filter((item) => item.event !== null).map((item) => item.event)).toEqual([])
  for (const reader of [live, other, resumed]) await reader.cancel()
})
