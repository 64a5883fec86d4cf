/**
 * The `reason` label of the order-path metrics is a reason code (src/domain/reasons.ts, §16 I-102): dashboards and
 * alerts key on the dictionary, so a label value the dictionary does not hold is one nobody can look up. Most values
 * come from the records themselves (their schemas allow only reason codes); the metrics code writes some of its own
 * (a deferred reconcile's, a venue's refusal of a place), and `RECONCILE_DEFERRED` was one the dictionary lacked. This walks every record type
 * through GatewayMetrics — each carrying a reason code the metrics code never writes itself, so any other value seen
 * is the metrics code's own — and holds every `reason` label of those metrics to the dictionary.
 */

import { expect, test } from 'bun:test'
import { EVENT_CODES } from '../../../src/domain/events/registry.ts'
import type { EventType } from '../../../src/domain/events/index.ts'
import { isReasonCode } from '../../../src/domain/reasons.ts'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { ORDER_STATES } from '../../../src/domain/states.ts'
import { parseExposition } from './exposition.ts'
import { event } from './observed.ts'

/** The metrics whose `reason` label is a reason code (egress_sse_disconnects_total's is a stream's end, not one). */
const REASON_CODE_METRICS = ['egress_order_rejects_total', 'egress_reconcile_outcomes_total']

/** A reason code the metrics code does not write itself: what every fed record carries. */
const FED_REASON = 'USER_CANCEL'

test("every reason label the order-path metrics emit, for every record type, is in the reason dictionary", () => {
  const metrics = new GatewayMetrics()
  let atMs = 1_000
  for (const type of Object.keys(EVENT_CODES) as EventType[]) {
    // Each value of the members the metrics read to pick a series: the action of a blocked send, the state reconciled to
    // (and a venue's reason text, which egress_venue_rejects_total reads its code from).
    for (const action of ['place', 'cancel', 'amend']) {
      for (const to of ORDER_STATES) {
        atMs += 1
        metrics.observe([event(type, `o-${atMs}`, atMs, { reason: FED_REASON, action, to, retryAtMs: atMs + 1, venueCumQty: 1n, cumQty: 1n, lastQty: 1n, venueReason: 'x', detail: 'x' })])
      }
    }
  }
  const exposition = parseExposition(metrics.render())
  expect(exposition.problems).toEqual([])
  const reasons = new Set<string>()
  for (const name of REASON_CODE_METRICS) {
    const family = exposition.families.get(name)
    expect(family).toBeDefined()
    for (const sample of family?.samples ?? []) if (sample.labels.reason !== undefined) reasons.add(sample.labels.reason)
  }
  // The walk reached the values the metrics code writes itself, not only the fed one.
  expect([...reasons].sort()).toEqual(['FILL_OVERFILL', 'RECONCILE_DEFERRED', FED_REASON, 'VENUE_REJECTED'])
  expect([...reasons].filter((reason) => !isReasonCode(reason))).toEqual([])
})
