/**
 * A client order id is unique per account only, and the JSONL sim venue paged its open-order list by the id alone
 * (server.ts openOrdersPage): a page ending at an id a second account also held began the next page after that id,
 * and the second account's order was never listed — the open-order sweep and the venue_open_orders check took it for
 * gone. Pages now follow (client order id, account): the client sends the last order's account too (`afterAccount`),
 * and asks an older venue, which refuses that member, again by the id alone.
 */

import { afterEach, expect, test } from 'bun:test'
import { StoppableClock } from '../../../src/cli/stoppable-clock.ts'
import { defaultSimInstruments } from '../../../src/domain/instruments.ts'
import { simInstrumentsFor } from '../../../src/runtime/paper.ts'
import { JsonlVenueClient, encodeLine, serveJsonlVenue } from '../../../src/venues/jsonl/index.ts'
import { OPEN_ORDERS_PAGE_MAX } from '../../../src/venues/jsonl/codec.ts'
import { JsonlReason } from '../../../src/venues/jsonl/reasons.ts'
import { checkRequest } from '../../../src/venues/jsonl/requests.ts'
import { SimVenue } from '../../../src/venues/sim/index.ts'
import { ORDER, connect, requestId, startFakeVenue, stopFakeVenues, type Request } from './fake-venue.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
  stopFakeVenues()
})

const id = (index: number): string => `c-${String(index).padStart(4, '0')}`

/** A JSONL sim venue holding `resting` (client id, account) open buys below the market, placed on the venue itself. */
async function venueResting(resting: readonly [string, string][]): Promise<number> {
  const clock = new StoppableClock()
  const instruments = defaultSimInstruments()
  const venue = new SimVenue({ clock, seed: 7, instruments: simInstrumentsFor(instruments) })
  const server = serveJsonlVenue(venue, { hostname: '127.0.0.1', port: 0, recordPath: null, symbols: instruments.map((i) => i.symbol), pricePushMs: 50, log: () => {} })
  cleanups.push(() => {
    server.stop()
    clock.cancelAll()
  })
  const reference = venue.referencePrice('BTC-USD')?.price
  if (reference === undefined) throw new Error('no BTC-USD price')
  const below = reference - (reference / 10n / 100_000_000n) * 100_000_000n
  const places = resting.map(([clientOrderId, account]) =>
    venue.place({ clientOrderId, account, symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: 100_000n, price: below, tif: 'GTC', postOnly: false, reduceOnly: false }),
  )
  for (const outcome of await Promise.all(places)) expect(outcome.kind).toBe('ok')
  return server.port
}

test('a client id two accounts hold at a page boundary: both orders are listed, each once', async () => {
  // A full first page: acct-a's c-0000..c-0999 and acct-b's c-0999 sort to 1,001 orders, the page ending inside c-0999.
  const resting: [string, string][] = Array.from({ length: OPEN_ORDERS_PAGE_MAX }, (_, index) => [id(index), 'acct-a'])
  resting.push([id(OPEN_ORDERS_PAGE_MAX - 1), 'acct-b'], [id(OPEN_ORDERS_PAGE_MAX), 'acct-b'])
  const port = await venueResting(resting)
  const client = await JsonlVenueClient.connect({ venue: 'sim', hostname: '127.0.0.1', port, requestTimeoutMs: 5_000, pendingMax: 100, reconnectMsMax: 200, connectWaitMs: 2_000, log: () => {} })
  cleanups.push(() => client.close())
  const listed = await client.openOrders()
  expect(listed.kind).toBe('ok')
  const keys = listed.kind === 'ok' ? listed.value.map((order) => `${order.account}/${order.clientOrderId}`) : []
  expect(keys).toHaveLength(resting.length)
  expect(new Set(keys)).toEqual(new Set(resting.map(([clientOrderId, account]) => `${account}/${clientOrderId}`)))
})

test('the cursor’s account is taken only with its client id', () => {
  expect(checkRequest(1, 'openOrders', { after: 'c-1', afterAccount: 'acct-a', limit: 10 })).toMatchObject({ op: 'openOrders' })
  expect(checkRequest(1, 'openOrders', { afterAccount: 'acct-a', limit: 10 })).toStartWith(JsonlReason.requestInvalid)
})

test('an older venue, refusing the cursor’s account, is asked the page again by the client id alone', async () => {
  const venue = startFakeVenue()
  const { client } = await connect(venue)
  const full = Array.from({ length: OPEN_ORDERS_PAGE_MAX }, (_, index) => ({ ...ORDER, clientOrderId: id(index) }))
  const listing = client.openOrders()
  venue.send(encodeLine({ id: await requestId(venue, 1), result: { kind: 'ok', value: full } }))
  // What an older venue's strict schema answers a member it does not know.
  const refused = `${JsonlReason.requestInvalid}: malformed openOrders request: args.afterAccount: Invalid key: Expected never but received "afterAccount"`
  venue.send(encodeLine({ id: await requestId(venue, 2), result: { kind: 'rejected', reason: refused } }))
  venue.send(encodeLine({ id: await requestId(venue, 3), result: { kind: 'ok', value: [{ ...ORDER, clientOrderId: id(1000) }] } }))
  const listed = await listing
  expect(listed.kind === 'ok' && listed.value.length).toBe(OPEN_ORDERS_PAGE_MAX + 1)
  const args = venue.requests.map((request: Request) => request.args)
  expect(args).toEqual([
    { limit: OPEN_ORDERS_PAGE_MAX },
    { after: id(999), afterAccount: 'acct-a', limit: OPEN_ORDERS_PAGE_MAX },
    { after: id(999), limit: OPEN_ORDERS_PAGE_MAX },
  ])
})
