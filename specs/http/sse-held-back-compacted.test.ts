/**
 * Compaction under the live feed while it reads held-back events again from the log (src/http/sse/held-back.ts: more
 * than heldEventsMax waited for the standby, so they were dropped and the feed reads the log from where it stands as
 * the bound moves). The log's reader starts at its first LSN when asked for one it no longer holds, so the feed went
 * on from there and every live stream skipped the removed events without a word: a gap no client could see (the
 * standby out long enough for snapshots to compact the log past the feed). Now the live streams are told, as a replay
 * that compaction overtakes is (`resync_required`, resume_point_not_retained), and the feed goes on after the cut.
 */

import { afterEach, expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { SseHub } from '../../src/http/sse/index.ts'
import { MovableBound } from './movable-bound.ts'
import { LIMIT_BUY, startTestGateway } from './fixture.ts'
import { SseReader } from './sse-client.ts'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const principal = { id: 'alice', roles: ['trader' as const], accounts: ['demo-1'], liveAllowed: false }

test('segments compacted under the held-back feed give its live streams resync_required, not a silent gap', async () => {
  const gateway = await startTestGateway({ wal: { segmentBytesMax: 8192 } })
  cleanups.push(() => gateway.stop())
  const wal = gateway.gateway.engine.wal
  const startLsn = wal.lastLsn
  const bound = new MovableBound(startLsn)
  const hub = new SseHub({ engine: gateway.gateway.engine, heartbeatMs: 3_600_000, bufferEventsMax: 10_000, subscribersMax: 8, bound, heldEventsMax: 2, replayChunkFrames: 3 })
  cleanups.push(() => hub.close())
  const opened = hub.open({ kind: 'global' }, null)
  if (!opened.ok) throw new Error(opened.reason)
  const live = new SseReader(new Response(opened.stream))
  cleanups.push(() => live.cancel())

  for (let index = 0; index < 120 && wal.segments.length < 5; index++) {
    expect((await gateway.gateway.place(principal, { ...LIMIT_BUY, client_order_id: `compacted-${index}` }, null)).reply.kind).toBe('accepted')
  }
  await gateway.gateway.engine.settled()
  expect(wal.segments.length).toBeGreaterThanOrEqual(5)
  // Nothing went out: the bound has not moved, and the waiting events were more than heldEventsMax.
  expect(hub.headLsn()).toBe(startLsn)
  const cut = wal.segments[wal.segments.length - 2]?.firstLsn ?? 0
  expect(cut).toBeGreaterThan(startLsn + 10)
  expect(wal.removeSegmentsBelow(cut).length).toBeGreaterThan(0)
  const kept: number[] = []
  for (const frame of wal.read(wal.firstLsn, { toLsn: wal.lastLsn })) if (domainEventOf(frame) !== null) kept.push(frame.lsn)

  // The bound short of the cut: nothing is told yet (the stream never names an LSN the standby does not hold).
  bound.moveTo(cut - 5)
  await Bun.sleep(20)
  await live.until(() => true, 0)
  expect(live.events()).toEqual([])
  expect(hub.headLsn()).toBeLessThanOrEqual(cut - 5)

  bound.moveTo(Number.MAX_SAFE_INTEGER)
  const frames = await live.until((all) => all.filter((frame) => frame.event !== null && frame.event !== 'resync_required').length >= kept.length, 5_000)
  const events = frames.filter((frame) => frame.event !== null)
  // Told first (no event of the log's before it: those were removed), then the log from its first retained LSN.
  expect(events[0]?.event).toBe('resync_required')
  expect(events[0]?.id).toBe(cut - 1)
  expect(events[0]?.data).toMatchObject({ reason: 'resume_point_not_retained', last_event_id: startLsn, first_retained_lsn: wal.firstLsn, resume_lsn: cut - 1 })
  // The venue's answers go on being written meanwhile: the stream holds every event the log retains up to its last one.
  const received = events.slice(1).map((frame) => frame.id as number)
  expect(received.at(-1) as number).toBeGreaterThanOrEqual(kept.at(-1) as number)
  const retained: number[] = []
  for (const frame of wal.read(wal.firstLsn, { toLsn: received.at(-1) as number })) if (domainEventOf(frame) !== null) retained.push(frame.lsn)
  expect(received).toEqual(retained)
  expect(hub.headLsn()).toBeGreaterThanOrEqual(kept.at(-1) as number)
})
