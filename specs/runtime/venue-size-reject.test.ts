/**
 * The venue's size rules, end to end: a sim venue made from a config stricter than the gateway's (minQty and
 * minNotional of BTC-USD raised, as an external `sim-venue` started on another config), so orders the gateway's own
 * guards pass reach the venue and are refused there (src/venues/sim/size-check.ts). A place ends Rejected with the
 * venue's reason on its `order.venue_rejected` record (venue reject code QTY_INVALID); an amend fails
 * VENUE_AMEND_REJECTED with the reason, and the order rests at its old terms. Before, the sim checked only lot and
 * tick and took all three.
 */

import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { parseDecimal } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { venueRejectCodeOf } from '../../src/venues/reject-code-of.ts'
import { SimReason } from '../../src/venues/sim/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** The gateway's BTC-USD takes 0.0001 and a notional of 10; this venue's, 0.01 and 1000. */
function stricterVenueInstruments() {
  return simInstrumentsFor(defaultSimInstruments()).map((instrument) =>
    instrument.symbol === 'BTC-USD' ? { ...instrument, minQty: parseDecimal('0.01'), minNotional: parseDecimal('1000') } : instrument,
  )
}

async function placed(world: World, clientOrderId: string, qty: string): Promise<string> {
  // 59000 rests below the sim's reference price (60000), inside the gateway's price band.
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty, price: '59000', tif: 'GTC', client_order_id: clientOrderId }
  const answer = await world.gateway.place(traderA, body, null)
  if (answer.reply.kind !== 'accepted') throw new Error(`the gateway did not accept ${clientOrderId}: ${JSON.stringify(answer.reply)}`)
  return answer.reply.orderId
}

function eventsOf(world: World, orderId: string): DomainEvent[] {
  const events: DomainEvent[] = []
  const log = openReadOnly(join(world.dir, 'log'))
  for (const frame of log.read(log.firstLsn)) {
    const event = domainEventOf(frame)
    if (event !== null && 'orderId' in event && event.orderId === orderId) events.push(event)
  }
  return events
}

describe("the venue's size rules, stricter than the gateway's", () => {
  test('a place under the venue minQty or minNotional ends Rejected with the venue reason; one within them rests', async () => {
    const world = await startWorld({ seed: 11, venueOptions: { instruments: stricterVenueInstruments() } })
    worlds.push(world)
    const small = await placed(world, 'small', '0.001')
    const cheap = await placed(world, 'cheap', '0.01')
    const fits = await placed(world, 'fits', '0.02')
    await run(world, 1_000)
    const orders = world.gateway.engine.state.orders
    expect([small, cheap, fits].map((orderId) => orders.get(orderId)?.status)).toEqual(['Rejected', 'Rejected', 'AckedOpen'])
    // The place's answer and the venue's reject report tell the same refusal: whichever lands first records it, once.
    // With this seed one of each lands first (small's report, cheap's answer), so both orders of arrival are covered.
    const typesOf = (orderId: string) => eventsOf(world, orderId).map((event) => event.type)
    expect([small, cheap].map((orderId) => typesOf(orderId).indexOf('inbox.report_accepted') < typesOf(orderId).indexOf('order.call_completed'))).toEqual([true, false])
    const venueReasons = [small, cheap].map((orderId) => eventsOf(world, orderId).flatMap((event) => (event.type === 'order.venue_rejected' ? [event.venueReason] : [])))
    expect(venueReasons).toEqual([[SimReason.qtyBelowMin], [SimReason.notionalBelowMin]])
    expect(venueReasons.flat().map(venueRejectCodeOf)).toEqual(['QTY_INVALID', 'QTY_INVALID'])
    // Nothing of them traded; what they reserved is released.
    expect(world.venue.inspect().trades).toEqual([])
    expect([small, cheap].map((orderId) => orders.get(orderId)?.reservation.remaining)).toEqual([0n, 0n])
    expect(world.errors).toEqual([])
  })

  test('an amend under the venue minNotional fails VENUE_AMEND_REJECTED with the venue reason; the order rests at its old terms', async () => {
    const world = await startWorld({ seed: 11, venueOptions: { instruments: stricterVenueInstruments() } })
    worlds.push(world)
    const orderId = await placed(world, 'amended', '0.02')
    await run(world, 1_000)
    // 0.01 × 59000 = 590: the gateway's rules take it, the venue's (1000) do not.
    const amended = await world.gateway.amend(traderA, orderId, { qty: parseDecimal('0.01'), price: null })
    expect(amended.reply.kind).toBe('amend_accepted')
    await run(world, 1_000)
    const failed = eventsOf(world, orderId).find((event) => event.type === 'order.amend_failed')
    expect(failed).toMatchObject({ reason: 'VENUE_AMEND_REJECTED', detail: SimReason.notionalBelowMin })
    expect(world.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'AckedOpen', qty: parseDecimal('0.02'), amend: { stage: 'failed' } })
    expect(world.venue.inspect().orders.map((order) => [order.status, order.qty])).toEqual([['open', parseDecimal('0.02')]])
    expect(world.errors).toEqual([])
  })
})
