/**
 * A client waiting on its next read when the heartbeat finds its token's authority ended: the final event names the
 * stream's resume point, the events it filtered out since the last one handed included (nothing is owed for them).
 * The heartbeat's comment goes to the waiting read (Subscriber.enqueue's direct hand); queued there for the close to
 * drop (66385548, meant for an event), it made the close name the last event handed, behind the skipped ones: a client
 * resuming there re-read them, and past a compaction of them was told resync_required for nothing.
 */

import { expect, test } from 'bun:test'
import { SseHub } from '../../src/http/sse/index.ts'
import { SseReader } from './sse-client.ts'
import { canceled, engineWithFeed, expiringAuthority } from './sse-feed.ts'

test('the heartbeat ending a waiting stream names the events it filtered out since the last one handed', async () => {
  const { engine, publish } = engineWithFeed({ 'order-1': 'acct-1', 'order-2': 'acct-1' })
  const hub = new SseHub({ engine, heartbeatMs: 3_600_000, bufferEventsMax: 64, subscribersMax: 4 })
  const watch = expiringAuthority()
  const opened = hub.open({ kind: 'order', orderId: 'order-1' }, null, watch)
  if (!opened.ok) throw new Error('not opened')
  const stream = new SseReader(new Response(opened.stream))
  publish([canceled('order-1', 1)])
  await stream.until((all) => all.some((frame) => frame.id === 1))
  // Another order's events pass this stream by: its resume point moves past them.
  publish([canceled('order-2', 2), canceled('order-2', 3)])
  const rest = stream.until(() => stream.done, 1_000)
  await Bun.sleep(20)
  watch.expired = true
  hub.heartbeat()
  const frames = await rest
  hub.close()
  expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual([1])
  expect(frames.at(-1)).toMatchObject({ event: 'disconnect', data: { reason: 'unauthenticated', last_event_id: 3 } })
})
