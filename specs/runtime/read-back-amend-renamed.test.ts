/**
 * An order whose amend's answer was lost is Unknown with the amend under way, and read back by the id the venue knew
 * it by before (read-back-item.ts). A venue whose replace renames the order — it then knows the order only by the
 * amend's id — answers that id "not found". Before, that answer, past the grace, ended the order Failed: its
 * reservation released and never canceled, while it rested at the venue at the amended quantity. Now "not found" is
 * asked again by the amend's id (read-back.ts), and the order converges to what the venue holds: the amend applied.
 * Found so, its trades since the replace are listed under the amend's id too: asked by the old id alone, they were
 * missing, and what they filled was booked as a synthetic fill (RECONCILE_SYNTHETIC_FILL, at the limit, no fee).
 */

import { expect, test } from 'bun:test'
import { parseDecimal } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type { AmendRequest, VenueOrder, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { drive, run, startWorld, T0, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/**
 * A sim venue whose amend answers are lost, whose status query knows an order only by its latest client id, and whose
 * trade query lists a trade only under the client id the order had when it traded.
 */
class RenamingVenue extends SimVenue {
  statusAsked: string[] = []

  override async amend(request: AmendRequest): Promise<VenueOutcome<{ accepted: true }>> {
    await super.amend(request)
    return { kind: 'unknown', reason: 'timeout' }
  }

  override async orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    this.statusAsked.push(clientOrderId)
    const outcome = await super.orderStatus(clientOrderId)
    if (outcome.kind === 'ok' && outcome.value !== null && outcome.value.clientOrderId !== clientOrderId) return { kind: 'ok', value: null }
    return outcome
  }

  override async trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    const outcome = await super.trades(options)
    if (outcome.kind !== 'ok' || options.clientOrderId === undefined) return outcome
    return { kind: 'ok', value: outcome.value.filter((trade) => trade.clientOrderId === options.clientOrderId) }
  }

  constructor(clock: SimClock) {
    super({ clock, seed: 7, instruments: simInstrumentsFor(defaultSimInstruments()), latencyMsMin: 5, latencyMsMax: 5 })
  }
}

/**
 * A 0.01 BTC buy at 59000 resting (AckedOpen) at a renaming venue, every durable event from then on collected, and the
 * venue's reports dropped from then on: an amend's answer and reports are lost, nothing tells egress the replace
 * happened.
 */
async function restingWithReportsLost(clientOrderId: string) {
  const clock = new SimClock({ startMs: T0 })
  const venue = new RenamingVenue(clock)
  const world = await startWorld({ seed: 7, clock, venue })
  worlds.push(world)
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: clientOrderId }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  const { orderId } = placed.reply
  await run(world, 100)
  const order = () => world.gateway.engine.state.orders.get(orderId)
  expect(order()?.status).toBe('AckedOpen')
  const events: DomainEvent[] = []
  world.gateway.engine.onDurable((applied) => void events.push(...applied.map(({ event }) => event)))
  venue.setFaults({ dropReportProbability: 1 })
  return { world, venue, orderId, order, events }
}

test('an Unknown order whose amend renamed it at the venue is found by the amend id, not Failed while it rests there', async () => {
  const { world, venue, orderId, order, events } = await restingWithReportsLost('renamed')
  const amended = await world.gateway.amend(traderA, orderId, { qty: parseDecimal('0.02'), price: null })
  expect(amended.reply.kind).toBe('amend_accepted')
  // Past the grace (5 s) a "not found" would conclude.
  await run(world, 8_000, 50)
  const ofOrder = events.filter((event) => 'orderId' in event && event.orderId === orderId).map((event) => event.type)
  expect(ofOrder).toContain('order.unknown')
  expect(order()).toMatchObject({ status: 'AckedOpen', qty: parseDecimal('0.02'), amend: null })
  expect(venue.statusAsked).toContain(`eg-${orderId}.a1`)
  expect(world.errors).toEqual([])
})

test('an order found by its amend id has its trades asked by that id too: its real fills booked, not a synthetic one', async () => {
  const { world, venue, orderId, order, events } = await restingWithReportsLost('renamed-fills')
  // The replace crosses (the market is above 59000, within the band of 60770): it fills at once, under the amend's id,
  // and neither its answer nor its reports arrive.
  const amended = await world.gateway.amend(traderA, orderId, { qty: parseDecimal('0.02'), price: parseDecimal('60770') })
  expect(amended.reply.kind).toBe('amend_accepted')
  await run(world, 8_000, 50)
  const listed = await drive(world, venue.trades({ account: 'acct-a' }))
  if (listed.kind !== 'ok') throw new Error('the sim venue lists its trades')
  const venueTrades = listed.value.filter((trade) => trade.clientOrderId === `eg-${orderId}.a1`)
  expect(venueTrades.length).toBeGreaterThan(0)
  const ofOrder = events.filter((event) => 'orderId' in event && event.orderId === orderId)
  const alerts = ofOrder.filter((event) => event.type === 'alert.raised').map((event) => (event as { reason: string }).reason)
  expect(alerts).not.toContain('RECONCILE_SYNTHETIC_FILL')
  expect(order()?.status).toBe('Filled')
  const booked = ofOrder.filter((event) => event.type === 'order.fill').map((event) => (event as { execId: string }).execId)
  expect(booked.sort()).toEqual(venueTrades.map((trade) => trade.execId).sort())
  expect(world.errors).toEqual([])
})
