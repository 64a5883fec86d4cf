/**
 * The trace id an order was accepted under (`trace_id` of GET /v1/orders/{id}): read from its `order.accepted` record
 * in the log, never kept in the kernel state (the record is the one store of it, so it survives restarts as the log
 * does, and the kernel-state snapshot stays as it is). An order's acceptance never changes, so what was read is
 * remembered: a client polling its order reads the log once. The memory is bounded (forgotten whole at the bound).
 */

import { traceIdOf } from '../domain/trace-context.ts'
import type { LogIndex } from './log-index.ts'

/** Orders whose trace id is remembered, per log index; past it the memory starts again empty. */
export const ORDER_TRACES_REMEMBERED_MAX = 16_384

const remembered = new WeakMap<LogIndex, Map<string, string | null>>()

/**
 * The trace id of the order's acceptance: a string, null when its acceptance carries none (written before traces, or
 * by no request: a flatten's closing order) or the log no longer holds it, undefined while the log index is still
 * being built after a restart (unknown yet: the caller leaves it out rather than say "none").
 */
export function acceptedTraceIdOf(logIndex: LogIndex, orderId: string): string | null | undefined {
  let known = remembered.get(logIndex)
  const hit = known?.get(orderId)
  if (hit !== undefined) return hit
  if (!logIndex.complete) return undefined
  const intake = logIndex.intakeRecord(orderId)
  if (intake === null || intake.event.type !== 'order.accepted') return null
  const traceparent = intake.event.traceparent
  const traceId = traceparent === undefined ? null : traceIdOf(traceparent)
  if (known === undefined) remembered.set(logIndex, (known = new Map()))
  if (known.size >= ORDER_TRACES_REMEMBERED_MAX) known.clear()
  known.set(orderId, traceId)
  return traceId
}
