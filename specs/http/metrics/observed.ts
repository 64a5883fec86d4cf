/**
 * For specs that feed GatewayMetrics events directly (GatewayMetrics.observe) and read one sample back from its
 * exposition.
 */

import { expect } from 'bun:test'
import type { DomainEvent } from '../../../src/domain/events/index.ts'
import type { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { parseExposition } from './exposition.ts'

/** Only what the metrics read of an event: its type, order and time, and the fields named in `rest`. */
export function event(type: DomainEvent['type'], orderId: string, atMs: number, rest: Record<string, unknown> = {}): DomainEvent {
  return { type, orderId, atMs, ...rest } as unknown as DomainEvent
}

export function placedAndAcked(orderId: string, atMs: number): DomainEvent[] {
  return [event('order.accepted', orderId, atMs), event('order.send_requested', orderId, atMs + 1), event('order.send_acked', orderId, atMs + 2)]
}

/** The value of the sample `name` with exactly `labels`, or undefined when there is none; the exposition must be valid. */
export function sample(metrics: GatewayMetrics, name: string, labels: Record<string, string> = {}): number | undefined {
  const exposition = parseExposition(metrics.render())
  expect(exposition.problems).toEqual([])
  for (const family of exposition.families.values()) {
    const found = family.samples.find((candidate) => candidate.name === name && JSON.stringify(candidate.labels) === JSON.stringify(labels))
    if (found !== undefined) return found.value
  }
  return undefined
}
