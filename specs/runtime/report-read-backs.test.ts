/**
 * Read-backs a venue's own reports ask for (an invalid report, one not recorded: report-intake.ts) are paced per order
 * and kept within the executor's call budget (src/runtime/report-read-backs.ts). They went straight to the executor:
 * a venue repeating invalid reports about an order had it read back again as soon as the last read-back ended, past
 * the budget every other venue call keeps.
 */

import { describe, expect, test } from 'bun:test'
import { SimClock } from '../../src/runtime/clock.ts'
import { READ_BACK_CALLS } from '../../src/runtime/read-back.ts'
import { REPORT_READ_BACK_PACE_MS, ReportReadBacks } from '../../src/runtime/report-read-backs.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const PACE_MS = 1_000

function paced(options: { budget?: () => number; ordersMax?: number; holds?: (orderId: string) => boolean } = {}) {
  const clock = new SimClock({ startMs: 1_000_000 })
  const read: string[] = []
  const readBacks = new ReportReadBacks({
    clock,
    paceMs: PACE_MS,
    ordersMax: options.ordersMax ?? 100,
    holds: options.holds ?? (() => true),
    callsBudgetLeft: options.budget ?? (() => 10),
    readBack: (orderId) => void read.push(orderId),
  })
  return { clock, read, readBacks }
}

describe('ReportReadBacks', () => {
  test('an order is read back at once, then at most once per pace however many reports ask; other orders are not held up', () => {
    const { clock, read, readBacks } = paced()
    readBacks.want('a')
    for (let index = 0; index < 50; index++) readBacks.want('a')
    readBacks.want('b')
    expect(read).toEqual(['a', 'b'])
    clock.advance(PACE_MS - 1)
    expect(read).toEqual(['a', 'b'])
    clock.advance(1)
    expect(read).toEqual(['a', 'b', 'a'])
    // Nothing more was asked: nothing more is read.
    clock.advance(10 * PACE_MS)
    expect(read).toEqual(['a', 'b', 'a'])
    // Asked long after its last read-back: at once.
    readBacks.want('a')
    expect(read).toEqual(['a', 'b', 'a', 'a'])
  })

  test('never with the last free calls: the request waits a pace and is read once calls are free', () => {
    let budget = READ_BACK_CALLS
    const { clock, read, readBacks } = paced({ budget: () => budget })
    readBacks.want('a')
    clock.advance(3 * PACE_MS)
    expect(read).toEqual([])
    expect(readBacks.waitingCount).toBe(1)
    budget = READ_BACK_CALLS + 1
    clock.advance(PACE_MS)
    expect(read).toEqual(['a'])
    expect(readBacks.waitingCount).toBe(0)
  })

  test(`bounded: past ordersMax waiting orders a request is dropped and counted; a retired order is not read back`, () => {
    const held = new Set(['a', 'b', 'c'])
    const { clock, read, readBacks } = paced({ budget: () => 0, ordersMax: 2, holds: (orderId) => held.has(orderId) })
    for (const orderId of ['a', 'b', 'c', 'x']) readBacks.want(orderId)
    expect({ waiting: readBacks.waitingCount, dropped: readBacks.dropped }).toEqual({ waiting: 2, dropped: 1 })
    held.delete('a')
    clock.advance(PACE_MS)
    expect(readBacks.waitingCount).toBe(1)
    readBacks.stop()
    clock.advance(10 * PACE_MS)
    expect(read).toEqual([])
  })
})

test('a venue repeating an invalid report about an open order has it read back once per pace, not after every report', async () => {
  const world = await startWorld({ seed: 23 })
  worlds.push(world)
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: 'rests' }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 50)
  const order = world.gateway.engine.state.orders.get(placed.reply.orderId)
  if (order === undefined) throw new Error('no order')
  const statusReads = () => world.venue.inspect().requests.calls.orderStatus
  const before = statusReads()
  // Refused before the kernel sees it (an empty execId): its order is read back instead.
  const invalid: ExecutionReport = {
    venue: order.venue, execId: '', kind: 'fill', clientOrderId: order.venueClientOrderId, venueOrderId: order.venueOrderId ?? '',
    account: order.accountId, symbol: order.symbol, side: order.side, cumQty: 1_000_000n, lastQty: 1_000_000n, lastPrice: 5_900_000_000_000n,
    venueTimeMs: world.clock.nowMs(),
  }
  // One every 50 ms for 900 ms (each read-back ends well inside 50 ms): inside one pace.
  for (let index = 0; index < 18; index++) {
    await world.gateway.reportIntake.submit({ ...invalid, venueTimeMs: world.clock.nowMs() })
    await run(world, 50)
  }
  expect(REPORT_READ_BACK_PACE_MS).toBe(PACE_MS)
  expect(statusReads() - before).toBe(1)
  // The requests inside the pace make one more read-back at its end.
  await run(world, 200)
  expect(statusReads() - before).toBe(2)
  expect(world.errors.filter((line) => !line.includes('VenueReportInvalidError'))).toEqual([])
})
