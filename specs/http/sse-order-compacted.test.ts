/**
 * A per-order stream resumed over an order whose first records compaction removed (src/http/sse/hub.ts open): an
 * order resting across a snapshot has its acceptance compacted away while the kernel still holds it. A resume point
 * before the retained log gets `resync_required`, naming the order's `/events` to re-fetch, and that history says on
 * every page that its start is gone (`history_compacted`: log-index.ts eventsPage); a resume point whose next record is
 * the log's first replays the order's records from there, with nothing to resync.
 */

import { expect, test } from 'bun:test'
import { auth, eventually, json, LIMIT_BUY, post } from './fixture.ts'
import { compactableGateway, compactedBelow } from './order-steps.ts'
import { SseReader, type SseFrame } from './sse-client.ts'

const gateway = compactableGateway()

/** The order's stream resumed after `lastEventId`, read until `done` holds (or a second passes). */
async function resumed(orderId: string, lastEventId: number, done: (frames: SseFrame[]) => boolean): Promise<SseFrame[]> {
  const { t, trader } = gateway
  const res = await t.http.app.fetch(new Request(`http://egress.test/v1/orders/${orderId}/stream`, { headers: auth(trader, { 'Last-Event-ID': String(lastEventId) }) }))
  expect(res.status).toBe(200)
  const stream = new SseReader(res)
  await stream.until(done, 1_000).catch(() => undefined)
  await stream.cancel()
  return stream.events()
}

test("a per-order stream resumed before the retained log is told to resync, and the order's events it names say compacted on every page", async () => {
  const { t, trader } = gateway
  const placed = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, price: '58000' }, { 'Idempotency-Key': 'sse-order-compacted-0' }))
  expect(placed.status).toBe(202)
  const orderId = (await json(placed)).order_id as string
  await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen', 20_000)
  const acceptedLsn = t.http.services.logIndex.positionsOf(orderId)[0] ?? 0
  // Still held by the kernel, and now with records above the cut: its cancel, to its end in the log, so nothing of it
  // comes live on the streams below.
  const cut = await compactedBelow(t, trader, orderId, 'sse-order-compacted')
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
