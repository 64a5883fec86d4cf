/**
 * A venue report the log could not read back (a fill at a price of 0 or below, a venue time before 1970) is refused
 * before the kernel records it (src/runtime/report-check.ts). Before, the log encoded it and the next start failed on
 * replay: one bad FIX ExecutionReport made the gateway unable to restart.
 */

import { expect, test } from 'bun:test'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

async function restingBuy(world: World): Promise<string> {
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: 'rest' }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 50)
  return placed.reply.orderId
}

const unloggable: Array<[string, Partial<ExecutionReport>]> = [
  ['a fill at price 0', { lastPrice: 0n }],
  ['a fill at a negative price', { lastPrice: -5_000_000_000n }],
  ['a venue time before 1970', { venueTimeMs: -1 }],
  // The JSONL wire takes 40 digits; a record holds 28 (the log's writer threw an AssertionError).
  ['a price of 30 digits', { lastPrice: 10n ** 29n }],
  ['a fee of 30 digits', { fee: -(10n ** 29n) }],
]

for (const [name, overrides] of unloggable) {
  test(`${name} is refused with VENUE_REPORT_INVALID, books nothing, and the gateway still restarts`, async () => {
    const world = await startWorld({ seed: 7 })
    worlds.push(world)
    const orderId = await restingBuy(world)
    const order = world.gateway.engine.state.orders.get(orderId)
    expect(order?.status).toBe('AckedOpen')
    if (order === undefined) return
    const report: ExecutionReport = {
      venue: order.venue, execId: 'bad-1', kind: 'fill', clientOrderId: order.venueClientOrderId, venueOrderId: order.venueOrderId ?? '',
      account: order.accountId, symbol: order.symbol, side: order.side, cumQty: 1_000_000n, lastQty: 1_000_000n, lastPrice: 5_000_000_000_000n,
      venueTimeMs: world.clock.nowMs(), ...overrides,
    }
    await world.gateway.reportIntake.submit(report)
    await run(world, 50)
    expect(world.errors.some((line) => line.includes('bad-1') && line.includes('VenueReportInvalidError'))).toBe(true)
    expect(world.gateway.engine.state.orders.get(orderId)?.cumQty).toBe(0n)

    await crashWorld(world)
    const restarted = await startWorld({ seed: 7, dir: world.dir, clock: world.clock, venue: world.venue })
    worlds.push(restarted)
    expect(restarted.gateway.engine.state.orders.get(orderId)?.cumQty).toBe(0n)
  })
}
