/**
 * A venue adapter may say it got news of an order that is no report to apply (VenueAdapter.onReadBackWanted: a FIX
 * Order Status report no query asked for). The gateway reads that order back, so what the news carried — here a fill
 * whose reports were lost — is booked from the venue's status and trades, once, without waiting for a sweep.
 * It may also say that its reports for a span are lost for every order (VenueAdapter.onVenueReadBackWanted: a FIX
 * session whose numbering restarted, after which the venue resends nothing from before): every order open at that
 * venue is read back.
 */

import { expect, test } from 'bun:test'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** The sim venue, with ways for the test to say "read this order back" and "read the venue back" as a FIX adapter would. */
class NewsVenue extends SimVenue {
  readonly handlers: ((clientOrderId: string) => void)[] = []
  readonly venueHandlers: (() => void)[] = []

  onReadBackWanted(handler: (clientOrderId: string) => void): () => void {
    this.handlers.push(handler)
    return () => {}
  }

  onVenueReadBackWanted(handler: () => void): () => void {
    this.venueHandlers.push(handler)
    return () => {}
  }
}

/** An order acked open whose fill reports the venue lost: egress holds it AckedOpen, the venue has its trade. */
async function orderWithLostFill(seed: number, clientOrderId: string) {
  const clock = new SimClock({ startMs: T0 })
  const venue = new NewsVenue({ clock, seed, instruments: simInstrumentsFor(defaultSimInstruments()) })
  const world = await startWorld({ seed, clock, venue, reconcileSweepMs: 0 })
  worlds.push(world)
  expect([venue.handlers.length, venue.venueHandlers.length]).toEqual([1, 1])
  // A sell through the market fills at once; its `new` and `fill` reports are lost, the place's answer is not.
  venue.setFaults({ dropReportProbability: 1 })
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'sell', type: 'limit', qty: '0.001', price: '59500', tif: 'GTC', client_order_id: clientOrderId }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 200)
  venue.setFaults({})
  const order = () => world.gateway.engine.state.orders.get(placed.reply.kind === 'accepted' ? placed.reply.orderId : '')
  expect({ status: order()?.status, cumQty: order()?.cumQty }).toEqual({ status: 'AckedOpen', cumQty: 0n })
  const venueTrades = venue.inspect().trades.filter((trade) => trade.clientOrderId === order()?.venueClientOrderId)
  expect(venueTrades).toHaveLength(1)
  return { world, venue, order, venueTrades }
}

test("an adapter's read-back request for one of our orders has the gateway read it back (no sweep running)", async () => {
  const { world, venue, order, venueTrades } = await orderWithLostFill(30_257, 'news')
  for (const handler of venue.handlers) handler('not-ours-1')
  for (const handler of venue.handlers) handler(order()?.venueClientOrderId ?? '')
  await run(world, 200)
  expect({ status: order()?.status, execIds: [...(order()?.execIds ?? [])] }).toEqual({ status: 'Filled', execIds: venueTrades.map((trade) => trade.execId) })
  expect(world.errors).toEqual([])
})

test("an adapter's venue-wide read-back request has every order open there read back (no sweep running)", async () => {
  const { world, venue, order, venueTrades } = await orderWithLostFill(30_258, 'lost-in-reset')
  for (const handler of venue.venueHandlers) handler()
  await run(world, 200)
  expect({ status: order()?.status, execIds: [...(order()?.execIds ?? [])] }).toEqual({ status: 'Filled', execIds: venueTrades.map((trade) => trade.execId) })
  expect(world.errors).toEqual([])
})
