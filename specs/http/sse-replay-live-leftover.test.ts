/**
 * A replay that goes live leaves its client a whole buffer for the live events. A replay waits for its client and
 * goes live once it has read to the log's end with room in the buffer (sse-replay-live-room), and what it queued and
 * the client has yet to read (up to bufferEventsMax - 1 events) counted against the live bound: the first live batch
 * was taken, the second cut the stream off (`slow_consumer`) unless the client had read in between, though the client
 * read at the replay's pace and, live, kept up with a buffer to spare. Seen as specs/http/sse-resume-interleaved cut
 * off under load (the replay gone live with 15 of 16 queued, then an order's batches before the client's next read).
 * What the replay left queued now takes no room from the live events, as the stream's opening pieces take none; a
 * client that reads nothing is still cut off once bufferEventsMax live events wait.
 */

import { expect, test } from 'bun:test'
import type { SseHub } from '../../src/http/sse/hub.ts'
import type { SubscriberPhase } from '../../src/http/sse/subscriber.ts'
import { eventually } from './fixture.ts'
import { answeredOrders } from './sse-answered-orders.ts'
import { SseReader } from './sse-client.ts'

const BUFFER_EVENTS_MAX = 8

const orders = answeredOrders({ config: { sse: { heartbeatMs: 9_999, subscriberBufferEventsMax: BUFFER_EVENTS_MAX } } })
const { placeAnswered, eventsAfter } = orders

/** The phase of the hub's only stream (the hub keeps its streams to itself; the spec waits for the switch to live). */
function onlyPhase(hub: SseHub): SubscriberPhase | null {
  const entries = [...(hub as unknown as { entries: Set<{ subscriber: { phase: SubscriberPhase } }> }).entries]
  return entries.length === 1 ? (entries[0]?.subscriber.phase ?? null) : null
}

/** Opens a global stream resumed so that BUFFER_EVENTS_MAX - 1 events are left to replay, and waits until it is live. */
async function resumedLiveAlmostFull(): Promise<{ lastEventId: number; stream: ReadableStream<Uint8Array> }> {
  for (let index = 0; index < 3; index++) await placeAnswered(`leftover-${crypto.randomUUID()}`)
  const lastEventId = orders.t.gateway.engine.wal.lastLsn - (BUFFER_EVENTS_MAX - 1)
  expect(eventsAfter(lastEventId)).toHaveLength(BUFFER_EVENTS_MAX - 1)
  const hub = orders.t.http.services.hub
  const opened = hub.open({ kind: 'global' }, lastEventId)
  if (!opened.ok) throw new Error('not opened')
  // The replay queues the events left, has room for one more, and goes live: the client has read nothing yet.
  await eventually(() => onlyPhase(hub) === 'live')
  return { lastEventId, stream: opened.stream }
}

test('a client that has not yet read what the replay left takes an order\'s live batches, all delivered once, in order', async () => {
  const { lastEventId, stream } = await resumedLiveAlmostFull()
  const lsnBefore = orders.t.gateway.engine.wal.lastLsn
  await placeAnswered(`leftover-live-${crypto.randomUUID()}`) // its events come in batches (accepted, sent, the venue's answer)
  const want = eventsAfter(lastEventId)
  expect(want.filter((lsn) => lsn > lsnBefore).length).toBeLessThan(BUFFER_EVENTS_MAX)
  const reader = new SseReader(new Response(stream))
  const frames = await reader.until((all) => all.some((frame) => frame.event === 'disconnect') || all.filter((frame) => frame.id !== null).length >= want.length, 3_000)
  await reader.cancel()
  // Before: {"reason":"slow_consumer","last_event_id":<lastEventId>} at the order's second live batch.
  expect(frames.find((frame) => frame.event === 'disconnect')?.data ?? null).toBeNull()
  expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual(want)
})

test('a client that reads nothing is still cut off once bufferEventsMax live events wait, resuming where it asked to', async () => {
  const { lastEventId, stream } = await resumedLiveAlmostFull()
  const hub = orders.t.http.services.hub
  // Orders until the stream is cut off (its subscriber gone from the hub): some 4 events each, more than a buffer in all.
  for (let index = 0; index < 10 && hub.subscriberCount > 0; index++) await placeAnswered(`leftover-unread-${crypto.randomUUID()}`)
  expect(hub.subscriberCount).toBe(0)
  const reader = new SseReader(new Response(stream))
  const frames = await reader.until((all) => all.some((frame) => frame.event === 'disconnect'), 3_000)
  await reader.cancel()
  expect(frames.filter((frame) => frame.id !== null)).toEqual([])
  expect(frames.find((frame) => frame.event === 'disconnect')?.data).toEqual({ reason: 'slow_consumer', last_event_id: lastEventId, buffer_events_max: BUFFER_EVENTS_MAX })
})
