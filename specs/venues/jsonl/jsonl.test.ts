import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StoppableClock } from '../../../src/cli/stoppable-clock.ts'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { defaultSimInstruments } from '../../../src/domain/instruments.ts'
import { simInstrumentsFor } from '../../../src/runtime/paper.ts'
import type { ExecutionReport } from '../../../src/venues/adapter.ts'
import { JsonlVenueClient, LineReader, decodeLine, encodeLine, serveJsonlVenue, type JsonlVenueServer } from '../../../src/venues/jsonl/index.ts'
import { SimVenue } from '../../../src/venues/sim/index.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

function startVenue(recordPath: string | null = null, port = 0): { server: JsonlVenueServer; clock: StoppableClock } {
  const clock = new StoppableClock()
  const instruments = defaultSimInstruments()
  const venue = new SimVenue({ clock, seed: 3, instruments: simInstrumentsFor(instruments) })
  const server = serveJsonlVenue(venue, { hostname: '127.0.0.1', port, recordPath, symbols: instruments.map((i) => i.symbol), pricePushMs: 50, log: () => {} })
  cleanups.push(() => {
    server.stop()
    clock.cancelAll()
  })
  return { server, clock }
}

async function connect(port: number, requestTimeoutMs = 2_000): Promise<JsonlVenueClient> {
  const client = await JsonlVenueClient.connect({ venue: 'sim', hostname: '127.0.0.1', port, requestTimeoutMs, pendingMax: 100, reconnectMsMax: 200, connectWaitMs: 2_000, log: () => {} })
  cleanups.push(() => client.close())
  return client
}

describe('JSONL codec', () => {
  test('bigint units survive the wire exactly, never through a float', () => {
    const value = { qty: 123456789012345678901234567890n, nested: [{ price: -5n }], text: 'x' }
    expect(decodeLine(encodeLine(value).trim())).toEqual(value)
  })

  test('lines are reassembled from arbitrary chunks', () => {
    const reader = new LineReader()
    const bytes = new TextEncoder().encode('{"a":1}\n{"b":')
    expect(reader.push(bytes)).toEqual(['{"a":1}'])
    expect(reader.push(new TextEncoder().encode('2}\n'))).toEqual(['{"b":2}'])
  })
})

