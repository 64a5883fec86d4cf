/**
 * Settling an amend from evidence. Whatever proves the venue replaced the order — the adapter's ok, a `replaced`
 * report, any report under the amend's client id (after a replace the venue knows the order by that id), a fill the
 * old quantity cannot hold, or the venue's view in reconciliation — applies it once, as `order.amended`. Whatever
 * proves it did not happen settles it as `order.amend_failed`. Both are idempotent: a second piece of evidence finds
 * the amend already settled and adds nothing.
 */

import type { Order } from '../../domain/orders.ts'
import type { ReasonCode } from '../../domain/reasons.ts'
import { anomaly, emit, type Emitter } from '../emit.ts'

export type AmendSource = 'result' | 'report' | 'reconcile'

/** The draft's amend if it is the one numbered `amendId` (any, if omitted) and has not been applied. */
export function openAmend(draft: Order, amendId?: number): NonNullable<Order['amend']> | null {
  const amend = draft.amend
  if (amend === null || (amendId !== undefined && amend.amendId !== amendId)) return null
  return amend
}

/** Applies the draft's amend. Returns whether it was applied; evidence the amend cannot satisfy is an anomaly. */
export function applyAmend(emitter: Emitter, input: { atMs: number; source: AmendSource; amendId?: number }): boolean {
  const { draft } = emitter
  const amend = openAmend(draft, input.amendId)
  if (amend === null) return false
  if (amend.qty <= draft.cumQty) {
    anomaly(emitter, { atMs: input.atMs, reason: 'TRANSITION_REFUSED', detail: `amend ${amend.amendId} to ${amend.qty} is not above the filled ${draft.cumQty}` })
    return false
  }
  return emit(emitter, {
    type: 'order.amended',
    atMs: input.atMs,
    orderId: draft.orderId,
    amendId: amend.amendId,
    amendClientOrderId: amend.clientOrderId,
    qty: amend.qty,
    price: amend.price,
    reservationTotal: amend.reservationTotal,
    source: input.source,
  })
}

/** Settles the draft's amend as not applied, if it is still requested or sent. */
export function failAmend(emitter: Emitter, input: { atMs: number; reason: ReasonCode; detail: string; amendId?: number }): void {
  const amend = openAmend(emitter.draft, input.amendId)
  if (amend === null || amend.stage === 'failed') return
  emit(emitter, { type: 'order.amend_failed', atMs: input.atMs, orderId: emitter.draft.orderId, amendId: amend.amendId, reason: input.reason, detail: input.detail })
}
