/**
 * Finding an order for a caller: accepted orders are in the kernel state, or — once retired from it — rebuilt from
 * their records in the log; orders the kernel rejected exist only as their `order.rejected` record in the log (found
 * through the log index; the latest, for a key rejected more than once). An order the caller may not read answers
 * 404 exactly like one that does not exist, so order ids cannot be probed across accounts.
 */

import type { Order } from '../../domain/orders.ts'
import { traceIdOf } from '../../domain/trace-context.ts'
import { canRead, canReadAudit, type Principal } from '../auth/index.ts'
import { ApiError } from '../errors.ts'
import type { Services } from '../services.ts'
import { orderView } from '../views/order-view.ts'
import { rebuildRetiredOrder } from '../retired-order.ts'

export interface FoundOrder {
  orderId: string
  accountId: string | null
  order: Order | null
  view: Record<string, unknown>
}

export function findOrder(services: Services, principal: Principal, orderId: string): FoundOrder {
  const readable = (accountId: string | null): boolean => (accountId === null ? canReadAudit(principal) : canRead(principal, accountId))
  const found = lookup(services, orderId, readable)
  if (found === null) throw new ApiError('NOT_FOUND', `no order ${orderId}`, { details: { order_id: orderId } })
  return found
}

/**
 * The order if the caller may read it, else null. Whether it may is decided before any of the order's history is read:
 * a retired order was rebuilt from every record it has before its account was looked at, so another account's order
 * answered its 404 later than an unknown id, by as much as its history is long — and order ids are computable from an
 * account and a key, so the delay told a stranger which keys another account had used, and roughly how busy they were.
 */
function lookup(services: Services, orderId: string, readable: (accountId: string | null) => boolean): FoundOrder | null {
  const order = services.gateway.engine.state.orders.get(orderId)
  if (order !== undefined) {
    if (readable(order.accountId)) return { orderId, accountId: order.accountId, order, view: { ...orderView(order) } }
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
  if (intake.event.type === 'order.accepted') {
    // Retired from the hot state (terminal, beyond the kernel's bound): rebuilt from its records in the log.
    const retired = rebuildRetiredOrder(services.gateway.engine.state, orderId, services.logIndex.events(orderId))
    return retired === null ? null : { orderId, accountId: retired.accountId, order: retired, view: { ...orderView(retired) } }
  }
  const rejected = intake.event
  return {
    orderId,
    accountId: rejected.accountId,
    order: null,
    view: {
      order_id: orderId,
      account: rejected.accountId,
      state: 'Rejected',
      reason: rejected.reason,
      guard: rejected.guard,
      idempotency_key: rejected.idempotencyKey,
      rejected_at_ms: rejected.atMs,
      lsn: intake.lsn,
      // The trace of the request rejected (payload version 6); null for rejections recorded before it.
      trace_id: rejected.traceparent === undefined ? null : traceIdOf(rejected.traceparent),
    },
  }
}
