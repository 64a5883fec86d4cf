/**
 * A fake JSONL venue for the client's specs: it sends whatever a spec writes, and the client connected to it. A spec
 * registers `stopFakeVenues` in its afterEach.
 */

import { expect } from 'bun:test'
import type { Socket } from 'bun'
import type { ExecutionReport, PlaceRequest, VenueOrder } from '../../../src/venues/adapter.ts'
import { JsonlVenueClient, LineReader, decodeLine, encodeLine } from '../../../src/venues/jsonl/index.ts'
import { LineWriter } from '../../../src/venues/jsonl/line-writer.ts'

const cleanups: (() => void)[] = []

/** Stops every fake venue and closes every client started since the last call. */
export function stopFakeVenues(): void {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
}

export interface Request {
  id: number
  op: string
  args: unknown
}

/** A venue that sends whatever a test writes: one price push on connect (what `connect` waits for), then nothing. */
export interface FakeVenue {
  port: number
  /** Connections accepted so far. */
  connections: number
  requests: Request[]
  /** Writes `text` as given, so several lines written at once reach the client as one chunk. */
  send(text: string): void
}

export function startFakeVenue(): FakeVenue {
  let writer: LineWriter | null = null
  let reader = new LineReader()
  const venue: FakeVenue = {
    port: 0,
    connections: 0,
    requests: [],
    send: (text) => expect(writer?.write(text)).toBe(true),
  }
  const listener = Bun.listen<undefined>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket: Socket<undefined>) {
        venue.connections++
        reader = new LineReader()
        // Bounded well above the 1 MiB line the overlong test sends; drain() writes it on as the client reads.
        writer = new LineWriter(socket, 8 << 20)
        venue.send(encodeLine({ prices: [{ symbol: 'BTC-USD', price: 100n, observedAtMs: 1 }] }))
      },
      data(_socket, bytes) {
        for (const line of reader.push(bytes)) venue.requests.push(decodeLine(line) as Request)
      },
      drain() {
        writer?.drain()
      },
    },
  })
  venue.port = listener.port
  cleanups.push(() => listener.stop(true))
  return venue
}

export async function connect(venue: FakeVenue): Promise<{ client: JsonlVenueClient; logged: string[]; reports: ExecutionReport[] }> {
  const logged: string[] = []
  const client = await JsonlVenueClient.connect({
    venue: 'sim', hostname: '127.0.0.1', port: venue.port, requestTimeoutMs: 5_000, pendingMax: 10, reconnectMsMax: 50, connectWaitMs: 2_000,
    log: (line) => void logged.push(line),
  })
  cleanups.push(() => client.close())
  const reports: ExecutionReport[] = []
  client.onReport((report) => void reports.push(report))
  return { client, logged, reports }
}

export async function until(condition: () => boolean, what: string): Promise<void> {
  for (let wait = 0; wait < 400; wait++) {
    if (condition()) return
    await Bun.sleep(5)
  }
  throw new Error(`gave up waiting for ${what}`)
}

/** The id of the request the venue received `count`-th (1-based), once it has arrived. */
export async function requestId(venue: FakeVenue, count: number): Promise<number> {
  await until(() => venue.requests.length >= count, `request ${count}`)
  return (venue.requests[count - 1] as Request).id
}

export function report(execId: string): ExecutionReport {
  return { venue: 'sim', execId, kind: 'new', clientOrderId: 'c-1', venueOrderId: 'v-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', cumQty: 0n, venueTimeMs: 1 }
}

export const PLACE: PlaceRequest = {
  clientOrderId: 'c-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: 1n, price: 100n, tif: 'GTC', postOnly: false, reduceOnly: false,
}

export const ORDER: VenueOrder = { clientOrderId: 'c-1', venueOrderId: 'v-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', qty: 5n, price: 100n, cumQty: 2n, status: 'partially_filled' }

export function withCode(logged: readonly string[], code: string): string[] {
  return logged.filter((line) => line.startsWith(`${code}: `))
}
