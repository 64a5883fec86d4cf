/**
 * A reconcile run writes its breaks opened and cleared, and the run itself, in one append (backoffice.ts record). The
 * breaks a run opened had no bound: a venue answer with more differences than the log's queue takes records (65,536 by
 * default; a venue's open orders list up to 100,000) made the append refused as overloaded, at every run from then on —
 * no break was ever recorded or cleared again — and one just under it filled the queue that new orders need. A run now
 * writes at most breakRecordsMax(queueRecordsMax) break records (a quarter of the queue, at most
 * BREAK_RECORDS_PER_RUN_MAX); the differences past it stay suspects, opened by the next runs.
 */

import { expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { breakRecordsMax } from '../../src/backoffice/reconcile-records.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { drive, run, startWorld, traderA, worldsStoppedAfterEach } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

const QUEUE_RECORDS_MAX = 1_024
const TRADES = 1_200

test('a run confirming more venue differences than the log queue takes opens them over several runs, never refused', async () => {
  const world = await startWorld({ seed: 11, wal: { queueRecordsMax: QUEUE_RECORDS_MAX } })
  worlds.push(world)
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: '61000', client_order_id: 'runs-1' }, null)
  expect(placed.reply.kind).toBe('accepted')
  await run(world, 300)
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const nowMs = world.clock.nowMs()
  // Trades egress has no record of (another client's, say): each is a venue_trades difference, confirmed at the second run.
  const trades = Array.from({ length: TRADES }, (_, index) => ({
    execId: `ext-exec-${index}`, clientOrderId: `manual-${index}`, venueOrderId: `v-${index}`, account: 'acct-a', symbol: 'BTC-USD', side: 'buy' as const,
    qty: parseDecimal('0.001'), price: parseDecimal('61000'), fee: parseDecimal('0.01'), feeAsset: 'USD', liquidity: 'taker' as const, venueTimeMs: nowMs - 3_600_000,
  }))
  ;(world.venue as unknown as { trades: () => Promise<unknown> }).trades = async () => ({ kind: 'ok', value: trades })
  const first = await drive(world, office.reconcile())
  expect(first.suspected.length).toBeGreaterThanOrEqual(TRADES)
  await run(world, 500)

  const bound = breakRecordsMax(QUEUE_RECORDS_MAX)
  let opened = 0
  for (let runs = 0; opened < TRADES && runs < 10; runs++) {
    // Before, the second run was refused (EngineOverloadedError: log queue full), and so was every run after it.
    const next = await drive(world, office.reconcile())
    expect(next.opened.length + next.cleared.length + next.retired.length).toBeLessThanOrEqual(bound)
    expect(next.opened.length).toBeGreaterThan(0)
    opened += next.opened.length
    await run(world, 500)
  }
  expect(opened).toBeGreaterThanOrEqual(TRADES)
  expect(office.projector.breaks.open.size).toBe(opened)
  // The log still takes orders.
  const next = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000', client_order_id: 'runs-2' }, null)
  expect(next.reply.kind).toBe('accepted')
  await run(world, 300)
  expect(world.errors).toEqual([])
}, 60_000)
