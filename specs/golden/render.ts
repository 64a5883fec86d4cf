/**
 * How a golden trace names log records: the event type plus the one or two fields that say what happened, so an
 * expected sequence reads like the order's story — `inbox.report_accepted:fill`, `order.call_completed:place:ok`,
 * `order.reconciled:Failed:RECONCILE_NOT_FOUND`. And a small matcher for expected sequences with repeated groups.
 */

import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { EventPattern } from './trace.ts'

export function renderEvent(event: DomainEvent): string {
  switch (event.type) {
    case 'order.rejected':
      return `${event.type}:${event.reason}`
    case 'order.call_completed':
      return `${event.type}:${event.action}:${event.outcome}`
    case 'inbox.report_accepted':
      return `${event.type}:${event.report.kind}`
    case 'order.canceled':
    case 'order.unknown':
    case 'alert.raised':
    case 'order.amend_rejected':
    case 'order.amend_failed':
      return `${event.type}:${event.reason}`
    case 'order.send_retry':
      return `${event.type}:${event.action}`
    case 'order.amended':
      return `${event.type}:${event.source}`
    case 'order.send_blocked':
      return `${event.type}:${event.action}:${event.reason}`
    case 'order.reconciled':
      return `${event.type}:${event.to}:${event.reason}`
    case 'order.fill':
      return event.synthetic ? `${event.type}:synthetic` : event.type
    default:
      return event.type
  }
}

/** The records that concern one order, in log order. */
export function eventsOf(events: readonly DomainEvent[], orderId: string): DomainEvent[] {
  return events.filter((event) => 'orderId' in event && event.orderId === orderId)
}

/** Whether `actual` is exactly the sequence `patterns` describes (a `repeat` group matches min..∞ times). */
export function matchEvents(patterns: readonly EventPattern[], actual: readonly string[]): boolean {
  return matchFrom(patterns, 0, actual, 0)
}

function matchFrom(patterns: readonly EventPattern[], p: number, actual: readonly string[], a: number): boolean {
  if (p === patterns.length) return a === actual.length
  const pattern = patterns[p] as EventPattern
  if (typeof pattern === 'string') return actual[a] === pattern && matchFrom(patterns, p + 1, actual, a + 1)
  const min = pattern.min ?? 1
  // Expand the group k times, for k = min, min+1, … while there is input left to consume.
  for (let k = min; k <= actual.length - a; k++) {
    const expanded: EventPattern[] = []
    for (let i = 0; i < k; i++) expanded.push(...pattern.repeat)
    if (matchFrom([...expanded, ...patterns.slice(p + 1)], 0, actual, a)) return true
    if (pattern.repeat.length === 0) break
  }
  return min === 0 && matchFrom(patterns, p + 1, actual, a)
}
