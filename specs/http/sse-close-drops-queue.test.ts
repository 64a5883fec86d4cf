/**
 * A stream ended for `unauthenticated` (its token expired, or its key left the key set) or `log_unavailable` hands
 * its client nothing more but the final event. Both closes handed the stream the whole queue before the final event:
 * a client that was not reading held up to bufferEventsMax events plus a batch in the gateway until the idle timeout
 * closed its socket, and got the `disconnect` only after all of them, if ever; and a stream whose token had expired
 * delivered what was queued when the next heartbeat noticed, events published after the expiry among them, as it
 * handed a reading client every event published until then. Now the close drops the queue, as a `slow_consumer` cut
 * does (the final event names the last event id the client was handed, where it resumes: the log holds the rest),
 * and nothing is handed to the server once the token's authority has ended, whenever it was published.
 */

import { expect, test } from 'bun:test'
import { ApiError } from '../../src/http/errors.ts'
import { SseHub } from '../../src/http/sse/index.ts'
import { SseReader } from './sse-client.ts'
import { canceled, engineWithFeed, expiringAuthority } from './sse-feed.ts'

const BUFFER_EVENTS_MAX = 64
const QUEUED = 40

function hubOf(orders: Record<string, string> = {}): { hub: SseHub; publish: ReturnType<typeof engineWithFeed>['publish'] } {
  const { engine, publish } = engineWithFeed(orders)
  const hub = new SseHub({
    engine,
    heartbeatMs: 3_600_000,
    bufferEventsMax: BUFFER_EVENTS_MAX,
    subscribersMax: 4,
    // As LogIndex.accountOf answers while its background part is still being indexed.
    retiredOrderAccountOf: () => {
      throw new ApiError('UNAVAILABLE', 'order history is still being indexed after the restart; retry shortly')
    },
  })
  return { hub, publish }
}

test('a stream whose token expired with events queued ends with the final event first, and no event', async () => {
  const { hub, publish } = hubOf()
  const watch = expiringAuthority()
  const opened = hub.open({ kind: 'global' }, null, watch)
  if (!opened.ok) throw new Error('not opened')
  const stream = new SseReader(new Response(opened.stream))
  await stream.until((all) => all.some((frame) => frame.comment?.startsWith('egress global stream') === true))
  // The client stops reading; events queue while the token holds, and after it expired, until the heartbeat.
  for (let lsn = 1; lsn <= QUEUED / 2; lsn++) publish([canceled(`order-${lsn}`, lsn)])
  watch.expired = true
  for (let lsn = QUEUED / 2 + 1; lsn <= QUEUED; lsn++) publish([canceled(`order-${lsn}`, lsn)])
  hub.heartbeat()
  expect(hub.subscriberCount).toBe(0)
  const frames = await stream.until(() => stream.done, 1_000)
  hub.close()
  expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual([])
  expect(frames.at(-1)).toMatchObject({ event: 'disconnect', data: { reason: 'unauthenticated', last_event_id: 0 } })
})

test('a reading client is handed nothing published after its token expired, before the heartbeat noticed', async () => {
  const { hub, publish } = hubOf()
  const watch = expiringAuthority()
  const opened = hub.open({ kind: 'global' }, null, watch)
  if (!opened.ok) throw new Error('not opened')
  const stream = new SseReader(new Response(opened.stream))
  publish([canceled('order-1', 1)])
  await stream.until((all) => all.some((frame) => frame.id === 1))
  watch.expired = true
  publish([canceled('order-2', 2)])
  const frames = await stream.until(() => stream.done, 1_000)
  hub.close()
  expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual([1])
  expect(frames.at(-1)).toMatchObject({ event: 'disconnect', data: { reason: 'unauthenticated', last_event_id: 1 } })
})

test('a stream ended by log_unavailable with events queued hands its client the final event first, naming where it resumes', async () => {
  const { hub, publish } = hubOf({ 'order-1': 'demo-1' })
  const opened = hub.open({ kind: 'account', accountId: 'demo-1' }, null)
  if (!opened.ok) throw new Error('not opened')
  const stream = new SseReader(new Response(opened.stream))
  publish([canceled('order-1', 1)])
  await stream.until((all) => all.some((frame) => frame.id === 1))
  // The client stops reading while events queue; then an order the hot state no longer holds cannot be looked up.
  for (let lsn = 2; lsn <= QUEUED; lsn++) publish([canceled('order-1', lsn)])
  publish([canceled('retired-1', QUEUED + 1)])
  expect(hub.subscriberCount).toBe(0)
  const frames = await stream.until(() => stream.done, 1_000)
  hub.close()
  expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual([1])
  expect(frames.at(-1)).toMatchObject({ event: 'disconnect', data: { reason: 'log_unavailable', last_event_id: 1 } })
})
