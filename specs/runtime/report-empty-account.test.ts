/**
 * A FIX venue may leave Account (1) out of an execution report; the FIX adapter then states the account as egress
 * knows it (its order facts) or, for an order it knows nothing of, as ''. The kernel reads an empty account or symbol
 * as "not stated" (inbox.ts mismatchOf, specs/kernel/report-foreign.test.ts). The venue input bounds of c0da440 made
 * account and symbol 1–256 characters, so such a report was refused (VENUE_REPORT_INVALID) before the kernel saw it:
 * a stray order at such a venue raised no REPORT_ORPHANED (its report was an error line), and a read-back answer
 * stating no account was refused (the order left Unknown, asked again after each back-off). An empty account or
 * symbol is taken again; one past the bound or with control characters is still refused.
 */

import { expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { invalidReadBackOf } from '../../src/runtime/read-back-check.ts'
import { invalidReportOf } from '../../src/runtime/report-check.ts'
import type { ExecutionReport, VenueOrder, VenueTrade } from '../../src/venues/adapter.ts'
import { run, startWorld, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

const FILL: ExecutionReport = {
  venue: 'sim', execId: 'x-1', kind: 'fill', clientOrderId: 'c-1', venueOrderId: 'v-1', account: '', symbol: 'BTC-USD', side: 'buy',
  cumQty: 1_000_000n, lastQty: 1_000_000n, lastPrice: 5_000_000_000_000n, venueTimeMs: 1,
}

test('a report that states no account (FIX without Account) or no symbol passes the report check', () => {
  expect(invalidReportOf(FILL)).toBeNull()
  expect(invalidReportOf({ ...FILL, symbol: '' })).toBeNull()
  expect(invalidReportOf({ ...FILL, account: 'a\nb' })?.message).toContain('report.account')
  expect(invalidReportOf({ ...FILL, account: 'a'.repeat(257) })?.message).toContain('report.account')
})

test('a read-back answer that states no account passes the read-back check', () => {
  const order: VenueOrder = { clientOrderId: 'c-1', venueOrderId: 'v-1', account: '', symbol: 'BTC-USD', side: 'buy', qty: 2_000_000n, cumQty: 1_000_000n, status: 'partially_filled' }
  const trade: VenueTrade = {
    execId: 'x-1', clientOrderId: 'c-1', venueOrderId: 'v-1', account: '', symbol: 'BTC-USD', side: 'buy',
    qty: 1_000_000n, price: 5_000_000_000_000n, fee: 0n, feeAsset: 'USD', liquidity: 'maker', venueTimeMs: 1,
  }
  expect(invalidReadBackOf('sim', 'c-1', { venueOrder: order, trades: [trade] })).toBeNull()
  expect(invalidReadBackOf('sim', 'c-1', { venueOrder: { ...order, account: 'a\u0000' }, trades: [] })?.message).toContain('venueOrder.account')
})

test('a stray order at a venue that states no account is recorded as orphaned and raises REPORT_ORPHANED', async () => {
  const world = await startWorld({ seed: 21 })
  worlds.push(world)
  await world.gateway.reportIntake.submit({ ...FILL, clientOrderId: 'other-system-1', execId: 'stray-1' })
  await run(world, 50)
  const events = Array.from(world.gateway.engine.wal.read(1), domainEventOf).flatMap((event) => (event === null ? [] : [event]))
  expect(events.filter((event) => event.type === 'alert.raised' && event.reason === 'REPORT_ORPHANED').map((event) => (event as { detail: string }).detail)).toEqual([
    'sim fill for other-system-1',
  ])
  expect(events.some((event) => event.type === 'inbox.report_accepted' && event.report.execId === 'stray-1')).toBe(true)
})
