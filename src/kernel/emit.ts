/**
 * Emitting order events safely inside one decision. A decision may emit several events for one order (a fill, then
 * a reconcile result); each is checked against the transition table from the status the previous ones produce, using
 * a scratch copy of the order. Venue news that the table forbids is not applied: it becomes a recorded refusal, an
 * alert, and — where the table allows — a move to Unknown, so reconciliation finds out what is true (§7.3).
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Order } from '../domain/orders.ts'
import type { ReasonCode } from '../domain/reasons.ts'
import { transitionOf } from './event-transition.ts'
import { transition, transitionTarget } from './state-machine.ts'
import { changePending } from './synthetic-pending.ts'

export interface Emitter {
  /** A scratch copy of the order reflecting every event emitted so far. */
  draft: Order
  events: DomainEvent[]
}

export function emitterFor(order: Order): Emitter {
  return { draft: { ...order }, events: [] }
}

/** Emits `event` if the table allows it from the draft's status; otherwise records a refusal. Returns whether it was emitted. */
export function emit(emitter: Emitter, event: DomainEvent): boolean {
  const name = transitionOf(event, emitter.draft)
  if (name !== null) {
    // transitionTarget, not transition: no result object per event.
    const to = transitionTarget(emitter.draft.status, name)
    if (to === undefined) {
      refuse(emitter, { atMs: event.atMs, transitionName: name, detail: `${event.type} is not allowed in ${emitter.draft.status}` })
      return false
    }
    emitter.draft.status = to
  }
  trackDraft(emitter.draft, event)
  emitter.events.push(event)
  return true
}

/** Keeps the draft's fields that later checks in the same decision read in step with the emitted events. */
function trackDraft(draft: Order, event: DomainEvent): void {
  switch (event.type) {
    case 'order.fill':
      draft.cumQty = event.cumQty
      if (event.synthetic && event.cumQty > draft.syntheticCumQty) draft.syntheticCumQty = event.cumQty
      return
    case 'order.synthetic_pending':
    case 'order.fill_trued_up':
      changePending(draft, event)
      return
    case 'order.cancel_requested':
      draft.cancelWanted = true
      return
    case 'order.amended':
      draft.qty = event.qty
      draft.price = event.price
      draft.clientIdChain = draft.clientIdChain.includes(event.amendClientOrderId) ? draft.clientIdChain : [...draft.clientIdChain, event.amendClientOrderId]
      draft.amend = null
      return
    case 'order.amend_failed':
      if (draft.amend?.amendId === event.amendId) draft.amend = { ...draft.amend, stage: 'failed' }
      return
    case 'order.limit_loosest':
      draft.limitLoosest = event.limit
      return
    case 'order.synthetic_declined':
      draft.syntheticDeclinedCumQty = event.venueCumQty
      return
    default:
      return
  }
}

export function refuse(emitter: Emitter, refusal: { atMs: number; transitionName: string; detail: string }): void {
  const { draft } = emitter
  emitter.events.push({
    type: 'order.transition_refused',
    atMs: refusal.atMs,
    orderId: draft.orderId,
    from: draft.status,
    transition: refusal.transitionName,
    detail: refusal.detail,
  })
  anomaly(emitter, { atMs: refusal.atMs, reason: 'TRANSITION_REFUSED', detail: refusal.detail })
}

/** Raises an alert and moves the order to Unknown where the table allows (it does from every state a venue can touch). */
export function anomaly(emitter: Emitter, input: { atMs: number; reason: ReasonCode; detail: string }): void {
  const { draft } = emitter
  emitter.events.push({ type: 'alert.raised', atMs: input.atMs, reason: input.reason, orderId: draft.orderId, detail: input.detail })
  // An order never sent cannot be at the venue: news naming it is about something else and moves nothing (a report
  // naming it is an orphan before it gets here: inbox.ts mismatchOf).
  if (draft.status === 'Unknown' || (draft.status === 'Enqueued' && draft.sendAttempts === 0)) return
  const result = transition(draft.status, 'unknown')
  if (!result.ok) return
  draft.status = result.to
  emitter.events.push({ type: 'order.unknown', atMs: input.atMs, orderId: draft.orderId, reason: input.reason, detail: input.detail })
}
