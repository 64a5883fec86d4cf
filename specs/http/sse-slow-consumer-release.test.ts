/**
 * A stream cut off as `slow_consumer` lets go of what it had queued at once. The stream's own queue was the buffer,
 * and closing a ReadableStream keeps its queue until it is read: a client that stopped reading kept its whole backlog
 * (bufferEventsMax events plus a batch) in the gateway until Bun's idle timeout closed the stalled socket (measured: 258
 * events held 30 s after the cut), while its slot was already free for the next stream to fill. Now the cut drops the
 * queue: a client that reads again gets what the socket already held, then the final event, whose `last_event_id` is
 * the last event it was handed (where it resumes) — never the events queued behind the cut.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { SseHub, type DisconnectReason } from '../../src/http/sse/index.ts'
import { engineWithFeed } from './sse-feed.ts'

const BUFFER_EVENTS_MAX = 8
/** Large events, so the kernel's socket buffers (a few MiB on loopback) fill in a few hundred. */
const PAD = 'x'.repeat(64 * 1024)
/** The most single-event batches published before the cut must have come (it comes after ~80). */
const BATCHES_MAX = 2_000

const { engine, publish } = engineWithFeed()
const disconnects: DisconnectReason[] = []
let hub: SseHub
let server: ReturnType<typeof Bun.serve>

beforeAll(() => {
  hub = new SseHub({ engine, heartbeatMs: 3_600_000, bufferEventsMax: BUFFER_EVENTS_MAX, subscribersMax: 4, onDisconnect: (reason) => void disconnects.push(reason) })
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 30,
    fetch: () => {
      const opened = hub.open({ kind: 'global' }, null)
      return opened.ok ? new Response(opened.stream, { headers: { 'Content-Type': 'text/event-stream' } }) : new Response(null, { status: 503 })
    },
  })
})
afterAll(async () => {
  hub.close()
  await server.stop(true)
})

/** Resolves once `predicate` holds for the text read so far, or rejects after `timeoutMs`. */
async function readUntil(read: () => string, predicate: (text: string) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate(read())) {
    if (Date.now() > deadline) throw new Error(`timed out with ${read().length} characters read`)
    await Bun.sleep(5)
  }
}

test('a client that stops reading is cut off, and the events queued behind the cut are dropped, not held for it', async () => {
  let text = ''
  const socket: Socket = connect(server.port as number, '127.0.0.1')
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => void (text += chunk))
  try {
    socket.write('GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await readUntil(() => text, (all) => all.includes('egress global stream'), 2_000)
    socket.pause() // stops reading: the kernel's buffers fill, then the subscriber's queue
    let lsn = 0
    while (!disconnects.includes('slow_consumer') && lsn < BATCHES_MAX) {
      lsn++
      publish([{ lsn, event: { type: 'alert.raised', atMs: 1, code: 'PAD', pad: PAD } as unknown as DomainEvent }])
      await Bun.sleep(1) // the server moves what the socket takes
    }
    const cutLsn = lsn
    expect(disconnects).toEqual(['slow_consumer'])
    expect(hub.subscriberCount).toBe(0)

    socket.resume()
    await readUntil(() => text, (all) => all.includes('event: disconnect'), 10_000)
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]))
    const handed = Math.max(0, ...ids)
    // The queue held at least BUFFER_EVENTS_MAX events when the cut came (the latest ones); none of them reach the client.
    expect(handed).toBeLessThanOrEqual(cutLsn - 1 - BUFFER_EVENTS_MAX)
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, index) => index + 1))
    const final = /event: disconnect\ndata: (.*)\n/.exec(text)?.[1]
    expect(JSON.parse(final ?? 'null')).toEqual({ reason: 'slow_consumer', last_event_id: handed, buffer_events_max: BUFFER_EVENTS_MAX })
  } finally {
    socket.destroy()
  }
}, 30_000)
