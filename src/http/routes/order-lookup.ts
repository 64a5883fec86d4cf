/**
 * Finding an order for a caller: accepted orders are in the kernel state, or — once retired from it — rebuilt from
 * their records in the log; orders the kernel rejected exist only as their `order.rejected` record in the log (found
 * through the log index; the latest, for a key rejected more than once). An order the caller may not read answers
 * 404 exactly like one that does not exist, so order ids cannot be probed across accounts.
 */

import type { EventOf } from '../../domain/events/index.ts'
import type { Order } from '../../domain/orders.ts'
import { traceIdOf } from '../../domain/trace-context.ts'
import { canRead, canReadAudit, type Principal } from '../auth/index.ts'
import { ApiError } from '../errors.ts'
import type { Services } from '../services.ts'
import { orderView } from '../views/order-view.ts'
import { retiredOrderOf } from '../retired-order.ts'

export interface FoundOrder {
  orderId: string
  accountId: string | null
  order: Order | null
  view: Record<string, unknown>
}

/**
 * An order named by a route that shows less than the whole order (its events, its story, its stream, an action on
 * it): found as findOrder finds it, without rebuilding a retired order from its whole history (retired-order.ts).
 */
export interface OrderRef {
  orderId: string
  accountId: string | null
  /** The order the kernel holds; null when it has retired it or rejected it. */
  held: Order | null
  /** Where an accepted order (held or retired) trades; null for an order the kernel rejected. */
  instrument: { venue: string; symbol: string } | null
}

/** The order for GET /v1/orders/:id: held, rebuilt when retired (kept for the next ask), or its rejection. */
export function findOrder(services: Services, principal: Principal, orderId: string): FoundOrder {
  const found = locate(services, principal, orderId)
  switch (found.kind) {
    case 'held':
      return { orderId, accountId: found.order.accountId, order: found.order, view: { ...orderView(found.order) } }
    case 'retired': {
      // Retired from the hot state (terminal, beyond the kernel's bound): rebuilt from its records in the log.
      const retired = retiredOrderOf(services.gateway.engine.state, services.logIndex, orderId)
      if (retired === null) throw notFound(orderId)
      return { orderId, accountId: retired.accountId, order: retired, view: { ...orderView(retired) } }
    }
    case 'rejected':
      return { orderId, accountId: found.rejected.accountId, order: null, view: rejectedView(orderId, found.rejected, found.lsn) }
  }
}

/** The order a route names, for one that needs its account and instrument only: nothing of its history is read. */
export function findOrderRef(services: Services, principal: Principal, orderId: string): OrderRef {
  const found = locate(services, principal, orderId)
  switch (found.kind) {
    case 'held':
      return { orderId, accountId: found.order.accountId, held: found.order, instrument: found.order }
    case 'retired':
      return { orderId, accountId: found.accepted.accountId, held: null, instrument: found.accepted }
    case 'rejected':
      return { orderId, accountId: found.rejected.accountId, held: null, instrument: null }
  }
}

type Located =
  | { kind: 'held'; order: Order }
  | { kind: 'retired'; accepted: EventOf<'order.accepted'> }
  | { kind: 'rejected'; rejected: EventOf<'order.rejected'>; lsn: number }

function locate(services: Services, principal: Principal, orderId: string): Located {
  const readable = (accountId: string | null): boolean => (accountId === null ? canReadAudit(principal) : canRead(principal, accountId))
  const found = lookup(services, orderId, readable)
  if (found === null) throw notFound(orderId)
  return found
}

function notFound(orderId: string): ApiError {
  return new ApiError('NOT_FOUND', `no order ${orderId}`, { details: { order_id: orderId } })
}

/**
 * The order if the caller may read it, else null. Whether it may is decided before any of the order's history is read:
 * a retired order was rebuilt from every record it has before its account was looked at, so another account's order
 * answered its 404 later than an unknown id, by as much as its history is long — and order ids are computable from an
 * account and a key, so the delay told a stranger which keys another account had used, and roughly how busy they were.
 */
function lookup(services: Services, orderId: string, readable: (accountId: string | null) => boolean): Located | null {
  const order = services.gateway.engine.state.orders.get(orderId)
  if (order !== undefined) {
    if (readable(order.accountId)) return { kind: 'held', order }
    // An id the kernel does not hold is looked up in the log index, which answers 503 while it is still being built
    // after a restart: a held order of another account must get that answer too, or its 404 told it apart then. Asked
    // without reading the log (an unknown id reads nothing either).
    services.logIndex.has(orderId)
    return null
  }
  // Another account's order the index knows in memory (accepted or rejected since the start) is refused before any
  // read of the log: the read made its 404 ~20 µs slower than an unknown id's. An order known only from the log
  // (retired before this start) still reads its intake record first.
  const known = services.logIndex.accountInMemoryOf(orderId)
  if (known !== undefined && !readable(known)) {
    services.logIndex.has(orderId)
    return null
  }
  const intake = services.logIndex.intakeRecord(orderId)
  if (intake === null || (intake.event.type !== 'order.accepted' && intake.event.type !== 'order.rejected')) return null
  if (!readable(intake.event.accountId)) return null
  if (intake.event.type === 'order.accepted') return { kind: 'retired', accepted: intake.event }
  return { kind: 'rejected', rejected: intake.event, lsn: intake.lsn }
}

function rejectedView(orderId: string, rejected: EventOf<'order.rejected'>, lsn: number): Record<string, unknown> {
  return {
    order_id: orderId,
    account: rejected.accountId,
    state: 'Rejected',
    reason: rejected.reason,
    guard: rejected.guard,
    idempotency_key: rejected.idempotencyKey,
    rejected_at_ms: rejected.atMs,
    lsn,
    // The trace of the request rejected (payload version 6); null for rejections recorded before it.
    trace_id: rejected.traceparent === undefined ? null : traceIdOf(rejected.traceparent),
  }
}
