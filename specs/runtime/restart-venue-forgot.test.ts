/**
 * A restart after a downtime longer than the venue keeps ended orders: an order egress holds resting ended at the venue
 * while egress was down (a DAY order expired) and the venue has forgotten it. Bootstrap's list does not show it and its
 * read-back finds nothing; the order must not stay open in egress for good (its reservation held, read back by every
 * sweep): it goes Unknown (VENUE_UNKNOWN_ORDER) and ends Failed, not proven absent and never resent
 * (src/kernel/reconcile.ts deniedOpen).
 */

import { expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SEED = 7
const PARAMS = { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }

function eventsOf(world: World, orderId: string): DomainEvent[] {
  const { wal } = world.gateway.engine
  const events: DomainEvent[] = []
  for (const frame of wal.read(wal.firstLsn)) {
    const event = domainEventOf(frame)
    if (event !== null && 'orderId' in event && event.orderId === orderId) events.push(event)
  }
  return events
}

test('an open order the venue forgot while egress was down ends Failed at the restart, its reservation released, read back no more', async () => {
  const world = await startWorld({ seed: SEED, params: PARAMS, venueOptions: { dayOrderTtlMs: 60_000, priceStepTicksMax: 0 } })
  worlds.push(world)
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'DAY', client_order_id: 'day' }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  const orderId = placed.reply.orderId
  await run(world, 100)
  expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
  await crashWorld(world)

  // Down for longer than the order lives: the venue expires it, then forgets it.
  const { clock, venue } = world
  await clock.advanceAsync(70_000)
  const listing = venue.openOrders()
  await clock.advanceAsync(20)
  expect(await listing).toEqual({ kind: 'ok', value: [] })
  expect(venue.forgetEndedOrders()).toBe(1)

  const restarted = await startWorld({ seed: SEED, dir: world.dir, clock, venue, params: PARAMS })
  worlds.push(restarted)
  await run(restarted, 5_000)
  const order = restarted.gateway.engine.state.orders.get(orderId)
  expect(order).toMatchObject({ status: 'Failed', notAtVenue: false, cumQty: 0n })
  expect(order?.reservation.remaining).toBe(0n)
  expect(restarted.gateway.engine.state.accounts.get('acct-a')?.reserved.get('USD') ?? 0n).toBe(0n)
  const events = eventsOf(restarted, orderId)
  expect(events.find((event) => event.type === 'order.unknown')).toMatchObject({ reason: 'VENUE_UNKNOWN_ORDER' })
  expect(events.filter((event) => event.type === 'order.resend_requested')).toEqual([])

  // Nothing left to read back: the sweeps that follow ask the venue nothing more about it.
  const statusQueries = venue.inspect().requests.calls.orderStatus
  await run(restarted, 10_000)
  expect(venue.inspect().requests.calls.orderStatus).toBe(statusQueries)
  expect(restarted.errors).toEqual([])
})
