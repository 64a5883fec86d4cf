/**
 * The ledger keeps an ended order at least as long as the kernel may still move money for it (retention.ts). The
 * kernel never retires a bootstrap suspect proven absent (Failed, not at the venue): a start resends it, and when the
 * process stopped between the proof and the resend, that start may come any time later — past the ledger's grace.
 * The resend reserves afresh and the resent order fills: the ledger must still hold it, or it books neither.
 */

import { describe, expect, test } from 'bun:test'
import { BreakBook } from '../../src/backoffice/breaks.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import { applyEvent } from '../../src/backoffice/ledger.ts'
import { RETIRE_MARGIN_MS } from '../../src/backoffice/retention.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { decodeSection, encodeSection, type SectionUpgradeSource } from '../../src/backoffice/section.ts'
import { sectionFormOf } from '../../src/backoffice/section-orders.ts'
import { expectBooked, foldOn } from './kernel-log-fold.ts'
import { config, d, Harness, market, ops, report } from '../kernel/fixtures.ts'

const GRACE_MS = 1_000

/** The run below: its kernel, and the LSN (1-based index into its log) at which the suspect was proven absent. */
function suspectResentLate(): { harness: Harness; provenAtLsn: number } {
  const harness = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: GRACE_MS } }) })
  // Its place call was in flight when the process stopped; the start after marks it Unknown and a suspect.
  const suspect = harness.placedId({ client_order_id: 'a' })
  harness.send(suspect)
  const [b, c] = ['b', 'c'].map((tag) => harness.placedId({ client_order_id: tag })) as [string, string]
  harness.run({ kind: 'bootstrap', nowMs: harness.nowMs })
  harness.run({ kind: 'mark_suspects', nowMs: harness.nowMs })
  // Reconciliation proves the venue never had it (after the kernel's wait for a late arrival): Failed, still the
  // start's to resend. The process stops here.
  harness.nowMs += 5_000
  harness.run({ kind: 'reconcile_result', nowMs: harness.nowMs, orderId: suspect, venueOrder: null, trades: [] })
  expect(harness.order(suspect)).toMatchObject({ status: 'Failed', bootstrapSuspect: true })
  const provenAtLsn = harness.log.length
  // The next start, well past the grace and the margin: two more orders end there (the bound of one is exceeded).
  harness.nowMs += GRACE_MS + RETIRE_MARGIN_MS + 10_000
  for (const orderId of [b, c]) {
    harness.nowMs += 1
    harness.cancel(orderId)
  }
  expect(harness.state.orders.has(suspect)).toBe(true)
  // The start resends it: it holds its reservation again, is sent and fills.
  harness.run({ kind: 'resend', nowMs: harness.nowMs, principal: ops, orderId: suspect, market: market('50000', { observedAtMs: harness.nowMs }) })
  harness.run({ kind: 'clear_suspects', nowMs: harness.nowMs })
  harness.send(suspect)
  harness.placeResult(suspect, { kind: 'ok', value: { venueOrderId: 'v-a' } })
  harness.report(report(harness.order(suspect), { execId: 'a-1', kind: 'fill', lastQty: d('0.04'), lastPrice: d('50000'), cumQty: d('0.04') }))
  expect(harness.order(suspect)).toMatchObject({ status: 'Partial', cumQty: d('0.04') })
  return { harness, provenAtLsn }
}

describe('a bootstrap suspect resent late', () => {
  test('proven absent, resent by a start past the grace and the margin: the ledger still holds it, its hold and fill are booked', () => {
    const { harness } = suspectResentLate()
    expectBooked(foldOn(initialLedger(), harness, 1), harness)
  })

  test('from a section written before the ledger kept the mark: its Failed order is taken for a suspect, with the kernel or offline', () => {
    const { harness, provenAtLsn } = suspectResentLate()
    const before = foldOn(initialLedger(), harness, 1)
    const head = initialLedger()
    for (let lsn = 1; lsn <= provenAtLsn; lsn++) applyEvent(head, harness.log[lsn - 1] as DomainEvent, lsn)
    // As an older build wrote it: no mark on any order (each order as a section writes it, less the mark).
    const unmarked = new Map([...head.orders].map(([orderId, order]) => {
      const { bootstrapSuspect: _mark, ...written } = sectionFormOf(order) as Record<string, unknown>
      return [orderId, written]
    }))
    const queryModel = { lastLsn: provenAtLsn, lastHash: '', digest: 'spec', tables: {} }
    const bytes = encodeSection({ lsn: provenAtLsn, chainHead: '0'.repeat(64), queryModel, ledger: { ...head, orders: unmarked as never }, breaks: new BreakBook(), image: new Uint8Array() })
    const kernel: SectionUpgradeSource = harness.state
    for (const upgradeFrom of [kernel, null]) {
      const restored = decodeSection(bytes, { upgradeFrom }).ledger
      expectBooked(foldOn(restored, harness, provenAtLsn + 1), harness)
      expect(restored.books).toEqual(before.books)
      expect(restored.positions).toEqual(before.positions)
    }
  })
})
