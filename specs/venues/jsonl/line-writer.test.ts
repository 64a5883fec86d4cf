/**
 * Bun's socket.write takes part of a line under backpressure; the LineWriter must still deliver every line whole and
 * in order, and refuse (rather than grow without bound or interleave) when its queue bound is reached.
 */

import { expect, test } from 'bun:test'
import { LineWriter, type ByteSink } from '../../../src/venues/jsonl/line-writer.ts'

/** A sink that takes at most `acceptBytes` per call, like a socket whose buffer is nearly full. */
function narrowSink(acceptBytes: number): ByteSink & { received: number[]; closed: boolean } {
  const sink = {
    received: [] as number[],
    closed: false,
    accept: acceptBytes,
    write(data: Uint8Array): number {
      if (sink.closed) return -1
      const taken = Math.min(sink.accept, data.byteLength)
      for (let index = 0; index < taken; index++) sink.received.push(data[index] as number)
      return taken
    },
  }
  return sink
}

const text = (bytes: number[]): string => new TextDecoder().decode(new Uint8Array(bytes))

test('partial writes: tails are queued and drained in order, no line overtakes another', () => {
  const sink = narrowSink(3)
  const writer = new LineWriter(sink, 1_000)
  expect(writer.write('{"id":1}\n')).toBe(true)
  expect(writer.write('{"id":2}\n')).toBe(true)
  expect(text(sink.received)).toBe('{"i')
  expect(writer.pendingBytes).toBe(15)
  while (writer.pendingBytes > 0) expect(writer.drain()).toBe(true)
  expect(text(sink.received)).toBe('{"id":1}\n{"id":2}\n')
})

test('the queue bound refuses a line whole; a closed socket refuses too', () => {
  const sink = narrowSink(0)
  const writer = new LineWriter(sink, 10)
  expect(writer.write('123456789\n')).toBe(true)
  expect(writer.write('x\n')).toBe(false)
  expect(writer.pendingBytes).toBe(10)
  sink.closed = true
  expect(writer.drain()).toBe(false)
  expect(new LineWriter(sink, 10).write('a\n')).toBe(false)
})

test('over a real loopback socket under backpressure every line arrives whole and in order', async () => {
  const lineCount = 400
  const payload = 'x'.repeat(64 * 1024)
  let received = ''
  const done = Promise.withResolvers<void>()
  const server = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      data(_socket, bytes) {
        received += new TextDecoder().decode(bytes)
        if (received.length >= lineCount * (payload.length + 22)) done.resolve()
      },
    },
  })
  let writer: LineWriter | null = null
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port: server.port,
    socket: {
      data() {},
      drain() {
        writer?.drain()
      },
    },
  })
  writer = new LineWriter(socket, 64 << 20)
  let partial = false
  for (let index = 0; index < lineCount; index++) {
    expect(writer.write(`{"n":"${String(index).padStart(6, '0')}","p":"${payload}"}\n`)).toBe(true)
    if (writer.pendingBytes > 0) partial = true
  }
  expect(partial).toBe(true) // 25 MiB written at once: the socket pushed back, so the queue was exercised
  await Promise.race([done.promise, Bun.sleep(20_000)])
  socket.end()
  server.stop(true)
  const lines = received.split('\n').filter((line) => line.length > 0)
  expect(lines).toHaveLength(lineCount)
  lines.forEach((line, index) => {
    const parsed = JSON.parse(line) as { n: string; p: string }
    expect(Number(parsed.n)).toBe(index)
    expect(parsed.p.length).toBe(payload.length)
  })
})
