/**
 * The one-line story of an order's events: a send retry held by the HA send gate must not read as the venue's answer
 * (the venue never saw the call).
 */

import { expect, test } from 'bun:test'
import { summaryOf } from '../../src/http/routes/order-log.ts'

const retry = (venueReason: string) => ({ type: 'order.send_retry' as const, atMs: 1, orderId: 'o-1', action: 'place' as const, venueReason, retryAtMs: 2 })

test('a send retry held by the HA send gate says it never reached the venue', () => {
  const summary = summaryOf(retry('HA_STANDBY_UNCONFIRMED: the standby did not confirm the send record at LSN 9'))
  expect(summary).toBe('place held before the venue, to be retried: HA_STANDBY_UNCONFIRMED: the standby did not confirm the send record at LSN 9')
  expect(summary).not.toContain('venue said')
})

test("a venue's own retryable answer still reads as the venue's", () => {
  expect(summaryOf(retry('rate limited'))).toBe('place to be retried: the venue said rate limited')
})
