/**
 * The JSONL protocol's refusals — the sim venue's own, carried over the wire, and the server's (a request that does
 * not fit its op) — give their venue reject codes (src/venues/reject-code-of.ts) from the reason the client hands on.
 */

import { afterEach, expect, test } from 'bun:test'
import { StoppableClock } from '../../../src/cli/stoppable-clock.ts'
import { parseDecimal } from '../../../src/domain/decimal.ts'
import { defaultSimInstruments } from '../../../src/domain/instruments.ts'
import { simInstrumentsFor } from '../../../src/runtime/paper.ts'
import type { PlaceRequest, VenueOutcome } from '../../../src/venues/adapter.ts'
import { JsonlVenueClient, serveJsonlVenue } from '../../../src/venues/jsonl/index.ts'
import { venueRejectCodeOf } from '../../../src/venues/reject-code-of.ts'
import { SimVenue } from '../../../src/venues/sim/index.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

async function connected(): Promise<JsonlVenueClient> {
  const clock = new StoppableClock()
  const instruments = defaultSimInstruments()
  const venue = new SimVenue({ clock, seed: 3, instruments: simInstrumentsFor(instruments) })
  const server = serveJsonlVenue(venue, { hostname: '127.0.0.1', port: 0, recordPath: null, symbols: instruments.map((i) => i.symbol), pricePushMs: 50, log: () => {} })
  cleanups.push(() => {
    server.stop()
    clock.cancelAll()
  })
  const client = await JsonlVenueClient.connect({ venue: 'sim', hostname: '127.0.0.1', port: server.port, requestTimeoutMs: 2_000, pendingMax: 100, reconnectMsMax: 200, connectWaitMs: 2_000, log: () => {} })
  cleanups.push(() => client.close())
  return client
}

function codeOf(outcome: VenueOutcome<unknown>): string {
  if (outcome.kind !== 'rejected') throw new Error(`expected rejected, got ${JSON.stringify(outcome)}`)
  return venueRejectCodeOf(outcome.reason)
}

test('over JSONL: post-only into a cross, an unknown symbol, an off-lot quantity, a cancel of an unknown order, an invalid request', async () => {
  const client = await connected()
  const price = client.referencePrice('BTC-USD')?.price as bigint
  const place = (over: Partial<PlaceRequest>): PlaceRequest => ({
    clientOrderId: 'c', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: parseDecimal('0.01'), price, tif: 'GTC', postOnly: false, reduceOnly: false, ...over,
  })
  expect(codeOf(await client.place(place({ clientOrderId: 'po', postOnly: true, price: price + parseDecimal('100') })))).toBe('POST_ONLY_WOULD_CROSS')
  expect(codeOf(await client.place(place({ clientOrderId: 'sym', symbol: 'DOGE-USD' })))).toBe('INSTRUMENT_UNKNOWN')
  expect(codeOf(await client.place(place({ clientOrderId: 'lot', qty: parseDecimal('0.00001') })))).toBe('QTY_INVALID')
  expect(codeOf(await client.cancel({ clientOrderId: 'x', origClientOrderId: 'nope', account: 'acct-a', symbol: 'BTC-USD' }))).toBe('ORDER_UNKNOWN')
  // The server refuses a request its op's arguments do not fit before the book sees it (jsonl_request_invalid).
  expect(codeOf(await client.place(place({ clientOrderId: 'neg', qty: -1n })))).toBe('ORDER_INVALID')
})
