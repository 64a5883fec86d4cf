/**
 * The answer to `POST /v1/orders`, derived only from what the log records about the key — never from when or how
 * often it was asked. A repeat of the same request therefore gets the first answer byte for byte (status and body)
 * without storing responses: accepted → the fields fixed at acceptance (the order id, its account and key, the state
 * it entered, the acceptance time); rejected → the reason, guard and order id the kernel recorded. The current state
 * is one GET away (`links.self`), so the ACK never has to change. The one exception: an order retired from the kernel
 * state whose records were compacted out of the log — its repeat answers 409 ANSWER_NOT_RETAINED naming the order.
 */

import type { Order } from '../../domain/orders.ts'
import type { Reply } from '../../kernel/index.ts'
import type { KernelState } from '../../kernel/index.ts'
import { ApiError, reasonError } from '../errors.ts'
import type { LoggedEvent } from '../log-index.ts'

/** Acceptance is the one durable record of Draft → Validated → Enqueued (§7.1): every accepted order starts here. */
export const ACCEPTED_STATE = 'Enqueued'

/**
 * The 202 body for an accepted order (a repeat when `reply.duplicate`: the caller says so in its header), or throws the
 * ApiError for any other reply. The body alone, not wrapped with its status and repeat flag: an object fewer per order.
 */
/** What an accepted order's 202 shows: every field fixed at its acceptance. */
export type AcceptedFields = Pick<Order, 'orderId' | 'accountId' | 'idempotencyKey' | 'clientOrderId' | 'acceptedAtMs'>

/** The 202's fields from an order's intake record, when it is an acceptance (LogIndex.intakeRecord); else null. */
export function acceptedFieldsOf(intake: LoggedEvent | null): AcceptedFields | null {
  if (intake === null || intake.event.type !== 'order.accepted') return null
  const { orderId, accountId, idempotencyKey, clientOrderId, atMs } = intake.event
  return { orderId, accountId, idempotencyKey, clientOrderId, acceptedAtMs: atMs }
}

export function placeAnswer(state: KernelState, reply: Reply, retired: (orderId: string) => AcceptedFields | null = () => null): Record<string, unknown> {
  switch (reply.kind) {
    case 'accepted': {
      // A repeat of a retired order's key (src/kernel/retention.ts): the same fields, read from its acceptance record
      // alone (a repeat is admitted free: rebuilt from its whole history, each cost what the history is long).
      const order = state.orders.get(reply.orderId) ?? retired(reply.orderId)
      if (order === null) {
        // Retired and its records compacted away: still a repeat (nothing is placed), but the first answer is gone.
        throw new ApiError('ANSWER_NOT_RETAINED', `order ${reply.orderId} was accepted under this idempotency key; its first answer is no longer retained`, {
          details: { order_id: reply.orderId },
          headers: duplicateHeader(reply.duplicate),
        })
      }
      return acceptedBody(order)
    }
    case 'rejected':
      throw reasonError(reply.reason, { details: { order_id: reply.orderId, guard: reply.guard }, headers: duplicateHeader(reply.duplicate) })
    case 'conflict':
      throw reasonError('IDEMPOTENCY_CONFLICT', { details: { order_id: reply.orderId } })
    case 'refused':
      throw reasonError(reply.reason, { details: { detail: reply.detail } })
    default:
      throw new ApiError('INTERNAL', 'internal error', { cause: new Error(`unexpected place reply ${reply.kind}`) })
  }
}

function acceptedBody(order: AcceptedFields): Record<string, unknown> {
  const self = `/v1/orders/${order.orderId}`
  return {
    order_id: order.orderId,
    state: ACCEPTED_STATE,
    account: order.accountId,
    idempotency_key: order.idempotencyKey,
    client_order_id: order.clientOrderId,
    accepted_at_ms: order.acceptedAtMs,
    links: { self, events: `${self}/events`, stream: `${self}/stream`, explain: `${self}/explain` },
  }
}

function duplicateHeader(duplicate: boolean): Record<string, string> {
  return duplicate ? { 'Idempotent-Replayed': 'true' } : {}
}
