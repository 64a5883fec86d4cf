/**
 * A replay goes live only with room in the buffer. A replay waits for its client: it fills the buffer and stops, and
 * goes on once the client has read. When the events left to replay filled the buffer exactly, it went live full, and
 * the next live batch found `bufferEventsMax` events waiting and cut the stream off (`slow_consumer`), though its
 * client was only keeping the replay's pace (seen as specs/http/sse-resume-interleaved cut off after a read of a
 * handful of events). Now the replay stays a replay until the client reads, and takes what was written meanwhile
 * from the log.
 */

import { expect, test } from 'bun:test'
import { eventually, LIMIT_BUY, post } from './fixture.ts'
import { answeredOrders } from './sse-answered-orders.ts'
import { SseReader } from './sse-client.ts'

const BUFFER_EVENTS_MAX = 8

const orders = answeredOrders({ config: { sse: { heartbeatMs: 9_999, subscriberBufferEventsMax: BUFFER_EVENTS_MAX } } })
const { placeAnswered, eventsAfter } = orders

test('a replay whose last events fill the buffer is not cut off by the first live batch', async () => {
  for (let index = 0; index < 3; index++) await placeAnswered(`room-${index}`)
  // Resumed so that the events left fill the buffer exactly (the opening pieces take no room), the last one at the log's end.
  const lastEventId = orders.t.gateway.engine.wal.lastLsn - BUFFER_EVENTS_MAX
  expect(eventsAfter(lastEventId)).toHaveLength(BUFFER_EVENTS_MAX)
  const opened = orders.t.http.services.hub.open({ kind: 'global' }, lastEventId)
  if (!opened.ok) throw new Error('not opened')
  await Bun.sleep(50) // the replay reads to the log's end and finds the buffer full; the client reads nothing yet
  await placeAnswered('room-live') // its events are published while the buffer is full
  const want = eventsAfter(lastEventId)
  const stream = new SseReader(new Response(opened.stream))
  const frames = await stream.until((all) => all.some((frame) => frame.event === 'disconnect') || all.filter((frame) => frame.id !== null).length >= want.length, 3_000)
  await stream.cancel()
  expect(frames.find((frame) => frame.event === 'disconnect') ?? null).toBeNull()
  expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual(want)
})
