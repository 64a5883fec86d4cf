/**
 * A venue's refusal of an order's place rejects the order as surely as the kernel does: egress_order_rejects_total
 * counts it under the dictionary's VENUE_REJECTED, so an alert on rejects by reason sees venue refusals too, and the
 * venue reject code stays in egress_venue_rejects_total{action, code} (the two agree, one record in each). A refused
 * cancel or amend rejects no order: counted only in egress_venue_rejects_total. No order or account id in any label.
 */

import { expect, test } from 'bun:test'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { parseExposition } from './exposition.ts'
import { event } from './observed.ts'

function samplesOf(metrics: GatewayMetrics, name: string): [Record<string, string>, number][] {
  const exposition = parseExposition(metrics.render())
  expect(exposition.problems).toEqual([])
  return (exposition.families.get(name)?.samples ?? []).map((sample) => [sample.labels, sample.value])
}

test('a place the venue refused is an order reject (VENUE_REJECTED); a refused cancel or amend is not', () => {
  const metrics = new GatewayMetrics()
  metrics.observe([
    event('order.rejected', 'o-1', 1, { reason: 'PRICE_BAND', accountId: 'acct-1' }),
    event('order.venue_rejected', 'o-2', 2, { venueReason: 'post_only_would_cross' }),
    event('order.venue_rejected', 'o-3', 3, { venueReason: 'insufficient_funds: short by 10' }),
    event('order.cancel_rejected', 'o-4', 4, { venueReason: 'too_late_to_cancel' }),
    event('order.amend_failed', 'o-5', 5, { reason: 'VENUE_AMEND_REJECTED', detail: 'post_only_would_cross' }),
  ])
  const rejects = samplesOf(metrics, 'egress_order_rejects_total')
  expect(rejects).toHaveLength(2)
  expect(rejects).toEqual(expect.arrayContaining([[{ reason: 'PRICE_BAND' }, 1], [{ reason: 'VENUE_REJECTED' }, 2]]))
  const venue = samplesOf(metrics, 'egress_venue_rejects_total')
  expect(venue).toHaveLength(4)
  expect(venue).toEqual(
    expect.arrayContaining([
      [{ action: 'place', code: 'POST_ONLY_WOULD_CROSS' }, 1],
      [{ action: 'place', code: 'INSUFFICIENT_FUNDS' }, 1],
      [{ action: 'cancel', code: 'TOO_LATE' }, 1],
      [{ action: 'amend', code: 'POST_ONLY_WOULD_CROSS' }, 1],
    ]),
  )
  // The venue's place refusals in both counters agree.
  const placeRefusals = venue.filter(([labels]) => labels.action === 'place').reduce((sum, [, value]) => sum + value, 0)
  expect(placeRefusals).toBe(2)
  expect(metrics.render()).not.toMatch(/o-\d|acct-1/)
})

test('the help of egress_order_rejects_total says venue refusals are in it, and where their codes are', () => {
  const help = parseExposition(new GatewayMetrics().render()).families.get('egress_order_rejects_total')?.help ?? ''
  expect(help).toContain('VENUE_REJECTED')
  expect(help).toContain('egress_venue_rejects_total')
})
