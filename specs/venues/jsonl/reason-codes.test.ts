/**
 * Every reason the JSONL client gives leads with a stable code (src/venues/jsonl/reasons.ts, JsonlReason), any detail
 * after a colon, as the FIX adapter's do (FixReason): alerts and explanations (`order.send_retry`'s venueReason,
 * `order.unknown`'s detail) match on the code. Before, the answers the client made itself were bare prose ("venue not
 * connected", "too many requests in flight", "adapter closed", "no answer within N ms", "venue connection lost").
 * The timeout and the lost connection are pinned in socket-faults.test.ts; the server's own answers in
 * server-input.test.ts and server-in-flight.test.ts.
 */

import { afterEach, expect, test } from 'bun:test'
import type { Socket } from 'bun'
import { JsonlVenueClient } from '../../../src/venues/jsonl/client.ts'
import { encodeLine } from '../../../src/venues/jsonl/codec.ts'
import { JsonlReason } from '../../../src/venues/jsonl/reasons.ts'
import type { PlaceRequest, VenueOutcome } from '../../../src/venues/adapter.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

const CODES = new Set<string>(Object.values(JsonlReason))

/** The code a reason leads with: all of it, or what comes before its first `: `. */
function codeOf(reason: string): string {
  const at = reason.indexOf(': ')
  return at < 0 ? reason : reason.slice(0, at)
}

function reasonOf(outcome: VenueOutcome<unknown>): string {
  if (outcome.kind === 'ok') throw new Error('expected an outcome with a reason, got ok')
  return outcome.reason
}

const PLACE: PlaceRequest = {
  clientOrderId: 'c-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: 1n, price: 100n, tif: 'GTC', postOnly: false, reduceOnly: false,
}

/** A venue that pushes one price on connect and never answers; `drop` ends every connection it holds. */
function silentVenue(): { port: number; drop: () => void } {
  const sockets = new Set<Socket<undefined>>()
  const listener = Bun.listen<undefined>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        sockets.add(socket)
        socket.write(encodeLine({ prices: [{ symbol: 'BTC-USD', price: 100n, observedAtMs: 1 }] }))
      },
      data() {},
      close(socket) {
        sockets.delete(socket)
      },
    },
  })
  cleanups.push(() => listener.stop(true))
  return {
    port: listener.port,
    drop: () => {
      listener.stop(true)
      for (const socket of sockets) socket.terminate()
    },
  }
}

async function connect(port: number, pendingMax: number): Promise<JsonlVenueClient> {
  const client = await JsonlVenueClient.connect({
    venue: 'sim', hostname: '127.0.0.1', port, requestTimeoutMs: 30_000, pendingMax, reconnectMsMax: 60_000, connectWaitMs: 2_000, log: () => undefined,
  })
  cleanups.push(() => client.close())
  return client
}

test('a call past pendingMax is retryable with jsonl_too_many_in_flight; one on a closed client is unknown with jsonl_closed', async () => {
  const venue = silentVenue()
  const client = await connect(venue.port, 1)
  const first = client.place(PLACE)
  const second = await client.place({ ...PLACE, clientOrderId: 'c-2' })
  expect(second).toEqual({ kind: 'retryable', reason: `${JsonlReason.tooManyInFlight}: 1 awaiting an answer`, retryAfterMs: 50 })
  // The client's own bound: the venue was not asked, and venue health does not score it (VenueAdapter.answeredLocally).
  expect(client.answeredLocally(second)).toBe(true)
  client.close()
  expect(await first).toEqual({ kind: 'unknown', reason: JsonlReason.closed })
  expect(client.answeredLocally(await first)).toBe(false)
  for (const outcome of [second, await first]) expect(CODES.has(codeOf(reasonOf(outcome)))).toBe(true)
})

test('a call in flight when the connection drops is unknown with jsonl_disconnected; one made after is retryable with jsonl_not_connected', async () => {
  const venue = silentVenue()
  const client = await connect(venue.port, 10)
  expect(client.sessionActive()).toBe(true)
  const inFlight = client.place(PLACE)
  venue.drop()
  expect(await inFlight).toEqual({ kind: 'unknown', reason: `${JsonlReason.disconnected}: venue connection lost` })
  const after = await client.place({ ...PLACE, clientOrderId: 'c-2' })
  expect(after).toMatchObject({ kind: 'retryable', reason: JsonlReason.notConnected })
  // Not connected: the venue was not asked, so venue health does not score the answer; the connection's state is what
  // it scores (down: CRITICAL, VenueAdapter.sessionActive). A call lost mid-way is the venue's: scored.
  expect(client.sessionActive()).toBe(false)
  expect(client.answeredLocally(after)).toBe(true)
  expect(client.answeredLocally(await inFlight)).toBe(false)
  for (const outcome of [await inFlight, after]) expect(CODES.has(codeOf(reasonOf(outcome)))).toBe(true)
})
