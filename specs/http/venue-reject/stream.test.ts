/**
 * The SSE streams show a venue's refusal with its venue reject code (`venueRejectCode`, derived, beside the record's
 * own reason text), and every other record exactly as logged.
 */

import { expect, test } from 'bun:test'
import type { DomainEvent } from '../../../src/domain/events/index.ts'
import { encodeEvent } from '../../../src/http/sse/stream-events.ts'

function data(bytes: Uint8Array): Record<string, unknown> {
  const line = new TextDecoder().decode(bytes).split('\n').find((part) => part.startsWith('data: ')) ?? ''
  return JSON.parse(line.slice('data: '.length)) as Record<string, unknown>
}

test('a cancel_rejected, a venue_rejected and a venue-refused amend carry venueRejectCode; a send_retry does not', () => {
  const events: DomainEvent[] = [
    { type: 'order.cancel_rejected', atMs: 1, orderId: 'o-1', venueReason: 'fix_cancel_rejected: CxlRejReason 0: too late' },
    { type: 'order.venue_rejected', atMs: 2, orderId: 'o-2', venueReason: 'some venue prose' },
    { type: 'order.amend_failed', atMs: 3, orderId: 'o-3', amendId: 1, reason: 'VENUE_AMEND_REJECTED', detail: 'post_only_would_cross' },
    { type: 'order.amend_failed', atMs: 4, orderId: 'o-3', amendId: 2, reason: 'AMEND_SUPERSEDED', detail: 'post_only_would_cross' },
    { type: 'order.send_retry', atMs: 5, orderId: 'o-4', action: 'place', venueReason: 'rate_limited', retryAtMs: 6 },
  ]
  expect(events.map((event, index) => data(encodeEvent(index + 1, event)).venueRejectCode)).toEqual(['TOO_LATE', 'OTHER', 'POST_ONLY_WOULD_CROSS', undefined, undefined])
  expect(data(encodeEvent(1, events[0] as DomainEvent))).toEqual({ lsn: 1, type: 'order.cancel_rejected', atMs: 1, orderId: 'o-1', venueReason: 'fix_cancel_rejected: CxlRejReason 0: too late', venueRejectCode: 'TOO_LATE' })
})
