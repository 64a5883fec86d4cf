/**
 * A venue refuses a new order twice over: its answer to the place call (`rejected`) and its reject report. Whichever
 * lands first rejects the order; the other is the same refusal told again and records nothing. Before, a report landing
 * after the answer recorded a second `order.venue_rejected` on the order already Rejected (the table allows Rejected →
 * Rejected), so metrics, /explain and the audit counted one refusal twice. Logs holding that second record still
 * replay, to the same state.
 */

import { describe, expect, test } from 'bun:test'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import { expectSameStateWith } from './expect-same-state.ts'
import { Harness, report } from './fixtures.ts'

const REASON = 'post_only_would_cross'

function sentOrder(harness: Harness): string {
  const orderId = harness.placedId()
  harness.send(orderId)
  return orderId
}

function rejectReport(harness: Harness, orderId: string, reason: string | undefined = REASON) {
  const overrides = reason === undefined ? {} : { reason }
  return harness.report(report(harness.order(orderId), { kind: 'rejected', execId: 'rej-1', venueOrderId: '', ...overrides }))
}

function venueRejects(log: readonly DomainEvent[], orderId: string): DomainEvent[] {
  return log.filter((event) => event.type === 'order.venue_rejected' && event.orderId === orderId)
}

describe('a venue refusal told by both the place answer and a reject report is recorded once', () => {
  test('the answer first: the report after it records no second order.venue_rejected', () => {
    const harness = Harness.funded()
    const orderId = sentOrder(harness)
    harness.placeResult(orderId, { kind: 'rejected', reason: REASON })
    expect(harness.order(orderId).status).toBe('Rejected')
    const decision = rejectReport(harness, orderId)
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted'])
    // The report is in the log whole, its reason text too.
    expect(decision.events[0]).toMatchObject({ report: { kind: 'rejected', reason: REASON } })
    expect(harness.order(orderId).status).toBe('Rejected')
    expect(harness.reserved('USD')).toBe(0n)
    expect(venueRejects(harness.log, orderId)).toEqual([expect.objectContaining({ venueReason: REASON })])
  })

  test('the report first: the answer after it records no second order.venue_rejected', () => {
    const harness = Harness.funded()
    const orderId = sentOrder(harness)
    rejectReport(harness, orderId)
    expect(harness.order(orderId).status).toBe('Rejected')
    const decision = harness.placeResult(orderId, { kind: 'rejected', reason: REASON })
    expect(harness.eventTypes(decision)).toEqual(['order.call_completed'])
    expect(harness.reserved('USD')).toBe(0n)
    expect(venueRejects(harness.log, orderId)).toEqual([expect.objectContaining({ venueReason: REASON })])
  })

  test('a report with no reason text after the answer: nothing recorded either', () => {
    const harness = Harness.funded()
    const orderId = sentOrder(harness)
    harness.placeResult(orderId, { kind: 'rejected', reason: REASON })
    const decision = rejectReport(harness, orderId, undefined)
    expect(harness.eventTypes(decision)).toEqual(['inbox.report_accepted'])
    expect(venueRejects(harness.log, orderId)).toHaveLength(1)
  })

  test('a log holding the second order.venue_rejected (written before) still replays, to the same state', () => {
    const harness = Harness.funded()
    const orderId = sentOrder(harness)
    harness.placeResult(orderId, { kind: 'rejected', reason: REASON })
    rejectReport(harness, orderId, 'the venue says it again')
    // The same records, with the second refusal a build before this fix wrote after the report.
    const second: DomainEvent = { type: 'order.venue_rejected', atMs: harness.nowMs, orderId, venueReason: 'the venue says it again' }
    expectSameStateWith(harness, orderId, second)
  })
})
