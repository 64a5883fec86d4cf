/**
 * A stream's opening pieces take no room from events. A stream goes live with them queued (the `retry:` line, the
 * comment naming the log's end, and with a resume point the log does not hold a `resync_required`), and they counted
 * against `bufferEventsMax` as events would: with the smallest buffer the config allows, the first live batch found
 * the buffer full and cut the stream off (`slow_consumer`) before its client had read once, though it was not behind.
 * Now a client that opens and reads after the first live batch gets the opening pieces and the batch; one that reads
 * nothing while a second batch arrives is still cut off (it is behind by a whole buffer).
 */

import { expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { SseHub } from '../../src/http/sse/index.ts'
import { SseReader } from './sse-client.ts'
import { engineWithFeed } from './sse-feed.ts'

/** The smallest `sse.subscriberBufferEventsMax` the config allows (src/config/schema.ts). */
const BUFFER_EVENTS_MAX = 1

const alert = (lsn: number): { event: DomainEvent; lsn: number } => ({ lsn, event: { type: 'alert.raised', atMs: 1, code: 'OPENING' } as unknown as DomainEvent })

/** Opens a global stream resuming after `lastEventId`, publishes `batches` before the client reads, then reads it. */
async function openedThenRead(lastEventId: number | null, batches: number[][]): Promise<ReturnType<SseReader['events']>> {
  const { engine, publish } = engineWithFeed()
  const hub = new SseHub({ engine, heartbeatMs: 3_600_000, bufferEventsMax: BUFFER_EVENTS_MAX, subscribersMax: 4 })
  try {
    const opened = hub.open({ kind: 'global' }, lastEventId)
    if (!opened.ok) throw new Error('not opened')
    for (const batch of batches) publish(batch.map(alert))
    const stream = new SseReader(new Response(opened.stream))
    const want = batches.flat().at(-1)
    const frames = await stream.until((all) => all.some((frame) => frame.event === 'disconnect' || (frame.id !== null && frame.id === want)))
    await stream.cancel()
    return frames
  } finally {
    hub.close()
  }
}

test('a client that opens and reads after the first live batch is not cut off, with the smallest buffer', async () => {
  const frames = await openedThenRead(null, [[1]])
  expect(frames.find((frame) => frame.event === 'disconnect') ?? null).toBeNull()
  expect(frames.slice(0, 1).map((frame) => frame.comment)).toEqual(['egress global stream; log at 0'])
  expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual([1])
})

test('nor one whose stream opened with resync_required', async () => {
  // Resumed after an id ahead of the log's end (0): the stream opens with resync_required, a third opening piece.
  const frames = await openedThenRead(5, [[1]])
  expect(frames.find((frame) => frame.event === 'disconnect') ?? null).toBeNull()
  expect(frames.filter((frame) => frame.id !== null).map((frame) => [frame.id, frame.event])).toEqual([
    [0, 'resync_required'],
    [1, 'alert.raised'],
  ])
})

test('a client that reads nothing while a second batch arrives is still cut off', async () => {
  const frames = await openedThenRead(null, [[1], [2]])
  expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual([])
  expect(frames.find((frame) => frame.event === 'disconnect')?.data).toEqual({ reason: 'slow_consumer', last_event_id: 0, buffer_events_max: BUFFER_EVENTS_MAX })
})
