/**
 * The JSONL client's reconnects, over real loopback sockets (127.0.0.1): a lost connection schedules exactly one
 * reconnect, close() cancels the one waiting, and a connection the venue drops at once is never kept as a dead socket
 * (which would take calls until their timeout) nor told lost twice (which would start a second reconnect chain).
 */

import { afterEach, expect, test } from 'bun:test'
import type { Socket } from 'bun'
import type { PlaceRequest, VenueOutcome } from '../../../src/venues/adapter.ts'
import { JsonlVenueClient, encodeLine } from '../../../src/venues/jsonl/index.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

interface DroppingVenue {
  port: number
  /** Connections accepted so far. */
  connections: number
  /** Connections open now. */
  open: number
  /** Closes the first connection (the later ones are closed as soon as they are accepted). */
  dropFirst(): void
}

/** A venue whose first connection gets prices and stays until dropFirst(); every later one is closed on accept. */
function startDroppingVenue(): DroppingVenue {
  let first: Socket<undefined> | null = null
  const venue: DroppingVenue = { port: 0, connections: 0, open: 0, dropFirst: () => void first?.end() }
  const listener = Bun.listen<undefined>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        venue.connections++
        venue.open++
        if (venue.connections > 1) return void socket.end()
        first = socket
        socket.write(encodeLine({ prices: [{ symbol: 'BTC-USD', price: 100n, observedAtMs: 1 }] }))
      },
      data() {},
      close() {
        venue.open--
      },
    },
  })
  venue.port = listener.port
  cleanups.push(() => listener.stop(true))
  return venue
}

const PLACE: PlaceRequest = {
  clientOrderId: 'c-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: 1n, price: 100n, tif: 'GTC', postOnly: false, reduceOnly: false,
}

async function connect(venue: { port: number }, reconnectMsMax: number): Promise<JsonlVenueClient> {
  const client = await JsonlVenueClient.connect({
    venue: 'sim', hostname: '127.0.0.1', port: venue.port, requestTimeoutMs: 5_000, pendingMax: 10, reconnectMsMax, connectWaitMs: 2_000, log: () => {},
  })
  cleanups.push(() => client.close())
  return client
}

/** Resolves once the client has seen its connection lost (a call is refused `retryable` without being sent). */
async function untilDisconnected(client: JsonlVenueClient): Promise<void> {
  for (let wait = 0; wait < 2_000; wait++) {
    const outcome = await client.place(PLACE)
    if (outcome.kind === 'retryable') return
    await Bun.sleep(1)
  }
  throw new Error('the client never saw its connection lost')
}

test('close() cancels the reconnect a lost connection scheduled: the venue sees no connection after it', async () => {
  const venue = startDroppingVenue()
  const client = await connect(venue, 60_000)
  venue.dropFirst()
  // The first reconnect waits 50 ms; the client is closed well inside it.
  await untilDisconnected(client)
  client.close()
  const connections = venue.connections
  await Bun.sleep(250)
  expect(venue.connections).toBe(connections)
  expect(venue.open).toBe(0)
})

test('a venue that closes every connection on accept: one reconnect per lost connection, no dead socket kept', async () => {
  const venue = startDroppingVenue()
  const client = await connect(venue, 50)
  venue.dropFirst()
  // Calls all along: a dead socket kept would take one and leave it waiting for its 5 s timeout.
  const outcomes: Promise<VenueOutcome<unknown>>[] = []
  const startedMs = Date.now()
  while (Date.now() - startedMs < 500) {
    outcomes.push(client.place(PLACE))
    await Bun.sleep(2)
  }
  const elapsedMs = Date.now() - startedMs
  client.close()
  const settled = await Promise.all(outcomes)
  for (const outcome of settled) {
    // Refused before sending, or written on a connection the venue then closed: never left to its timeout.
    expect(outcome.kind === 'retryable' || (outcome.kind === 'unknown' && outcome.reason === 'jsonl_disconnected: venue connection lost')).toBe(true)
  }
  // Reconnects every 50 ms at most (reconnectMsMax), one chain: two chains would double the connections per loss.
  expect(venue.connections).toBeLessThanOrEqual(2 + Math.ceil(elapsedMs / 50))
  expect(venue.connections).toBeGreaterThan(2)
})

/** A venue that closes connection n on accept unless keep(n) (1-based); a kept one gets prices and stays until dropKept(). */
function startChoosyVenue(keep: (n: number) => boolean): { port: number; acceptedAtMs: number[]; dropKept(): void } {
  let kept: Socket<undefined> | null = null
  const venue = { port: 0, acceptedAtMs: [] as number[], dropKept: () => void kept?.end() }
  const listener = Bun.listen<undefined>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        venue.acceptedAtMs.push(performance.now())
        if (!keep(venue.acceptedAtMs.length)) return void socket.end()
        kept = socket
        socket.write(encodeLine({ prices: [{ symbol: 'BTC-USD', price: 100n, observedAtMs: 1 }] }))
      },
      data() {},
    },
  })
  venue.port = listener.port
  cleanups.push(() => listener.stop(true))
  return venue
}

test('a venue that drops every connection at once is redialled with a growing delay, not every 50 ms', async () => {
  const venue = startChoosyVenue((n) => n === 1)
  const client = await connect(venue, 60_000)
  venue.dropKept()
  await Bun.sleep(1_000)
  client.close()
  // 50, 100, 200, 400 ms: four redials in the second. Before, every successful connect reset the delay to 50 ms, and a
  // venue that accepts and drops at once was dialled ~20 times a second, for good.
  const redials = venue.acceptedAtMs.length - 1
  expect(redials).toBeGreaterThanOrEqual(2)
  expect(redials).toBeLessThanOrEqual(5)
})

test('a connection that stayed up a while starts the reconnect delay again from 50 ms', async () => {
  // 1: kept, dropped at once by us; 2–4: dropped on accept (the delay grows to 400 ms); 5: kept for over a second.
  const venue = startChoosyVenue((n) => n === 1 || n === 5)
  const client = await connect(venue, 60_000)
  venue.dropKept()
  for (let waitedMs = 0; venue.acceptedAtMs.length < 5 && waitedMs < 5_000; waitedMs += 10) await Bun.sleep(10)
  expect(venue.acceptedAtMs.length).toBe(5)
  await Bun.sleep(1_100)
  venue.dropKept()
  for (let waitedMs = 0; venue.acceptedAtMs.length < 6 && waitedMs < 5_000; waitedMs += 10) await Bun.sleep(10)
  client.close()
  expect(venue.acceptedAtMs.length).toBe(6)
  // The 5th connection was up over CONNECTION_PROVEN_MS: the redial after its loss waits 50 ms, not the 800 ms the
  // chain had reached.
  const droppedAtMs = (venue.acceptedAtMs[4] as number) + 1_100
  expect((venue.acceptedAtMs[5] as number) - droppedAtMs).toBeLessThan(400)
})
