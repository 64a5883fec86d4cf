// The JSONL venue sends each report once, to the clients connected then: a fill made while the client's connection was
// down reaches no one, and the reconnect brings nothing of it. So a connection made after a lost one asks the gateway
// to read back every order open at the venue (VenueAdapter.onVenueReadBackWanted), as a FIX session whose numbering
// restarted does; the first connection does not (bootstrap reads back). Before, nothing asked: the fill waited for the
// open-order sweep, or for ever without one.
import { afterEach, expect, test } from 'bun:test'
import { StoppableClock } from '../../../src/cli/stoppable-clock.ts'
import { defaultSimInstruments } from '../../../src/domain/instruments.ts'
import { simInstrumentsFor } from '../../../src/runtime/paper.ts'
import type { ExecutionReport } from '../../../src/venues/adapter.ts'
import { JsonlVenueClient, serveJsonlVenue, type JsonlVenueServer } from '../../../src/venues/jsonl/index.ts'
import { SimVenue } from '../../../src/venues/sim/index.ts'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

const instruments = defaultSimInstruments()
const simInstruments = simInstrumentsFor(instruments)

function serve(venue: SimVenue, port = 0): JsonlVenueServer {
  const server = serveJsonlVenue(venue, { hostname: '127.0.0.1', port, recordPath: null, symbols: instruments.map((i) => i.symbol), pricePushMs: 50, log: () => {} })
  cleanups.push(() => server.stop())
  return server
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let wait = 0; wait < 400; wait++) {
    if (condition()) return
    await Bun.sleep(5)
  }
  throw new Error(`gave up waiting for ${what}`)
}

test('a reconnect asks for every open order to be read back: the fill made while the connection was down never comes as a report', async () => {
  const clock = new StoppableClock()
  cleanups.push(() => clock.cancelAll())
  const venue = new SimVenue({ clock, seed: 7, instruments: simInstruments, priceStepTicksMax: 0 })
  const first = serve(venue)
  const logged: string[] = []
  const client = await JsonlVenueClient.connect({
    venue: 'sim', hostname: '127.0.0.1', port: first.port, requestTimeoutMs: 2_000, pendingMax: 100, reconnectMsMax: 100, connectWaitMs: 2_000, log: (line) => void logged.push(line),
  })
  cleanups.push(() => client.close())
  const reports: ExecutionReport[] = []
  client.onReport((report) => void reports.push(report))
  let readBacks = 0
  client.onVenueReadBackWanted(() => void readBacks++)
  // A subscriber that throws is logged; the one after it still runs.
  client.onVenueReadBackWanted(() => {
    throw new Error('boom')
  })
  let readBacksAfterThrow = 0
  client.onVenueReadBackWanted(() => void readBacksAfterThrow++)

  const btc = simInstruments[0]!
  const reference = venue.referencePrice(btc.symbol)!.price
  const price = reference - 100n * btc.tick
  // Within the instrument's size rules, which the sim venue checks (minQty 0.0001, minNotional 10 at ~60,000).
  const qty = 10n * btc.lot
  const placed = await client.place({ clientOrderId: 'rb-1', account: 'acct', symbol: btc.symbol, side: 'buy', type: 'limit', qty, price, tif: 'GTC', postOnly: false, reduceOnly: false })
  expect(placed.kind).toBe('ok')
  await until(() => reports.some((report) => report.kind === 'new'), 'the new report')
  // The first connection is no reconnect: nothing was lost before it.
  expect(readBacks).toBe(0)

  first.stop()
  await until(() => !client.sessionActive(), 'the connection to drop')
  // The venue fills the order while no client is connected: its report reaches no one.
  venue.setReferencePrice(btc.symbol, price)
  await Bun.sleep(50)
  serve(venue, first.port)
  await until(() => client.sessionActive(), 'the reconnect')

  expect(readBacks).toBe(1)
  expect(readBacksAfterThrow).toBe(1)
  expect(logged.filter((line) => line.includes('venue read-back subscriber threw: boom'))).toHaveLength(1)
  await Bun.sleep(100)
  expect(reports.map((report) => report.kind)).toEqual(['new'])
  // Only a read-back can tell: the venue holds the order filled.
  const status = await client.orderStatus('rb-1')
  expect(status).toMatchObject({ kind: 'ok', value: { status: 'filled', cumQty: qty } })
})