describe('sim venue over JSONL/TCP', () => {
  test('a place is answered, reported, readable by client order id, and recorded durably by the venue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-jsonl-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const { server } = startVenue(join(dir, 'record.jsonl'))
    const client = await connect(server.port)
    const price = client.referencePrice('BTC-USD')
    expect(price).not.toBeNull()
    // The sim venue's touch crosses the wire with its price (both sides at the price, sizes in whole lots).
    expect(price?.touch?.bidPrice).toBe(price?.price as bigint)
    expect(price?.touch?.askQty).toBeGreaterThan(0n)
    const reports: ExecutionReport[] = []
    client.onReport((report) => void reports.push(report))
    const outcome = await client.place({
      clientOrderId: 'c-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: parseDecimal('0.01'),
      price: price?.price as bigint, tif: 'GTC', postOnly: false, reduceOnly: false,
    })
    expect(outcome.kind).toBe('ok')
    const status = await client.orderStatus('c-1')
    expect(status.kind).toBe('ok')
    expect(status.kind === 'ok' && status.value?.clientOrderId).toBe('c-1')
    expect(status.kind === 'ok' && typeof status.value?.qty).toBe('bigint')
    for (let wait = 0; wait < 200 && reports.length === 0; wait++) await Bun.sleep(10)
    expect(reports[0]?.clientOrderId).toBe('c-1')
    const inspected = (await client.inspect()) as { orders: number; duplicateClientOrderIds: string[] }
    expect(inspected.orders).toBe(1)
    expect(inspected.duplicateClientOrderIds).toEqual([])
    expect(readFileSync(join(dir, 'record.jsonl'), 'utf8')).toContain('"clientOrderId":"c-1"')
  })

  test('a place marked a possible resend goes out as a plain place (the protocol has no such flag; its request schema is strict)', async () => {
    const { server } = startVenue()
    const client = await connect(server.port)
    const price = client.referencePrice('BTC-USD')
    const request = {
      clientOrderId: 'c-resend', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: parseDecimal('0.01'),
      price: price?.price as bigint, tif: 'GTC', postOnly: false, reduceOnly: false,
    } as const
    // Passed on as it is, the venue refuses the unknown member and the order's fate is unknown.
    expect(await client.place({ ...request, possibleResend: true })).toMatchObject({ kind: 'ok' })
    // The venue dedupes by client order id: a second copy is refused, never a second order.
    expect(await client.place({ ...request, possibleResend: true })).toMatchObject({ kind: 'rejected' })
    expect(((await client.inspect()) as { orders: number }).orders).toBe(1)
  })

  test('a client that names its connection (hello) has its place calls counted and recorded under that name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egress-jsonl-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const { server } = startVenue(join(dir, 'record.jsonl'))
    const named = async (clientName: string): Promise<JsonlVenueClient> => {
      const client = await JsonlVenueClient.connect({ venue: 'sim', hostname: '127.0.0.1', port: server.port, requestTimeoutMs: 2_000, pendingMax: 100, reconnectMsMax: 200, connectWaitMs: 2_000, clientName, log: () => {} })
      cleanups.push(() => client.close())
      return client
    }
    const [a, b, unnamed] = [await named('node-a'), await named('node-b'), await connect(server.port)]
    const place = async (client: JsonlVenueClient, clientOrderId: string): Promise<void> => {
      const price = client.referencePrice('BTC-USD')?.price as bigint
      const outcome = await client.place({ clientOrderId, account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: parseDecimal('0.01'), price, tif: 'GTC', postOnly: false, reduceOnly: false })
      expect(outcome.kind).toBe('ok')
    }
    await place(a, 'a-1')
    await place(b, 'b-1')
    await place(b, 'b-2')
    await place(unnamed, 'u-1')
    const inspected = (await unnamed.inspect()) as { placeCalls: number; placeCallsByClient: Record<string, number> }
    expect(inspected.placeCalls).toBe(4)
    expect(inspected.placeCallsByClient).toEqual({ 'node-a': 1, 'node-b': 2, '(unnamed)': 1 })
    const recorded = readFileSync(join(dir, 'record.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { client: string; clientOrderId: string })
    expect(recorded.map((line) => `${line.client} ${line.clientOrderId}`)).toEqual(['node-a a-1', 'node-b b-1', 'node-b b-2', '(unnamed) u-1'])
  })

  test('calls while disconnected are retryable; the client reconnects when the venue is back', async () => {
    const first = startVenue()
    const port = first.server.port
    const client = await connect(port)
    first.server.stop()
    for (let wait = 0; wait < 100 && (await client.openOrders()).kind !== 'retryable'; wait++) await Bun.sleep(10)
    expect((await client.openOrders()).kind).toBe('retryable')
    startVenue(null, port)
    let kind = ''
    for (let wait = 0; wait < 200 && kind !== 'ok'; wait++) {
      kind = (await client.openOrders()).kind
      await Bun.sleep(10)
    }
    expect(kind).toBe('ok')
  })

  test('the client learns on connecting how long the venue keeps trades (the back office compares only that window)', async () => {
    const { server } = startVenue()
    const client = await connect(server.port)
    // The sim venue's default endedOrderRetentionMs (sim/options.ts): it keeps an ended order's trades that long.
    expect(client.tradeHistoryMs).toBe(300_000)
  })

  test('a trade history that is not a whole number of ms is logged and ignored (every trade is then compared)', async () => {
    for (const said of [-5, 1.5, '60000', null]) {
      const listener = Bun.listen<undefined>({
        hostname: '127.0.0.1',
        port: 0,
        socket: {
          open(socket) {
            socket.write(encodeLine({ info: { tradeHistoryMs: said } }))
            socket.write(encodeLine({ prices: [{ symbol: 'BTC-USD', price: 1n, observedAtMs: 0 }] }))
          },
          data() {},
        },
      })
      cleanups.push(() => listener.stop(true))
      const logged: string[] = []
      const client = await JsonlVenueClient.connect({ venue: 'sim', hostname: '127.0.0.1', port: listener.port, requestTimeoutMs: 500, pendingMax: 10, reconnectMsMax: 200, connectWaitMs: 2_000, log: (line) => void logged.push(line) })
      cleanups.push(() => client.close())
      expect(client.tradeHistoryMs).toBeUndefined()
      expect(logged).toEqual([`VENUE_MESSAGE_INVALID: venue info ignored: tradeHistoryMs must be a non-negative integer of ms, got ${JSON.stringify(said)}`])
    }
  })
})
