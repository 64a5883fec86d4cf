/**
 * A per-order stream resumed over an order whose first records compaction removed (src/http/sse/hub.ts open): an
 * order resting across a snapshot has its acceptance compacted away while the kernel still holds it. A resume point
 * before the retained log gets `resync_required`, naming the order's `/events` to re-fetch, and that history says on
 * every page that its start is gone (`history_compacted`: log-index.ts eventsPage); a resume point whose next record is
 * the log's first replays the order's records from there, with nothing to resync.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader, type SseFrame } from './sse-client.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  const bucket = { ratePerSec: 1_000_000, burst: 1_000_000 }
  t = await startTestGateway({ config: { backpressure: { account: bucket, bot: bucket, inFlightMax: 100 } }, wal: { segmentBytesMax: 8192 } })
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

/** The order's stream resumed after `lastEventId`, read until `done` holds (or a second passes). */
async function resumed(orderId: string, lastEventId: number, done: (frames: SseFrame[]) => boolean): Promise<SseFrame[]> {
  const res = await t.http.app.fetch(new Request(`http://egress.test/v1/orders/${orderId}/stream`, { headers: auth(trader, { 'Last-Event-ID': String(lastEventId) }) }))
  expect(res.status).toBe(200)
  const stream = new SseReader(res)
  await stream.until(done, 1_000).catch(() => undefined)
  await stream.cancel()
  return stream.events()
}

test("a per-order stream resumed before the retained log is told to resync, and the order's events it names say compacted on every page", async () => {
  const wal = t.gateway.engine.wal
  const placed = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, price: '58000' }, { 'Idempotency-Key': 'sse-order-compacted-0' }))
  expect(placed.status).toBe(202)
  const orderId = (await json(placed)).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen', 20_000)
  const acceptedLsn = t.http.services.logIndex.positionsOf(orderId)[0] ?? 0
  const last = t.http.services.logIndex.positionsOf(orderId).at(-1) ?? 0
  const segmentsAfter = (): number => wal.segments.filter((segment) => segment.firstLsn > last).length
  for (let index = 1; index < 400 && segmentsAfter() < 2; index++) {
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `sse-order-compacted-${index}` }))).status).toBe(202)
  }
  const cut = wal.segments.find((segment) => segment.firstLsn > last)?.firstLsn ?? 0
  expect(wal.removeSegmentsBelow(cut).length).toBeGreaterThan(0)
  // Still held by the kernel, and now with records above the cut: its cancel, to its end.
  expect((await t.request(`/v1/orders/${orderId}/cancel`, post(trader, {}))).status).toBe(202)
  // To its end in the log: the cancel's venue call answered and the order canceled (the venue's report travels apart
  // from the call's answer), so nothing of it comes live on the streams below.
  await eventually(() => {
    const events = t.http.services.logIndex.events(orderId).map(({ event }) => event)
    return events.some((event) => event.type === 'order.canceled') && events.some((event) => event.type === 'order.call_completed' && event.action === 'cancel')
  }, 20_000)
  const retained = t.http.services.logIndex.positionsOf(orderId).filter((lsn) => lsn >= cut)
  expect(retained.length).toBeGreaterThan(1)

  // Resumed at its acceptance, compacted away: resync_required, naming its events; none of the order's records replayed.
  const stale = await resumed(orderId, acceptedLsn, (frames) => frames.some((frame) => frame.event === 'resync_required'))
  expect(stale[0]?.data).toMatchObject({
    reason: 'resume_point_not_retained',
    last_event_id: acceptedLsn,
    first_retained_lsn: cut,
    refetch: [`/v1/orders/${orderId}`, `/v1/orders/${orderId}/events`],
  })
  expect(stale.map((frame) => frame.event)).toEqual(['resync_required'])
  // What it names says the order's start is gone, on its first page and on each after a cursor.
  let cursor: string | null = null
  const pages: (boolean | null)[] = []
  do {
    const res = await t.request(`/v1/orders/${orderId}/events?limit=1${cursor === null ? '' : `&cursor=${cursor}`}`, { headers: auth(trader) })
    const body = await json(res)
    pages.push(body.history_compacted as boolean | null)
    cursor = body.next_cursor as string | null
  } while (cursor !== null)
  expect(pages).toEqual(retained.map(() => true))

  // Resumed just before the log's first record: nothing it had yet to read is gone, so the order's records replay.
  const edge = await resumed(orderId, cut - 1, (frames) => frames.some((frame) => frame.id === retained.at(-1)))
  expect(edge.map((frame) => frame.event === 'resync_required' ? 'resync_required' : frame.id)).toEqual(retained)
}, 60_000)
