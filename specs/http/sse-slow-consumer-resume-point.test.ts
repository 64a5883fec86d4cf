/**
 * The final event of a stream cut off as `slow_consumer` names where its client resumes: the last event it was handed
 * (its queue is dropped at the cut, specs/http/sse-slow-consumer-release), or, handed none, the point it resumed from.
 * It named the log's end at the open instead: the subscriber started there before the hub set its resume point, and
 * the opening `retry:` and comment counted as handed up to it. A client resuming from that skipped every event
 * between the two, which its replay had queued and the cut dropped. Resumed from what the final event names, the
 * client gets every event once.
 */

import { beforeAll, expect, test } from 'bun:test'
import { answeredOrders } from './sse-answered-orders.ts'
import { type SseFrame, SseReader } from './sse-client.ts'

const BUFFER_EVENTS_MAX = 8

const world = answeredOrders({ config: { sse: { heartbeatMs: 9_999, subscriberBufferEventsMax: BUFFER_EVENTS_MAX } } })
const { eventsAfter } = world
let key = 0
const placeAnswered = (): Promise<void> => world.placeAnswered(`resume-point-${key++}`)

beforeAll(async () => {
  for (let index = 0; index < 3; index++) await placeAnswered()
})

/** Resumes after `lastEventId`; `readFirst` reads the stream's first chunk at once (before its replay's first turn). */
async function cutOff(lastEventId: number, readFirst: boolean): Promise<{ firstChunk: string; frames: SseFrame[] }> {
  const opened = world.t.http.services.hub.open({ kind: 'global' }, lastEventId)
  if (!opened.ok) throw new Error('not opened')
  const reader = opened.stream.getReader()
  const first = readFirst ? await reader.read() : null
  const firstChunk = first?.value === undefined ? '' : new TextDecoder().decode(first.value)
  const before = world.t.http.services.hub.subscriberCount
  // The replay queues its few events and goes live; the client reads nothing more, and live batches fill the buffer.
  for (let orders = 0; orders < 6 && world.t.http.services.hub.subscriberCount === before; orders++) await placeAnswered()
  expect(world.t.http.services.hub.subscriberCount).toBe(before - 1)
  const rest = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const chunk = await reader.read()
      if (chunk.done) controller.close()
      else controller.enqueue(chunk.value)
    },
  })
  const frames = await new SseReader(new Response(rest)).until((all) => all.some((frame) => frame.event === 'disconnect'), 2_000)
  return { firstChunk, frames }
}

/** Every event id a stream resumed after `lastEventId` delivers up to the log's end now. */
async function resumedIds(lastEventId: number): Promise<number[]> {
  const want = eventsAfter(lastEventId)
  const opened = world.t.http.services.hub.open({ kind: 'global' }, lastEventId)
  if (!opened.ok) throw new Error('not opened')
  const stream = new SseReader(new Response(opened.stream))
  const frames = await stream.until((all) => all.filter((frame) => frame.id !== null).length >= want.length, 2_000)
  await stream.cancel()
  return frames.flatMap((frame) => (frame.id === null ? [] : [frame.id]))
}

for (const readFirst of [false, true]) {
  test(`a resumed stream cut off before any event was handed names its resume point (${readFirst ? 'the opening read' : 'nothing read'})`, async () => {
    const lastEventId = world.t.gateway.engine.wal.lastLsn - 3
    const { firstChunk, frames } = await cutOff(lastEventId, readFirst)
    expect(firstChunk).not.toContain('id: ') // the opening pieces only
    const events = frames.filter((frame) => frame.event !== null)
    expect(events).toEqual([{ id: null, event: 'disconnect', data: { reason: 'slow_consumer', last_event_id: lastEventId, buffer_events_max: BUFFER_EVENTS_MAX }, comment: null }])
    // Resumed from there: every event after it, once, the replayed ones the cut dropped included.
    // (An order's answers may still be written meanwhile: every event up to the last one delivered, none twice.)
    const want = eventsAfter(lastEventId)
    const got = await resumedIds(lastEventId)
    expect(got.length).toBeGreaterThanOrEqual(want.length)
    expect(got).toEqual(eventsAfter(lastEventId).filter((id) => id <= (got.at(-1) as number)))
  })
}
