/**
 * What the server has taken from a stream's queue is let go at once. The queue dropped its taken pieces only when it
 * emptied or every 1,024 pieces: a client behind by more than one read for a while (a replay refills the buffer as
 * the client reads, and a read takes at most 16 KiB) kept up to 1,024 events it had already been handed, whatever
 * bufferEventsMax said — with a buffer of 8 events of 8 KiB, 8 MiB instead of 64 KiB.
 */

import { expect, test } from 'bun:test'
import { Subscriber } from '../../src/http/sse/index.ts'

const BUFFER_EVENTS_MAX = 8
/** Two to a read (a read joins pieces up to 16 KiB), so the queue never empties. */
const EVENT_BYTES = 8 * 1024

test('events the client was handed are not held by a queue that never empties', async () => {
  const subscriber = new Subscriber(0, { bufferEventsMax: BUFFER_EVENTS_MAX, onClose: () => {} })
  subscriber.phase = 'live'
  const reader = subscriber.stream.getReader()
  const sent: WeakRef<Uint8Array>[] = []
  let lsn = 0
  const sendOne = (): void => {
    const bytes = new Uint8Array(EVENT_BYTES).fill(0x61)
    sent.push(new WeakRef(bytes))
    expect(subscriber.send(++lsn, bytes, subscriber.hasRoom)).toBe(true)
  }
  for (let index = 0; index < BUFFER_EVENTS_MAX; index++) sendOne()
  for (let round = 0; round < 500; round++) {
    const chunk = await reader.read()
    expect(chunk.value?.byteLength).toBe(2 * EVENT_BYTES)
    sendOne()
    sendOne()
  }
  expect(subscriber.backlog).toBe(BUFFER_EVENTS_MAX)
  Bun.gc(true)
  const held = sent.filter((ref) => ref.deref() !== undefined).length
  // The queued events, and none of the 1,000 handed (a few may wait for a later collection).
  expect(held).toBeLessThanOrEqual(BUFFER_EVENTS_MAX + 4)
  subscriber.close('shutdown')
})
