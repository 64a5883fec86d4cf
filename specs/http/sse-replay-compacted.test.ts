/**
 * A replay that the log's compaction overtakes. A resume reads the log at the client's pace; a slow client can leave
 * it paused long enough for compaction to remove segments it has yet to read. The log's reader starts at the first
 * LSN it still holds, so the replay went on from there and the removed events were skipped without a word — a gap the
 * client could not see. Now the replay checks, before each read, that its next LSN is still retained, and otherwise
 * sends `resync_required` (as a resume point older than the log gets at connect) and goes on live.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { auth, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

const BUFFER_EVENTS_MAX = 8

let t: TestGateway
let ops: string

beforeAll(async () => {
  t = await startTestGateway({ config: { sse: { heartbeatMs: 1_000, subscriberBufferEventsMax: BUFFER_EVENTS_MAX } }, wal: { segmentBytesMax: 8192 } })
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
})
afterAll(async () => t.stop())

test('segments removed under a paused replay give resync_required, not a silent gap', async () => {
  const trader = await t.token({ accounts: ['demo-1'] })
  const wal = t.gateway.engine.wal
  for (let index = 0; index < 120 && wal.segments.length < 5; index++) {
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': `compacted-${index}` }))).status).toBe(202)
  }
  await Bun.sleep(50) // the sends and venue acks land in the log too
  const want: number[] = []
  for (const frame of wal.read(1, { toLsn: wal.lastLsn })) if (domainEventOf(frame) !== null) want.push(frame.lsn)

  // In-process, no socket: the stream moves only as far as this reader pulls it, so the replay pauses on a full buffer.
  const res = await t.http.app.fetch(new Request('http://egress.test/v1/stream', { headers: auth(ops, { 'Last-Event-ID': '0' }) }))
  expect(res.status).toBe(200)
  const stream = new SseReader(res)
  await stream.until((all) => all.some((frame) => frame.id !== null))
  await Bun.sleep(50)
  const cut = wal.segments[wal.segments.length - 2]?.firstLsn ?? 0
  const delivered = Math.max(...stream.events().map((frame) => frame.id ?? 0))
  expect(cut).toBeGreaterThan(delivered + BUFFER_EVENTS_MAX * 4) // the replay has not read up to the cut yet
  expect(wal.removeSegmentsBelow(cut).length).toBeGreaterThan(0)

  const frames = await stream.until((all) => all.some((frame) => frame.event === 'resync_required' || (frame.id ?? 0) >= cut), 5_000)
  await stream.cancel()
  const resyncAt = frames.findIndex((frame) => frame.event === 'resync_required')
  expect(resyncAt).toBeGreaterThanOrEqual(0)
  // Before it, the events are exactly the log's, in order, with nothing skipped.
  const before = frames.slice(0, resyncAt).filter((frame) => frame.event !== null && frame.id !== null).map((frame) => frame.id)
  expect(before).toEqual(want.slice(0, before.length))
  expect(frames[resyncAt]?.data).toMatchObject({ reason: 'resume_point_not_retained', first_retained_lsn: wal.firstLsn, refetch: ['/v1/orders', '/health'] })
  expect(frames[resyncAt]?.data).toMatchObject({ last_event_id: before.at(-1) ?? 0 })
})
