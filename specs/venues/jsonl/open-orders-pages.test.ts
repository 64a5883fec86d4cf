/**
 * The open-order list over JSONL comes in pages (codec.ts OPEN_ORDERS_PAGE_MAX): one answer holding every open order
 * passed LINE_BYTES_MAX at about 4,600 orders, and the client dropped the connection — with every request in flight on
 * it — at every open-order sweep (review of b1b05e6). An answer past the line bound is answered `unknown` by the
 * server instead of being written.
 */

import { afterEach, expect, test } from 'bun:test'
import { StoppableClock } from '../../../src/cli/stoppable-clock.ts'
import { defaultSimInstruments } from '../../../src/domain/instruments.ts'
import { simInstrumentsFor } from '../../../src/runtime/paper.ts'
import { JsonlVenueClient, LineReader, decodeLine, encodeLine, serveJsonlVenue } from '../../../src/venues/jsonl/index.ts'
import { OPEN_ORDERS_PAGE_MAX } from '../../../src/venues/jsonl/codec.ts'
import { SimVenue } from '../../../src/venues/sim/index.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

const RESTING = 6_000

/** A JSONL sim venue holding RESTING open buys below the market, placed on the venue itself. */
async function venueWithRestingOrders(): Promise<{ port: number; venue: SimVenue }> {
  const clock = new StoppableClock()
  const instruments = defaultSimInstruments()
  const venue = new SimVenue({ clock, seed: 5, instruments: simInstrumentsFor(instruments) })
  const server = serveJsonlVenue(venue, { hostname: '127.0.0.1', port: 0, recordPath: null, symbols: instruments.map((i) => i.symbol), pricePushMs: 50, log: () => {} })
  cleanups.push(() => {
    server.stop()
    clock.cancelAll()
  })
  const reference = venue.referencePrice('BTC-USD')?.price
  if (reference === undefined) throw new Error('no BTC-USD price')
  const below = reference - (reference / 10n / 100_000_000n) * 100_000_000n
  const places = Array.from({ length: RESTING }, (_, index) =>
    venue.place({ clientOrderId: `c-${index}`, account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: 100_000n, price: below, tif: 'GTC', postOnly: false, reduceOnly: false }),
  )
  for (const outcome of await Promise.all(places)) expect(outcome.kind).toBe('ok')
  return { port: server.port, venue }
}

test('every open order is listed, a page at a time, and the connection stays up for the calls after it', async () => {
  const { port } = await venueWithRestingOrders()
  const client = await JsonlVenueClient.connect({ venue: 'sim', hostname: '127.0.0.1', port, requestTimeoutMs: 5_000, pendingMax: 100, reconnectMsMax: 200, connectWaitMs: 2_000, log: () => {} })
  cleanups.push(() => client.close())
  const listed = await client.openOrders()
  expect(listed.kind).toBe('ok')
  const ids = listed.kind === 'ok' ? listed.value.map((order) => order.clientOrderId) : []
  expect(ids.length).toBe(RESTING)
  expect(new Set(ids).size).toBe(RESTING)
  expect(Math.ceil(RESTING / OPEN_ORDERS_PAGE_MAX)).toBeGreaterThan(1)
  const status = await client.orderStatus('c-0')
  expect(status.kind === 'ok' && status.value?.status).toBe('open')
})

test('an answer past the line bound (every open order in one line) is answered unknown, and the connection stays up', async () => {
  const { port } = await venueWithRestingOrders()
  const reader = new LineReader()
  const answers: unknown[] = []
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_socket, bytes) {
        for (const line of reader.push(bytes)) {
          const message = decodeLine(line) as { id?: number }
          if (message.id !== undefined) answers.push(message)
        }
      },
    },
  })
  cleanups.push(() => socket.end())
  socket.write(encodeLine({ id: 1, op: 'openOrders', args: 'acct-a' }))
  socket.write(encodeLine({ id: 2, op: 'orderStatus', args: 'c-1' }))
  for (let wait = 0; wait < 500 && answers.length < 2; wait++) await Bun.sleep(10)
  const byId = new Map((answers as { id: number; result: { kind: string; reason?: string } }[]).map((answer) => [answer.id, answer.result]))
  expect(byId.get(1)).toEqual({ kind: 'unknown', reason: 'jsonl_answer_too_long' })
  expect(byId.get(2)?.kind).toBe('ok')
})
