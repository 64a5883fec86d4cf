/**
 * Retirement rule 2 in the ledger: the kernel never retires an order with an event at the instant being applied (its
 * touchedAt, src/kernel/retention.ts), so neither may the ledger, or a money-moving event the kernel books for it next
 * finds it retired. The case: an order canceled by the venue while its cancel call was in flight when the process
 * stopped; the start (past the grace and the margin) ends the lost call, another order ends in the same instant, and
 * the fill that raced the cancel is reported next. The kernel still holds the order (touched at that instant) and
 * books the fill; the ledger, which spared only the order the event was about, had retired it at the other order's end.
 */

import { describe, expect, test } from 'bun:test'
import { BreakBook } from '../../src/backoffice/breaks.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import { RETIRE_MARGIN_MS } from '../../src/backoffice/retention.ts'
import { decodeSection, encodeSection } from '../../src/backoffice/section.ts'
import { expectBooked, foldOn } from './kernel-log-fold.ts'
import { config, d, Harness, report } from '../kernel/fixtures.ts'

const GRACE_MS = 1_000

function lateFillAfterStart(): { harness: Harness; touchedAtLsn: number } {
  const harness = Harness.funded({ config: config({ params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: GRACE_MS } }) })
  const a = harness.openOrder({ client_order_id: 'a' })
  harness.cancel(a)
  harness.send(a, 'cancel')
  // The venue's report of the cancel comes before the cancel call's answer; the process stops with the call in flight.
  harness.report(report(harness.order(a), { execId: 'a-c', kind: 'canceled' }))
  expect(harness.order(a).status).toBe('Canceled')
  const [c, e] = ['c', 'e'].map((tag) => harness.placedId({ client_order_id: tag })) as [string, string]
  harness.cancel(c)
  // The start, well past the grace and the margin: the lost call ends (a's event at this instant), and e ends in it too.
  harness.nowMs += GRACE_MS + RETIRE_MARGIN_MS + 10_000
  harness.run({ kind: 'bootstrap', nowMs: harness.nowMs })
  const touchedAtLsn = harness.log.length
  harness.cancel(e)
  expect(harness.state.orders.has(a)).toBe(true)
  // The fill that raced the cancel, reported next.
  harness.nowMs += 1
  const fill = harness.report(report(harness.order(a), { execId: 'a-1', kind: 'fill', lastQty: d('0.05'), lastPrice: d('50000'), cumQty: d('0.05') }))
  expect(harness.eventTypes(fill)).toEqual(['inbox.report_accepted', 'order.fill'])
  return { harness, touchedAtLsn }
}

describe('an order with an event at the instant being applied', () => {
  test('is not retired by another order ending in the same instant: the late fill the kernel books next is booked', () => {
    const { harness } = lateFillAfterStart()
    expectBooked(foldOn(initialLedger(), harness, 1), harness)
  })

  test('from a section written before the ledger kept each order’s last event time: the kernel’s is taken', () => {
    const { harness, touchedAtLsn } = lateFillAfterStart()
    const head = foldOn(initialLedger(), { log: harness.log.slice(0, touchedAtLsn) } as Harness, 1)
    for (const order of head.orders.values()) delete (order as { updatedAtMs?: number }).updatedAtMs
    const queryModel = { lastLsn: touchedAtLsn, lastHash: '', digest: 'spec', tables: {} }
    const bytes = encodeSection({ lsn: touchedAtLsn, chainHead: '0'.repeat(64), queryModel, ledger: head, breaks: new BreakBook(), image: new Uint8Array() })
    expectBooked(foldOn(decodeSection(bytes, { upgradeFrom: harness.state }).ledger, harness, touchedAtLsn + 1), harness)
  })
})
