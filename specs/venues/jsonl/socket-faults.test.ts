/**
 * The JSONL client against a venue that misbehaves at the socket level, over real loopback sockets: it answers twice,
 * answers ids never asked, closes inside a line, sends bytes that are not UTF-8, pushes prices for ever more symbols,
 * or never sends prices at all. Every request written and not answered resolves `unknown` (never `retryable`: the venue
 * may have acted), and nothing the venue sends makes the client throw or grow without bound.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import type { Socket } from 'bun'
import type { PlaceRequest } from '../../../src/venues/adapter.ts'
import { JsonlVenueClient, LineReader, decodeLine, encodeLine } from '../../../src/venues/jsonl/index.ts'
import { JsonlLogCode } from '../../../src/venues/jsonl/reasons.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

interface RawVenue {
  port: number
  connections: number
  /** Connections the venue holds open now. */
  open: number
  requests: { id: number; op: string }[]
  /** Writes raw bytes to the latest connection. */
  send(bytes: string | Uint8Array): void
  /** Closes the latest connection. */
  drop(): void
}

function startRawVenue(options: { sendPrices: boolean }): RawVenue {
  let latest: Socket<undefined> | null = null
  let reader = new LineReader()
  const venue: RawVenue = {
    port: 0, connections: 0, open: 0, requests: [],
    send: (bytes) => void latest?.write(bytes),
    drop: () => latest?.end(),
  }
  const listener = Bun.listen<undefined>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        venue.connections++
        venue.open++
        latest = socket
        reader = new LineReader()
        if (options.sendPrices) socket.write(encodeLine({ prices: [{ symbol: 'BTC-USD', price: 100n, observedAtMs: 1 }] }))
      },
      data(_socket, bytes) {
        for (const line of reader.push(bytes)) venue.requests.push(decodeLine(line) as { id: number; op: string })
      },
      close() {
        venue.open--
      },
    },
  })
  venue.port = listener.port
  cleanups.push(() => listener.stop(true))
  return venue
}

const OPTIONS = { venue: 'sim', hostname: '127.0.0.1', requestTimeoutMs: 5_000, pendingMax: 10, reconnectMsMax: 50 }

async function connect(venue: RawVenue, requestTimeoutMs = OPTIONS.requestTimeoutMs): Promise<{ client: JsonlVenueClient; logged: string[] }> {
  const logged: string[] = []
  const client = await JsonlVenueClient.connect({ ...OPTIONS, requestTimeoutMs, port: venue.port, connectWaitMs: 2_000, log: (line) => void logged.push(line) })
  cleanups.push(() => client.close())
  return { client, logged }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let wait = 0; wait < 400; wait++) {
    if (condition()) return
    await Bun.sleep(5)
  }
  throw new Error(`gave up waiting for ${what}`)
}

async function requestId(venue: RawVenue, count: number): Promise<number> {
  await until(() => venue.requests.length >= count, `request ${count}`)
  return (venue.requests[count - 1] as { id: number }).id
}

const PLACE: PlaceRequest = {
  clientOrderId: 'c-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: 1n, price: 100n, tif: 'GTC', postOnly: false, reduceOnly: false,
}

function withCode(logged: readonly string[], code: string): string[] {
  return logged.filter((line) => line.startsWith(`${code}: `))
}

