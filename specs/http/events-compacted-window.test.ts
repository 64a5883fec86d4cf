/**
 * /events in the window after a compaction and before the log index forgets what it removed (log-index.ts eventsPage).
 * The index drops positions below the log's first LSN only at the next durable batch; until then a page started among
 * them: `?limit=1` read one position the log no longer holds and answered no record at all, with a next_cursor, and a
 * page of `limit` records came back short by as many as it skipped. Now a page starts at the first position the log
 * still holds, so it holds `limit` records whenever that many remain, and still says the history is compacted.
 *
 * The window is held deterministically: the log is compacted and the index read in the same synchronous stretch, so no
 * durable batch (which starts the forgetting walk) can come between them.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { canceledToEnd, segmentCutAfter } from './order-steps.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  const bucket = { ratePerSec: 1_000_000, burst: 1_000_000 }
  t = await startTestGateway({ config: { backpressure: { account: bucket, bot: bucket, inFlightMax: 100 } }, wal: { segmentBytesMax: 8192 } })
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

test('compacted but not yet forgotten: every page starts at the first record the log holds and holds `limit` of them, and says the history is compacted', async () => {
  const wal = t.gateway.engine.wal
  const index = t.http.services.logIndex
  const placed = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, price: '58000' }, { 'Idempotency-Key': 'events-window-0' }))
  expect(placed.status).toBe(202)
  const orderId = (await json(placed)).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen', 20_000)

  // Its records so far all fall below the cut; its cancel's come after everything written so far, so above it, waited
  // for to the order's end, so nothing joins its history under the reads below.
  const cut = await segmentCutAfter(t, trader, orderId, 'events-window', { ...LIMIT_BUY, tif: 'IOC' })
  await canceledToEnd(t, trader, orderId)

  // Compaction, and the reads after it, with nothing awaited between them: the index has not forgotten a position.
  expect(wal.removeSegmentsBelow(cut).length).toBeGreaterThan(0)
  expect(wal.firstLsn).toBe(cut)
  const positions = index.positionsOf(orderId)
  const removed = positions.filter((lsn) => lsn < cut)
  const retained = positions.filter((lsn) => lsn >= cut)
  expect(removed.length).toBeGreaterThan(0)
  expect(retained.length).toBeGreaterThanOrEqual(2)

  const lsnsOf = (page: ReturnType<typeof index.eventsPage>): number[] => page.events.map((event) => event.lsn)
  // A first page of one record: the first the log holds, not none.
  const one = index.eventsPage(orderId, 0, 1)
  expect({ lsns: lsnsOf(one), next: one.nextAfterLsn, compacted: one.historyCompacted }).toEqual({ lsns: [retained[0] as number], next: retained[0] as number, compacted: true })
  // A page as long as what is retained holds all of it, and says nothing follows.
  const whole = index.eventsPage(orderId, 0, retained.length)
  expect({ lsns: lsnsOf(whole), next: whole.nextAfterLsn, compacted: whole.historyCompacted }).toEqual({ lsns: retained, next: null, compacted: true })
  // Paged one record at a time: one record per page, each saying the history is compacted, until no cursor is left.
  const paged: number[] = []
  for (let afterLsn: number | null = 0; afterLsn !== null; ) {
    const page: ReturnType<typeof index.eventsPage> = index.eventsPage(orderId, afterLsn, 1)
    expect({ afterLsn, count: page.events.length, compacted: page.historyCompacted }).toEqual({ afterLsn, count: 1, compacted: true })
    paged.push(...lsnsOf(page))
    afterLsn = page.nextAfterLsn
  }
  expect(paged).toEqual(retained)
  // A cursor at one of its removed positions (handed out before the compaction) reads on from the first retained record.
  const after = index.eventsPage(orderId, removed[0] as number, 1)
  expect({ lsns: lsnsOf(after), compacted: after.historyCompacted }).toEqual({ lsns: [retained[0] as number], compacted: true })
  // Still the window: the index holds the removed positions (it forgets them at the next durable batch).
  expect(index.positionsOf(orderId)).toEqual(positions)
}, 60_000)
