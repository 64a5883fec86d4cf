/**
 * A venue report too large for one log record (a JSONL line stays under 1 MiB of UTF-16 code units, but 400,000 CJK
 * characters are 1.2 MB of UTF-8). Before, the engine applied the decision's events to memory, the log then refused
 * the record, and memory ran ahead of the log: the next command failed ("engine predicted LSN 11, log assigned 9").
 * Then the decision was dropped whole before anything was applied (WalRecordError to onError). Now such a report
 * does not get that far: a venue's ids are bounded on the way in (src/domain/venue-report-schema.ts), so it is
 * refused by the report check (VENUE_REPORT_INVALID). Either way the report's order is read back from the venue,
 * since what the report said is lost, and memory stays with the log.
 */

import { expect, test } from 'bun:test'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { crashWorld, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const HUGE_EXEC_ID = '漢'.repeat(400_000)

async function place(world: World, clientOrderId: string): Promise<string> {
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: clientOrderId }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 50)
  return placed.reply.orderId
}

function submitReportTo(world: World, report: ExecutionReport): Promise<void> {
  return world.gateway.reportIntake.submit(report)
}

test('an oversized report is dropped whole: memory stays with the log, later commands work, the order is read back', async () => {
  const world = await startWorld({ seed: 7 })
  worlds.push(world)
  const orderId = await place(world, 'first')
  const order = world.gateway.engine.state.orders.get(orderId)
  if (order === undefined) throw new Error('no order')
  const statusReads = world.venue.inspect().requests.calls.orderStatus
  await submitReportTo(world, {
    venue: order.venue, execId: HUGE_EXEC_ID, kind: 'new', clientOrderId: order.venueClientOrderId, venueOrderId: 'v', account: order.accountId,
    symbol: order.symbol, side: order.side, cumQty: 0n, venueTimeMs: world.clock.nowMs(),
  })
  await run(world, 50)
  expect(world.errors.some((line) => line.includes('VENUE_REPORT_INVALID') || line.includes('VenueReportInvalidError'))).toBe(true)
  expect(world.gateway.engine.state.lastLsn).toBe(world.gateway.engine.wal.lastLsn)
  expect(world.venue.inspect().requests.calls.orderStatus).toBeGreaterThan(statusReads)

  const second = await place(world, 'second')
  expect(world.gateway.engine.state.orders.get(second)?.status).toBe('AckedOpen')
  expect(world.errors.filter((line) => !line.includes('VENUE_REPORT_INVALID') && !line.includes('VenueReportInvalidError'))).toEqual([])
  await crashWorld(world)
  const restarted = await startWorld({ seed: 7, dir: world.dir, clock: world.clock, venue: world.venue })
  worlds.push(restarted)
  expect(restarted.gateway.engine.state.orders.get(second)?.status).toBe('AckedOpen')
})

test('a decision whose record the log cannot hold is dropped whole by the engine, whatever let it through', async () => {
  // The engine's own guard, below the report check: a report command submitted straight to it.
  const world = await startWorld({ seed: 7 })
  worlds.push(world)
  const orderId = await place(world, 'engine-first')
  const order = world.gateway.engine.state.orders.get(orderId)
  if (order === undefined) throw new Error('no order')
  const lastLsn = world.gateway.engine.wal.lastLsn
  const report: ExecutionReport = {
    venue: order.venue, execId: HUGE_EXEC_ID, kind: 'new', clientOrderId: order.venueClientOrderId, venueOrderId: 'v', account: order.accountId,
    symbol: order.symbol, side: order.side, cumQty: 0n, venueTimeMs: world.clock.nowMs(),
  }
  expect(() => world.gateway.engine.submit({ kind: 'venue_report', nowMs: world.clock.nowMs(), report })).toThrow(expect.objectContaining({ name: 'WalRecordError' }))
  expect(world.gateway.engine.state.lastLsn).toBe(lastLsn)
  expect(world.gateway.engine.wal.lastLsn).toBe(lastLsn)
  const second = await place(world, 'engine-second')
  expect(world.gateway.engine.state.orders.get(second)?.status).toBe('AckedOpen')
})
