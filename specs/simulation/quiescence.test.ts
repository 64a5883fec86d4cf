/**
 * The end-of-run comparison waits for the venue's news (quiescence.ts). Found by seed 11002
 * (`bun scripts/sim.ts --seed 11002 --steps 100 --step-ms 200`): the venue expired a DAY order at the price step of
 * the very instant egress and the venue were compared, the `expired` report was still on its way (it landed 22 ms
 * later), and venue-agrees blamed egress ("egress AckedOpen cumQty 0, venue sim-o60 expired cumQty 0").
 */

import { describe, expect, test } from 'bun:test'
import { quiescent, runUntilQuiescent } from './quiescence.ts'
import { startWorld, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()
const REPORT_LATENCY_MS = 20
const DAY_ORDER_TTL_MS = 1_000

function venueStatusOf(world: World, venueClientOrderId: string): string | undefined {
  return world.venue.inspect().orders.find((order) => order.clientOrderIds.includes(venueClientOrderId))?.status
}

describe('simulation quiescence', () => {
  test('is not reached while the report of an order the venue expired on its own clock is on its way', async () => {
    const world = await startWorld({ seed: 11_002, venueOptions: { latencyMsMin: REPORT_LATENCY_MS, latencyMsMax: REPORT_LATENCY_MS, dayOrderTtlMs: DAY_ORDER_TTL_MS } })
    worlds.push(world)
    const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '1', price: '2950', tif: 'DAY', client_order_id: 'day-1' }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
    const { orderId } = placed.reply
    await runUntilQuiescent(world)
    const order = () => world.gateway.engine.state.orders.get(orderId)
    const venueClientOrderId = order()?.venueClientOrderId ?? ''
    expect({ egress: order()?.status, venue: venueStatusOf(world, venueClientOrderId), quiescent: quiescent(world) }).toEqual({ egress: 'AckedOpen', venue: 'open', quiescent: true })

    // To the price step that expires it, one millisecond at a time: the venue has expired it, egress cannot know yet.
    for (let ms = 0; ms < 2 * DAY_ORDER_TTL_MS && venueStatusOf(world, venueClientOrderId) === 'open'; ms++) await world.clock.advanceAsync(1)
    const expiredAtMs = world.clock.nowMs()
    expect({ egress: order()?.status, venue: venueStatusOf(world, venueClientOrderId), reportsInFlight: world.venue.inspect().reportsInFlight }).toEqual({ egress: 'AckedOpen', venue: 'expired', reportsInFlight: 1 })
    expect(quiescent(world)).toBe(false)

    // Quiescent once the report has landed, and then egress agrees with the venue.
    await runUntilQuiescent(world)
    expect({ egress: order()?.status, reportsInFlight: world.venue.inspect().reportsInFlight, quiescent: quiescent(world) }).toEqual({ egress: 'Expired', reportsInFlight: 0, quiescent: true })
    expect(world.clock.nowMs() - expiredAtMs).toBeGreaterThanOrEqual(REPORT_LATENCY_MS)
    expect(world.errors).toEqual([])
  })
})
