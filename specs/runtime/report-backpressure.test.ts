/**
 * A venue report the log's queue has no room for (EngineOverloadedError) was dropped: onError, and its order read back
 * later from the venue. A report is inbound and the inbox drops one it has recorded already, so it is now held and
 * submitted again once the log has room (src/runtime/report-intake.ts): every held report is recorded once, in the
 * order it came, none twice; past the holding bound a report is dropped (counted) and its order read back, as before.
 */

import { expect, test } from 'bun:test'
import { GatewayMetrics } from '../../src/http/gateway-metrics.ts'
import { ReportIntake } from '../../src/runtime/report-intake.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'
import { fillLogQueue, heldFlushes } from './log-queue-full.ts'

const worlds = worldsStoppedAfterEach()
const QUEUE_RECORDS_MAX = 64

async function restingBuy(world: World): Promise<string> {
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '59000', tif: 'GTC', client_order_id: 'rest' }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 50)
  return placed.reply.orderId
}

function fills(world: World, orderId: string, count: number): ExecutionReport[] {
  const order = world.gateway.engine.state.orders.get(orderId)
  if (order === undefined) throw new Error('no order')
  return Array.from({ length: count }, (_, index) => ({
    venue: order.venue, execId: `held-${index + 1}`, kind: 'fill' as const, clientOrderId: order.venueClientOrderId, venueOrderId: order.venueOrderId ?? '',
    account: order.accountId, symbol: order.symbol, side: order.side, cumQty: BigInt(index + 1) * 1_000_000n, lastQty: 1_000_000n,
    lastPrice: 5_900_000_000_000n, venueTimeMs: world.clock.nowMs(),
  }))
}

function acceptedExecIds(world: World): string[] {
  const ids: string[] = []
  for (const frame of world.gateway.engine.wal.read(1)) {
    const text = new TextDecoder().decode(frame.payload)
    const match = /held-\d+/.exec(text)
    if (match !== null && frame.type === 300) ids.push(match[0])
  }
  return ids
}

test('reports refused for a full log queue are held and recorded once each, in arrival order, when room returns', async () => {
  const flushes = heldFlushes()
  const world = await startWorld({ seed: 7, wal: { queueRecordsMax: QUEUE_RECORDS_MAX, scheduleFlush: flushes.schedule } })
  worlds.push(world)
  const orderId = await restingBuy(world)
  const statusReads = world.venue.inspect().requests.calls.orderStatus

  flushes.held = true
  const appended = fillLogQueue(world)
  expect(appended.length).toBeGreaterThan(0)
  const reports = fills(world, orderId, 5)
  const intake = world.gateway.reportIntake
  // The third report arrives twice (a venue resend): still recorded once.
  for (const report of [...reports.slice(0, 3), reports[2] as ExecutionReport, ...reports.slice(3)]) await intake.submit(report)
  expect(world.gateway.reportIntake.stats).toMatchObject({ held: 6, heldTotal: 6, resubmitted: 0, dropped: 0 })
  const metrics = new GatewayMetrics()
  metrics.attach(world.gateway, { inFlight: () => 0 })
  expect(metrics.render()).toContain('egress_venue_reports_held 6')
  expect(world.gateway.engine.state.orders.get(orderId)?.cumQty).toBe(0n)

  flushes.release()
  await Promise.all(appended)
  await run(world, 200)
  expect(world.gateway.reportIntake.stats).toMatchObject({ held: 0, heldTotal: 6, resubmitted: 6, dropped: 0 })
  const exposition = metrics.render()
  metrics.detach()
  expect(exposition).toContain('egress_venue_reports_held 0')
  expect(exposition).toContain('egress_venue_reports_total{outcome="held"} 6')
  expect(exposition).toContain('egress_venue_reports_total{outcome="resubmitted"} 6')
  expect(world.gateway.engine.state.orders.get(orderId)?.cumQty).toBe(5_000_000n)
  // Each recorded once, in the order they came; the repeat was dropped by the inbox as a duplicate.
  expect(acceptedExecIds(world)).toEqual(['held-1', 'held-2', 'held-3', 'held-4', 'held-5'])
  expect(world.gateway.engine.state.orders.get(orderId)?.execIds.has('held-5')).toBe(true)
  // Nothing was lost, so nothing was read back.
  expect(world.venue.inspect().requests.calls.orderStatus).toBe(statusReads)
  expect(world.errors).toEqual([])
})

test('a report arriving while others are held waits behind them, even when the log has room for it', async () => {
  const flushes = heldFlushes()
  const world = await startWorld({ seed: 8, wal: { queueRecordsMax: QUEUE_RECORDS_MAX, scheduleFlush: flushes.schedule } })
  worlds.push(world)
  const orderId = await restingBuy(world)
  const [first, second] = fills(world, orderId, 2) as [ExecutionReport, ExecutionReport]
  flushes.held = true
  const appended = fillLogQueue(world)
  const intake = world.gateway.reportIntake
  await intake.submit(first)
  flushes.release()
  await Promise.all(appended)
  // The queue has room now, but `first` is still held until the gateway resumes it: `second` goes behind it.
  expect(world.gateway.reportIntake.stats.held).toBe(1)
  void intake.submit(second)
  expect(world.gateway.reportIntake.stats.held).toBe(2)
  await run(world, 200)
  expect(acceptedExecIds(world)).toEqual(['held-1', 'held-2'])
})

test('past the holding bound a report is dropped, counted, and its order read back', async () => {
  const flushes = heldFlushes()
  const world = await startWorld({ seed: 9, wal: { queueRecordsMax: QUEUE_RECORDS_MAX, scheduleFlush: flushes.schedule } })
  worlds.push(world)
  const orderId = await restingBuy(world)
  const readBacks: string[] = []
  const errors: string[] = []
  const intake = new ReportIntake({
    engine: world.gateway.engine, clock: world.clock, heldMax: 2,
    onError: (error) => void errors.push(String(error)), noteFill: () => {}, readBack: (id) => void readBacks.push(id),
  })
  flushes.held = true
  const appended = fillLogQueue(world)
  for (const report of fills(world, orderId, 4)) await intake.submit(report)
  expect(intake.stats).toMatchObject({ held: 2, dropped: 2 })
  expect(readBacks).toEqual([orderId, orderId])
  // One line per episode, not one per dropped report.
  expect(errors).toHaveLength(1)
  expect(errors[0]).toContain('VenueReportDroppedError')
  flushes.release()
  await Promise.all(appended)
  intake.resume()
  await run(world, 50)
  expect(intake.stats).toMatchObject({ held: 0, resubmitted: 2, dropped: 2 })
  expect(world.gateway.engine.state.orders.get(orderId)?.cumQty).toBe(2_000_000n)
  intake.stop()
})
