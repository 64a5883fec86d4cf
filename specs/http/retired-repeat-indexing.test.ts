/**
 * A repeat of a key whose order has retired answers its first 202 from the order's acceptance record, found through
 * the log index (place-response.ts). While that index is still being built after a restart, the record cannot be
 * found yet: the repeat answers 503 UNAVAILABLE with Retry-After, as the reads of an order's history do — never 409
 * ANSWER_NOT_RETAINED (which says the answer is gone for good) and never a second order — and its first 202 once
 * the index is complete.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { errorCode, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway({ config: { kernel: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 } } })
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

const IOC = { ...LIMIT_BUY, tif: 'IOC' }

function place(key: string): Promise<Response> {
  return t.request('/v1/orders', post(trader, IOC, { 'Idempotency-Key': key }))
}

/** As LogIndex is between LogIndex.build and the end of its background scan of an older log. */
function indexBuilding(building: boolean): void {
  ;(t.http.services.logIndex as unknown as { completeFlag: boolean }).completeFlag = !building
}

test("a retired order's repeat while the log index builds is 503 with Retry-After, writes nothing, then answers its first 202", async () => {
  const first = await place('retired-1')
  const firstText = await first.text()
  const orderId = (JSON.parse(firstText) as { order_id: string }).order_id
  // An IOC order ends at once; a later order's events retire it (kept 1, no grace).
  for (let index = 0; index < 5 && t.gateway.engine.state.orders.has(orderId); index++) {
    expect((await place(`nudge-${index}`)).status).toBe(202)
    await Bun.sleep(50)
  }
  expect(t.gateway.engine.state.orders.has(orderId)).toBe(false)

  indexBuilding(true)
  const lsn = t.gateway.engine.wal.lastLsn
  const during = await place('retired-1')
  expect([during.status, during.headers.get('Retry-After'), errorCode(await json(during))]).toEqual([503, '1', 'UNAVAILABLE'])
  const since = Array.from(t.gateway.engine.wal.read(lsn + 1), (frame) => domainEventOf(frame)?.type)
  expect(since.filter((type) => type === 'order.accepted' || type === 'order.rejected')).toEqual([])
  indexBuilding(false)
  const after = await place('retired-1')
  expect([after.status, await after.text()]).toEqual([202, firstText])
})
