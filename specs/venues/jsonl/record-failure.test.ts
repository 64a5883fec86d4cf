/**
 * A failed write or fsync of the JSONL sim venue's record file is fatal, as a failed fsync of the gateway's log is:
 * the server answered that place `unknown` and carried on, its record no longer holding what it was asked. Now every
 * request in flight is answered `unknown` at once (the book may have taken it), nothing more reaches the book (a
 * request read after is answered `retryable`: the venue did nothing), and `died` resolves with the failure for its
 * process to exit (cli/sim-venue.ts).
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { defaultSimInstruments } from '../../../src/domain/instruments.ts'
import { SimClock } from '../../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../../src/runtime/paper.ts'
import { LineReader, decodeLine, encodeLine, serveJsonlVenue } from '../../../src/venues/jsonl/index.ts'
import { SimVenue } from '../../../src/venues/sim/index.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

function place(clientOrderId: string): unknown {
  return { clientOrderId, account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: d('0.001'), price: d('1000'), tif: 'GTC', postOnly: false, reduceOnly: false }
}

test('a failed fsync of the record: the requests in flight are answered unknown, later ones retryable, the book sees no more, and died says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'egress-record-failure-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  const clock = new SimClock({ startMs: 1_767_225_600_000 })
  const venue = new SimVenue({ clock, seed: 5, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
  let syncs = 0
  const logged: string[] = []
  const server = serveJsonlVenue(venue, {
    hostname: '127.0.0.1', port: 0, recordPath: join(dir, 'record.jsonl'), symbols: [], pricePushMs: 60_000, log: (line) => logged.push(line),
    recordIo: {
      writeSync: (fd, data) => writeSync(fd, data),
      fsyncSync: () => {
        if (++syncs === 2) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })
      },
    },
  })
  cleanups.push(() => server.stop())
  let died: Error | null = null
  void server.died.then((error) => {
    died = error
  })
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
  // The first place is recorded and waits for the book (simulated time stands still); the second's fsync fails.
  socket.write(encodeLine({ id: 1, op: 'place', args: place('r1') }) + encodeLine({ id: 2, op: 'place', args: place('r2') }))
  await until(() => answers.has(1) && answers.has(2))
  const unknown = { kind: 'unknown', reason: 'jsonl_venue_failed: the venue stopped: its record file failed' }
  expect(answers.get(1)).toEqual(unknown)
  expect(answers.get(2)).toEqual(unknown)
  await until(() => died !== null)
  expect((died as Error | null)?.message).toBe('EIO: i/o error, fsync')
  expect(logged.some((line) => line.startsWith('the record file failed: EIO'))).toBe(true)
  // Read after the failure: never handed to the book.
  socket.write(encodeLine({ id: 3, op: 'place', args: place('r3') }) + encodeLine({ id: 4, op: 'balances', args: 'acct-a' }))
  await until(() => answers.has(3) && answers.has(4))
  expect(answers.get(3)).toMatchObject({ kind: 'retryable', reason: 'jsonl_venue_failed: the venue is stopping: its record file failed' })
  expect(answers.get(4)).toMatchObject({ kind: 'retryable' })
  // The book's later answer to the first goes nowhere: it was answered unknown already.
  await clock.advanceAsync(10)
  await Bun.sleep(50)
  expect(answers.get(1)).toEqual(unknown)
  expect(venue.inspect().requests.calls.place).toBe(1)
  expect(readFileSync(join(dir, 'record.jsonl'), 'utf8').split('\n').filter((line) => line !== '')).toHaveLength(2)
})
