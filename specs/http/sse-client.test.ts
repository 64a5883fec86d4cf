/**
 * The specs' SSE client (sse-client.ts) loses nothing when a wait for frames times out: the read it left under way
 * took the next chunk for no one, so a spec that waited again (a client reading while orders settle) lost that chunk,
 * a whole burst of events once a stream hands what it has queued in one read.
 */

import { expect, test } from 'bun:test'
import { SseReader } from './sse-client.ts'

test('a chunk arriving after a wait timed out is read by the next wait', async () => {
  let send: (text: string) => void = () => undefined
  const reader = new SseReader(new Response(new ReadableStream<Uint8Array>({ start: (controller) => void (send = (text) => controller.enqueue(new TextEncoder().encode(text))) })))
  await expect(reader.until(() => false, 20)).rejects.toThrow('timed out')
  send('id: 1\nevent: a\ndata: 1\n\nid: 2\nevent: b\ndata: 2\n\n')
  const frames = await reader.until((all) => all.length >= 2, 500)
  expect(frames.map((frame) => frame.id)).toEqual([1, 2])
  await reader.cancel()
})
