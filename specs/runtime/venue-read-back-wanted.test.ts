/**
 * A venue adapter may say that its reports for a span are lost for every order, not one (VenueAdapter.
 * onVenueReadBackWanted: a FIX session whose numbering restarted, after which the venue never resends what it sent
 * before). The gateway reads back every order open at that venue, so a fill the lost reports carried is booked from
 * the venue's status and trades, without waiting for a sweep; orders at other venues are left alone.
 */

import { expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** The sim venue, with a way for the test to say "every order's news was lost" as a FIX adapter would. */
class ResetVenue extends SimVenue {
  readonly handlers: (() => void)[] = []

  onVenueReadBackWanted(handler: () => void): () => void {
    this.handlers.push(handler)
    return () => {}
  }
}

test("an adapter's venue-wide read-back request has every order open there read back (no sweep running)", async () => {
  const seed = 30_258
  const clock = new SimClock({ startMs: T0 })
  const venue = new ResetVenue({ clock, seed, instruments: simInstrumentsFor(defaultSimInstruments()) })
  const world = await startWorld({ seed, clock, venue, reconcileSweepMs: 0 })
  worlds.push(world)
  expect(venue.handlers).toHaveLength(1)
  // A sell through the market fills at once; its `new` and `fill` reports are lost, the place's answer is not.
  venue.setFaults({ dropReportProbability: 1 })
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'sell', type: 'limit', qty: '0.001', price: '59500', tif: 'GTC', client_order_id: 'lost-in-reset' }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 200)
  venue.setFaults({})
  const order = () => world.gateway.engine.state.orders.get(placed.reply.kind === 'accepted' ? placed.reply.orderId : '')
  expect({ status: order()?.status, cumQty: order()?.cumQty }).toEqual({ status: 'AckedOpen', cumQty: 0n })
  const venueTrades = venue.inspect().trades.filter((trade) => trade.clientOrderId === order()?.venueClientOrderId)
  expect(venueTrades).toHaveLength(1)

  for (const handler of venue.handlers) handler()
  await run(world, 200)
  expect({ status: order()?.status, execIds: [...(order()?.execIds ?? [])] }).toEqual({ status: 'Filled', execIds: venueTrades.map((trade) => trade.execId) })
  expect(world.errors).toEqual([])
})