describe('JSONL client: socket faults', () => {
  test('the venue closes after the request was written, inside its answer line: the place is unknown, and the line is not read', async () => {
    const venue = startRawVenue({ sendPrices: true })
    const { client } = await connect(venue)
    const outcome = client.place(PLACE)
    const id = await requestId(venue, 1)
    venue.send(encodeLine({ id, result: { kind: 'ok', value: { venueOrderId: 'v-1' } } }).slice(0, 30))
    venue.drop()
    expect(await outcome).toEqual({ kind: 'unknown', reason: 'jsonl_disconnected: venue connection lost' })
  })

  test('an answer given twice settles the call once; the second is logged, and the next call is answered by its own id', async () => {
    const venue = startRawVenue({ sendPrices: true })
    const { client, logged } = await connect(venue)
    const first = client.place(PLACE)
    const id = await requestId(venue, 1)
    venue.send(encodeLine({ id, result: { kind: 'ok', value: { venueOrderId: 'v-1' } } }) + encodeLine({ id, result: { kind: 'rejected', reason: 'x' } }))
    expect(await first).toEqual({ kind: 'ok', value: { venueOrderId: 'v-1' } })
    const second = client.place({ ...PLACE, clientOrderId: 'c-2' })
    const id2 = await requestId(venue, 2)
    venue.send(encodeLine({ id: id2, result: { kind: 'ok', value: { venueOrderId: 'v-2' } } }))
    expect(await second).toEqual({ kind: 'ok', value: { venueOrderId: 'v-2' } })
    expect(withCode(logged, JsonlLogCode.answerUnexpected)).toEqual([expect.stringContaining(`request ${id}`)])
  })

  test('an answer to an id never asked is logged and settles nothing', async () => {
    const venue = startRawVenue({ sendPrices: true })
    const { client, logged } = await connect(venue)
    const outcome = client.place(PLACE)
    const id = await requestId(venue, 1)
    venue.send(encodeLine({ id: id + 1000, result: { kind: 'ok', value: { venueOrderId: 'v-x' } } }))
    venue.send(encodeLine({ id, result: { kind: 'ok', value: { venueOrderId: 'v-1' } } }))
    expect(await outcome).toEqual({ kind: 'ok', value: { venueOrderId: 'v-1' } })
    expect(withCode(logged, JsonlLogCode.answerUnexpected)).toEqual([expect.stringContaining(`request ${id + 1000}`)])
  })
})

describe('JSONL client: bounds on what the venue pushes', () => {
  test(`prices for ever more symbols are cached for at most REFERENCE_SYMBOLS_MAX symbols; known symbols still update`, async () => {
    const venue = startRawVenue({ sendPrices: true })
    const { client, logged } = await connect(venue)
    const { REFERENCE_SYMBOLS_MAX } = await import('../../../src/venues/jsonl/client.ts')
    const pushes = Math.ceil((REFERENCE_SYMBOLS_MAX * 3) / 1_000)
    for (let push = 0; push < pushes; push++) {
      const prices = Array.from({ length: 1_000 }, (_, index) => ({ symbol: `S-${push}-${index}`, price: 1n, observedAtMs: 1 }))
      venue.send(encodeLine({ prices }))
    }
    venue.send(encodeLine({ prices: [{ symbol: 'BTC-USD', price: 7n, observedAtMs: 9 }] }))
    await until(() => client.referencePrice('BTC-USD')?.price === 7n, 'the last push')
    expect(client.referencePricesHeld).toBeLessThanOrEqual(REFERENCE_SYMBOLS_MAX)
    expect(client.referencePrice(`S-${pushes - 1}-999`)).toBeNull()
    expect(withCode(logged, JsonlLogCode.messageInvalid).some((line) => line.includes('symbols'))).toBe(true)
  })

  test('a venue that never sends prices: connect gives up, and the client it made does not stay connected or reconnect', async () => {
    const venue = startRawVenue({ sendPrices: false })
    const failed = JsonlVenueClient.connect({ ...OPTIONS, port: venue.port, connectWaitMs: 100, log: () => {} })
    await expect(failed).rejects.toThrow('sent no prices')
    await until(() => venue.open === 0, 'the connection closed')
    const connections = venue.connections
    await Bun.sleep(300)
    expect(venue.connections).toBe(connections)
    expect(venue.open).toBe(0)
  })

  test('an answer with bytes that are not UTF-8 is skipped, not read as text with replacement characters: the call is unknown at its timeout', async () => {
    const venue = startRawVenue({ sendPrices: true })
    const { client, logged } = await connect(venue, 300)
    const outcome = client.place(PLACE)
    const id = await requestId(venue, 1)
    const head = new TextEncoder().encode(`{"id":${id},"result":{"kind":"ok","value":{"venueOrderId":"v-`)
    const tail = new TextEncoder().encode('"}}}\n')
    venue.send(new Uint8Array([...head, 0xff, 0xfe, ...tail]))
    expect(await outcome).toEqual({ kind: 'unknown', reason: 'jsonl_timeout: no answer within 300 ms' })
    expect(withCode(logged, JsonlLogCode.lineMalformed)).toEqual([expect.stringContaining('not UTF-8')])
  })
})
