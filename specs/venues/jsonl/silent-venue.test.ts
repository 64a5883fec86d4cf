// A connection that goes silent without closing (half-open: the venue's host lost power, a NAT dropped the mapping)
// gives the client no close and no error: the kernel tells nothing until a write has been retried for minutes, and
// with nothing to write, never. The sim venue pushes prices every pricePushMs to every client, so silence past
// `silenceMsMax` means the connection is gone: the client drops it, the calls on it are `unknown` (the venue may have
// acted), it reconnects, and the reconnect asks for every open order to be read back (their reports may be lost).
// Before, the client kept the dead connection for good: sessionActive true, every call written to it timed out
// `unknown`, no reconnect and so no read-back, and the venue's reports never came again.
import { afterEach, expect, test } from 'bun:test'
import { encodeLine, JsonlVenueClient } from '../../../src/venues/jsonl/index.ts'
import { JsonlLogCode, JsonlReason } from '../../../src/venues/jsonl/reasons.ts'
import { PLACE, requestId, startFakeVenue, stopFakeVenues, until, withCode, type FakeVenue } from './fake-venue.ts'

afterEach(stopFakeVenues)

const SILENCE_MS_MAX = 300

async function connect(venue: FakeVenue): Promise<{ client: JsonlVenueClient; logged: string[] }> {
  const logged: string[] = []
  const client = await JsonlVenueClient.connect({
    venue: 'sim', hostname: '127.0.0.1', port: venue.port, requestTimeoutMs: 3_000, pendingMax: 10, reconnectMsMax: 50, connectWaitMs: 2_000,
    silenceMsMax: SILENCE_MS_MAX, log: (line) => void logged.push(line),
  })
  return { client, logged }
}

test('a venue silent past silenceMsMax is dropped: the call on it is unknown, the client reconnects and asks a read-back', async () => {
  // The fake venue pushes prices once, on connect, then says nothing and keeps the connection open.
  const venue = startFakeVenue()
  const { client, logged } = await connect(venue)
  try {
    let readBacks = 0
    client.onVenueReadBackWanted(() => void readBacks++)
    const call = client.place(PLACE)
    await requestId(venue, 1)
    // Dropped well before the request's own 3 s timeout, which would answer jsonl_timeout.
    expect(await call).toEqual({ kind: 'unknown', reason: `${JsonlReason.disconnected}: venue connection lost` })
    await until(() => venue.connections === 2 && readBacks === 1, 'a reconnect asking a read-back')
    expect(withCode(logged, JsonlLogCode.venueSilent)).toHaveLength(1)
  } finally {
    client.close()
  }
})

test('a venue that keeps pushing prices is kept however long no answer is due', async () => {
  const venue = startFakeVenue()
  const { client, logged } = await connect(venue)
  try {
    for (let push = 0; push < 12; push++) {
      await Bun.sleep(SILENCE_MS_MAX / 3)
      venue.send(encodeLine({ prices: [] }))
    }
    expect(venue.connections).toBe(1)
    expect(client.sessionActive()).toBe(true)
    expect(withCode(logged, JsonlLogCode.venueSilent)).toHaveLength(0)
  } finally {
    client.close()
  }
})

test('after close() no silence check runs: the venue sees no connection after it', async () => {
  const venue = startFakeVenue()
  const { client } = await connect(venue)
  client.close()
  await Bun.sleep(SILENCE_MS_MAX * 3)
  expect(venue.connections).toBe(1)
})
