/**
 * The JSONL sim venue holds a bounded number of requests per client connection: each request read waits for the
 * book's answer (one latency draw later), and a client that pipelined requests without waiting for answers grew the
 * venue's pending work without bound. Past the bound a request is answered `retryable` before the book sees it (the
 * venue did nothing, so that is the truth); the requests within the bound are answered as usual.
 */

import { afterEach, expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../../src/domain/instruments.ts'
import { SimClock } from '../../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../../src/runtime/paper.ts'
import { LineReader, decodeLine, encodeLine, serveJsonlVenue } from '../../../src/venues/jsonl/index.ts'
import { SimVenue } from '../../../src/venues/sim/index.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

test('a request past requestsInFlightMax on one connection is answered retryable; after the answers come, requests are taken again', async () => {
  // Simulated time stands still until the test moves it: the book's answers wait, so requests stay in flight.
  const clock = new SimClock({ startMs: 1_767_225_600_000 })
  const instruments = defaultSimInstruments()
  const venue = new SimVenue({ clock, seed: 5, instruments: simInstrumentsFor(instruments), latencyMsMin: 5, latencyMsMax: 5 })
  const server = serveJsonlVenue(venue, {
    hostname: '127.0.0.1', port: 0, recordPath: null, symbols: [], pricePushMs: 60_000, requestsInFlightMax: 3, log: () => {},
  })
  cleanups.push(() => server.stop())
  const answers = new Map<number, unknown>()
  const reader = new LineReader()
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port: server.port,
    socket: {
      data(_socket, bytes) {
        for (const line of reader.push(bytes)) {
          const message = decodeLine(line) as { id?: number; result?: unknown }
          if (typeof message.id === 'number') answers.set(message.id, message.result)
        }
      },
    },
  })
  cleanups.push(() => socket.end())
  const until = async (condition: () => boolean): Promise<void> => {
    for (let waited = 0; waited < 300 && !condition(); waited++) await Bun.sleep(10)
  }
  socket.write([1, 2, 3, 4].map((id) => encodeLine({ id, op: 'balances', args: 'acct-a' })).join(''))
  await until(() => answers.has(4))
  expect(answers.get(4)).toMatchObject({ kind: 'retryable', reason: 'jsonl_venue_busy: too many requests in flight' })
  expect([1, 2, 3].some((id) => answers.has(id))).toBe(false)
  await clock.advanceAsync(10)
  await until(() => answers.size === 4)
  expect([1, 2, 3].map((id) => (answers.get(id) as { kind: string }).kind)).toEqual(['ok', 'ok', 'ok'])
  socket.write(encodeLine({ id: 5, op: 'balances', args: 'acct-a' }))
  await until(() => clock.pendingCount() > 0)
  await clock.advanceAsync(10)
  await until(() => answers.has(5))
  expect(answers.get(5)).toMatchObject({ kind: 'ok' })
})
