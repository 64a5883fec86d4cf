/**
 * Settling an amend from evidence. Whatever proves the venue replaced the order — the adapter's ok, a `replaced`
 * report, any report under the amend's client id (after a replace the venue knows the order by that id), a fill the
 * old quantity cannot hold, or the venue's view in reconciliation — applies it once, as `order.amended`. Whatever
 * proves it did not happen settles it as `order.amend_failed`. Both are idempotent: a second piece of evidence finds
 * the amend already settled and adds nothing.
 */

import { formatDecimal, type Units } from '../../domain/decimal.ts'
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
    const detail = `amend ${amend.amendId} to ${formatDecimal(amend.qty)} is not above the filled ${formatDecimal(draft.cumQty)}`
    anomaly(emitter, { atMs: input.atMs, reason: 'TRANSITION_REFUSED', detail })
    // Fills overtook it: no evidence can apply it any more (an order is never less than it filled), so it ends here.
    // Left sent, it stayed on the order after reconciliation ended it (Filled with an amend under way, in the order's
    // view and its explanation), as no later answer or read-back could settle it either.
    failAmend(emitter, { atMs: input.atMs, reason: 'AMEND_QTY_BELOW_FILLED', detail, amendId: amend.amendId })
    return false
  }
  const limit = loosestLimitAfter(draft, amend.price)
  const applied = emit(emitter, {
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
  // Only when the amend moves it: an amend to a tighter limit, or to the same one, leaves the loosest where it was. (The
  // build before logged it at every applied limit amend; a standby's or `redecide`'s comparison takes such a record
  // that changes nothing as absent: runtime/ha/shadow.ts.)
  if (applied && limit !== null && limit !== draft.limitLoosest) emit(emitter, { type: 'order.limit_loosest', atMs: input.atMs, orderId: draft.orderId, limit })
  return applied
}

/**
 * The loosest limit among every version the order will have had once the amend to `newPrice` applies: the versions
 * so far (the order's own limit if never amended, else the loosest kept) and the new one. Null for a market order, and
 * for an order amended before a build kept the loosest limit (its earlier limits are not known, and a guess tighter
 * than one of them would alert on fills within it).
 */
function loosestLimitAfter(draft: Order, newPrice: Units | null): Units | null {
  if (draft.price === null || newPrice === null) return null
  const sofar = draft.clientIdChain.length <= 1 ? draft.price : draft.limitLoosest === null ? null : loosest(draft, draft.limitLoosest, draft.price)
  return sofar === null ? null : loosest(draft, sofar, newPrice)
}

/** The more permissive of two limits of the order: the higher for a buy, the lower for a sell. */
export function loosest(order: Pick<Order, 'side'>, a: Units, b: Units): Units {
  if (order.side === 'buy') return a > b ? a : b
  return a < b ? a : b
}

/** Settles the draft's amend as not applied, if it is still requested or sent. */
export function failAmend(emitter: Emitter, input: { atMs: number; reason: ReasonCode; detail: string; amendId?: number }): void {
  const amend = openAmend(emitter.draft, input.amendId)
  if (amend === null || amend.stage === 'failed') return
  emit(emitter, { type: 'order.amend_failed', atMs: input.atMs, orderId: emitter.draft.orderId, amendId: amend.amendId, reason: input.reason, detail: input.detail })
}
