/**
 * The executor hands the kernel the reference price it observes for each send, so the I-100 gate's guards_pass check
 * looks at the market at the send, not only at intake (specs/kernel/send-data-health.test.ts has the kernel's rule).
 * Here a place waits out a venue outage (retryable answers) while the sim venue's price feed stalls: by the time the
 * venue answers again the reference price is stale, and the order is never sent again. It was sent before (the
 * throttled attempts), so the block does not end it Rejected: it goes Unknown, is read back, and ends Failed, not at
 * the venue (kernel/send.ts; specs/kernel/gate-blocked-resend.test.ts).
 */

import { describe, expect, test } from 'bun:test'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

describe('data health at the send, through the executor', () => {
  test('an order that waited out an outage while its price feed stalled is blocked at the send, not sent', async () => {
    const world = await startWorld({ seed: 7 })
    worlds.push(world)
    const nowMs = world.clock.nowMs()
    world.venue.setFaults({
      outages: [{ startMs: nowMs, endMs: nowMs + 8_000, calls: 'retryable', reports: 'hold' }],
      priceStalls: [{ symbol: 'BTC-USD', startMs: nowMs, endMs: nowMs + 60_000 }],
    })
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '59000', client_order_id: 'waits-1' }, null)
    expect(placed.reply.kind).toBe('accepted')
    if (placed.reply.kind !== 'accepted') return
    await run(world, 12_000)
    const order = world.gateway.engine.state.orders.get(placed.reply.orderId)
    expect(order).toMatchObject({ status: 'Failed', notAtVenue: true, lastReason: 'RECONCILE_NOT_FOUND' })
    expect(world.venue.inspect().orders.filter((venueOrder) => venueOrder.clientOrderIds.includes(order?.venueClientOrderId ?? ''))).toEqual([])
  })
})
