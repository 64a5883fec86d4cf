/**
 * A client waiting on its next read when its token's authority has ended is handed nothing more, and the final event
 * names the last event it was handed, never the one it was not. The event published then went to a server already
 * asking for it (Subscriber.enqueue's direct hand), where the authority is looked at before handing it: the stream
 * ended, but the event had set the stream's resume point already, and with nothing queued the final event named that:
 * a client resuming there (Last-Event-ID) never saw the event, nor would it from the log.
 */

import { expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { SseHub, type StreamAuthority } from '../../src/http/sse/index.ts'
import { SseReader } from './sse-client.ts'
import { engineWithFeed } from './sse-feed.ts'

const canceled = (orderId: string, lsn: number): { event: DomainEvent; lsn: number } => ({ lsn, event: { type: 'order.canceled', atMs: 1, orderId } as unknown as DomainEvent })

/** A token's authority that holds until `expired` is set (as TokenWatch says once the token is past its exp). */
function authority(): StreamAuthority & { expired: boolean } {
  return {
    expired: false,
    state() {
      return this.expired ? 'expired' : 'held'
    },
    check: () => Promise.resolve(true),
  }
}

test('an event published to a waiting read after the token expired is not named as handed: the client resumes before it', async () => {
  const { engine, publish } = engineWithFeed()
  const hub = new SseHub({ engine, heartbeatMs: 3_600_000, bufferEventsMax: 64, subscribersMax: 4 })
  const watch = authority()
  const opened = hub.open({ kind: 'global' }, null, watch)
  if (!opened.ok) throw new Error('not opened')
  const stream = new SseReader(new Response(opened.stream))
  publish([canceled('order-1', 1)])
  await stream.until((all) => all.some((frame) => frame.id === 1))
  // The client reads on: its read waits for the next piece (nothing is queued).
  const rest = stream.until(() => stream.done, 1_000)
  await Bun.sleep(20)
  watch.expired = true
  publish([canceled('order-2', 2)])
  const frames = await rest
  hub.close()
  expect(frames.filter((frame) => frame.id !== null).map((frame) => frame.id)).toEqual([1])
  expect(frames.at(-1)).toMatchObject({ event: 'disconnect', data: { reason: 'unauthenticated', last_event_id: 1 } })
})

test('handed no event yet, the final event names the log end at the open, not the event it was not handed', async () => {
  const { engine, publish } = engineWithFeed()
  const hub = new SseHub({ engine, heartbeatMs: 3_600_000, bufferEventsMax: 64, subscribersMax: 4 })
  const watch = authority()
  const opened = hub.open({ kind: 'global' }, null, watch)
  if (!opened.ok) throw new Error('not opened')
  const stream = new SseReader(new Response(opened.stream))
  await stream.until((all) => all.some((frame) => frame.comment?.startsWith('egress global stream') === true))
  const rest = stream.until(() => stream.done, 1_000)
  await Bun.sleep(20)
  watch.expired = true
  publish([canceled('order-1', 1)])
  const frames = await rest
  hub.close()
  expect(frames.filter((frame) => frame.id !== null)).toEqual([])
  expect(frames.at(-1)).toMatchObject({ event: 'disconnect', data: { reason: 'unauthenticated', last_event_id: 0 } })
})
