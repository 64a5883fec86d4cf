/**
 * A venue adapter may say it got news of an order that is no report to apply (VenueAdapter.onReadBackWanted: a FIX
 * Order Status report no query asked for). The gateway reads that order back, so what the news carried — here a fill
 * whose reports were lost — is booked from the venue's status and trades, once, without waiting for a sweep.
 */

import { expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** The sim venue, with a way for the test to say "read this order back" as a FIX adapter would. */
class NewsVenue extends SimVenue {
  readonly handlers: ((clientOrderId: string) => void)[] = []

  onReadBackWanted(handler: (clientOrderId: string) => void): () => void {
    this.handlers.push(handler)
    return () => {}
  }
}

test("an adapter's read-back request for one of our orders has the gateway read it back (no sweep running)", async () => {
  const seed = 30_257
  const clock = new SimClock({ startMs: T0 })
  const venue = new NewsVenue({ clock, seed, instruments: simInstrumentsFor(defaultSimInstruments()) })
  const handlers = venue.handlers
  const world = await startWorld({ seed, clock, venue, reconcileSweepMs: 0 })
  worlds.push(world)
  expect(handlers).toHaveLength(1)
  // A sell through the market fills at once; its `new` and `fill` reports are lost, the place's answer is not.
  venue.setFaults({ dropReportProbability: 1 })
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'sell', type: 'limit', qty: '0.001', price: '59500', tif: 'GTC', client_order_id: 'news' }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 200)
  venue.setFaults({})
  const order = () => world.gateway.engine.state.orders.get(placed.reply.kind === 'accepted' ? placed.reply.orderId : '')
  expect({ status: order()?.status, cumQty: order()?.cumQty }).toEqual({ status: 'AckedOpen', cumQty: 0n })
  const venueTrades = venue.inspect().trades.filter((trade) => trade.clientOrderId === order()?.venueClientOrderId)
  expect(venueTrades).toHaveLength(1)

  for (const handler of handlers) handler('not-ours-1')
  for (const handler of handlers) handler(order()?.venueClientOrderId ?? '')
  await run(world, 200)
  expect({ status: order()?.status, execIds: [...(order()?.execIds ?? [])] }).toEqual({ status: 'Filled', execIds: venueTrades.map((trade) => trade.execId) })
  expect(world.errors).toEqual([])
})
