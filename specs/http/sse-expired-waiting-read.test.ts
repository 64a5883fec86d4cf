/**
 * A client waiting on its next read when its token's authority has ended is handed nothing more, and the final event
 * names the last event it was handed, never the one it was not. The event published then went to a server already
 * asking for it (Subscriber.enqueue's direct hand), where the authority is looked at before handing it: the stream
 * ended, but the event had set the stream's resume point already, and with nothing queued the final event named that:
 * a client resuming there (Last-Event-ID) never saw the event, nor would it from the log.
 */

import { expect, test } from 'bun:test'
import { SseHub } from '../../src/http/sse/index.ts'
import { SseReader } from './sse-client.ts'
import { canceled, engineWithFeed, expiringAuthority } from './sse-feed.ts'

test('an event published to a waiting read after the token expired is not named as handed: the client resumes before it', async () => {
  const { engine, publish } = engineWithFeed()
  const hub = new SseHub({ engine, heartbeatMs: 3_600_000, bufferEventsMax: 64, subscribersMax: 4 })
  const watch = expiringAuthority()
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
  const watch = expiringAuthority()
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
