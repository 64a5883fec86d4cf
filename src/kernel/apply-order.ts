/**
 * apply() for events about one existing order: the state transition (checked against the table — a forbidden one
 * here is a bug, because decide() refuses them before they are emitted), then the side effects on the order, the
 * ledger, the reservations, the in-flight slots and the lane queues.
 */

import { assert } from '../domain/assert.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import type { Order } from '../domain/orders.ts'
import { isTerminal } from '../domain/states.ts'
import { transitionOf } from './event-transition.ts'
import { addReserved, bookFill, bookTrueUp, holdSyntheticFee, holdTo, releaseTo } from './ledger.ts'
import { changePending, type PendingEvent } from './synthetic-pending.ts'
import { endCall, startCall } from './in-flight.ts'
import { syncQueues, workFor } from './queues.ts'
import { noteDueChanged } from './work-index.ts'
import { retainTerminal } from './retention.ts'
import { noteOwnQuote } from './own-quotes.ts'
import { heldFor, HOLD_RULE_SYNTHETIC, syntheticFeeAllowance, syntheticFeeKept, syntheticHeldAfter, syntheticHeldFor } from './reservations.ts'
import { transitionTarget } from './state-machine.ts'
import type { KernelState } from './state.ts'

export function applyOrderEvent(state: KernelState, order: Order, event: DomainEvent): void {
  const wasTerminal = isTerminal(order.status)
  const workBefore = workFor(order)
  const name = transitionOf(event, order)
  if (name !== null) {
    const to = transitionTarget(order.status, name)
    if (to === undefined) assert(false, `apply received forbidden transition ${name} from ${order.status} for order ${order.orderId}`)
    order.status = to
  }
  applyEffects(state, order, event, wasTerminal)
  // A bootstrap suspect is one the venue may never have received: Unknown, or Failed with that proven. Any other state
  // (a resend's Enqueued included) ends it, so a start never resends it on that mark again (bootstrap-suspects.ts).
  if (order.bootstrapSuspect && order.status !== 'Unknown' && order.status !== 'Failed') order.bootstrapSuspect = false
  // Only the transition above changes the status.
  const terminal = isTerminal(order.status)
  // An ended order that venue news brings back (Unknown: the venue may hold it live) holds its worst case again. It
  // released everything when it ended; left so, reconciliation could find it open at the venue while its cash or
  // position was free for another order. Raised without a funds check, like venue evidence of an amend: the venue's
  // order is what is at risk. (A resend has reserved again already: its worst case is held, so this adds nothing.)
  if (wasTerminal && !terminal) holdTo(state, order, heldFor(order))
  if (terminal) {
    // All but what its synthetic quantity pending a true-up keeps held (reservations.ts syntheticHeldFor).
    releaseTo(state, order, heldFor(order))
    // An amend that never left Lane2 cannot happen any more; one in flight is settled by its answer.
    if (order.amend?.stage === 'requested') order.amend = { ...order.amend, stage: 'failed' }
  }
  if (wasTerminal !== terminal) countOpen(state, order.accountId, wasTerminal ? 1 : -1)
  noteOwnQuote(state, order)
  if (order.status !== 'Unknown') order.unknownSinceMs = null
  order.updatedAtMs = event.atMs
  syncQueues(state, order, workBefore)
  retainTerminal(state, order, wasTerminal, event.atMs)
}

function applyEffects(state: KernelState, order: Order, event: DomainEvent, wasTerminal: boolean): void {
  switch (event.type) {
    case 'order.send_requested':
      startCall(state, order, 'place')
      order.sendAttempts = event.attempt
      order.lastSendAtMs = event.atMs
      return
    case 'order.cancel_send_requested':
      startCall(state, order, 'cancel')
      order.cancelAttempts = event.attempt
      return
    case 'order.amend_requested':
    case 'order.amend_send_requested':
    case 'order.amended':
    case 'order.amend_failed':
      applyAmend(state, order, event)
      return
    case 'order.call_completed':
      endCall(state, order, event.action)
      return
    case 'order.limit_loosest':
      order.limitLoosest = event.limit
      return
    case 'order.synthetic_declined':
      order.syntheticDeclinedCumQty = event.venueCumQty
      return
    case 'order.overfill_recheck':
      order.overfillCumQty = event.venueCumQty
      order.overfillRecheckMs = event.retryAtMs - event.atMs
      order.notBeforeMs = event.retryAtMs
      noteDueChanged(state, order)
      return
    case 'order.fill_covered':
      // The quantity is on the books already (a synthetic fill booked it); the real fill is only remembered as seen.
      order.execIds.add(event.execId)
      return
    case 'order.synthetic_pending':
    case 'order.fill_trued_up':
      applySyntheticPending(state, order, event)
      return
    case 'order.send_blocked':
    case 'order.send_retry':
    case 'order.reconcile_deferred':
      order.notBeforeMs = event.retryAtMs
      noteDueChanged(state, order)
      if (event.type === 'order.send_blocked') order.lastReason = event.reason
      if (event.type === 'order.send_retry' && event.action === 'amend' && order.amend !== null) order.amend = { ...order.amend, stage: 'requested' }
      return
    case 'order.send_acked':
      order.venueOrderId = event.venueOrderId
      return
    case 'order.cancel_requested':
      order.cancelWanted = true
      order.lastReason = event.reason
      return
    case 'order.canceled':
    case 'order.unknown':
      order.lastReason = event.reason
      if (event.type === 'order.unknown') order.unknownSinceMs ??= event.atMs
      return
    case 'order.fill':
      applyFill(state, order, event, wasTerminal)
      return
    case 'order.reconciled':
      // The venue's answer made sense again: an overfill seen later is a new one (alerted, rechecked from the start).
      order.overfillCumQty = null
      order.overfillRecheckMs = 0
      if (event.venueOrderId !== null) order.venueOrderId = event.venueOrderId
      order.notAtVenue = event.notAtVenue
      order.lastReason = event.reason
      return
    case 'order.suspect_marked':
    case 'order.suspect_cleared':
      order.bootstrapSuspect = event.type === 'order.suspect_marked'
      return
    case 'order.resend_requested':
      order.notAtVenue = false
      order.notBeforeMs = 0
      noteDueChanged(state, order)
      order.reservation = { asset: order.reservation.asset, total: event.reservationAmount, remaining: event.reservationAmount }
      addReserved(state, order.accountId, order.reservation.asset, event.reservationAmount)
      // The worst price of the reservation just taken; none recorded (a build before it): its fills go unchecked.
      order.worstPrice = event.worstPrice ?? null
      return
    default:
      return
  }
}

function applyFill(state: KernelState, order: Order, event: Extract<DomainEvent, { type: 'order.fill' }>, wasTerminal: boolean): void {
  if (event.cumQty !== order.cumQty + event.lastQty) assert(false, `fill cumQty must equal previous cumQty plus lastQty for ${order.orderId}`)
  if (event.cumQty > order.qty) assert(false, `fill would overfill ${order.orderId}`)
  order.execIds.add(event.execId)
  order.cumQty = event.cumQty
  if (event.synthetic && event.cumQty > order.syntheticCumQty) order.syntheticCumQty = event.cumQty
  bookFill(state, order, event)
  if (!wasTerminal) releaseTo(state, order, heldFor(order))
}

/**
 * The synthetic quantity pending a true-up grows with a synthetic fill and shrinks, repriced, with a real one. Under
 * the hold rule (reservations.ts HOLD_RULE_SYNTHETIC), a synthetic fill applied after the log adopted it keeps held
 * what its true-up will pay, its quantity counted in Order.syntheticHeldQty: a buy its share of the reservation beyond
 * the synthetic cash (syntheticHeldFor) — the synthetic fill just released it (with its order.fill, before this
 * event), and it is held again here, by what the held quantity adds, without a funds check: it was held a moment
 * before, or the venue's fill needs it — and a sell the fee allowance on its synthetic proceeds in its quote asset
 * (Order.syntheticFeeHeld). One applied before holds nothing, and a true-up of it releases nothing, as the builds
 * before decided: the true-ups take the held quantity first (reservations.ts syntheticHeldAfter).
 */
function applySyntheticPending(state: KernelState, order: Order, event: PendingEvent): void {
  const before = syntheticHeldFor(order)
  const heldQtyBefore = order.syntheticHeldQty
  const cashBefore = order.syntheticPendingCash
  changePending(order, event)
  if (event.type === 'order.synthetic_pending') {
    if ((state.holdRule ?? 0) < HOLD_RULE_SYNTHETIC) return
    Object.assign(order, syntheticHeldAfter(order, { added: { qty: event.qty, cash: order.syntheticPendingCash - cashBefore } }))
    const added = syntheticHeldFor(order) - before
    if (added > 0n) holdTo(state, order, order.reservation.remaining + added)
    if (order.side === 'sell') holdSyntheticFee(state, order, order.syntheticFeeHeld + syntheticFeeAllowance(event.qty, event.price, state.config?.params.takerFeeBps ?? 0))
    return
  }
  bookTrueUp(state, order, event)
  if (heldQtyBefore === 0n) return
  Object.assign(order, syntheticHeldAfter(order, { taken: event }))
  releaseTo(state, order, heldFor(order))
  holdSyntheticFee(state, order, syntheticFeeKept(order.syntheticFeeHeld, heldQtyBefore, order.syntheticHeldQty))
}

type AmendEvent = Extract<DomainEvent, { type: 'order.amend_requested' | 'order.amend_send_requested' | 'order.amended' | 'order.amend_failed' }>

function applyAmend(state: KernelState, order: Order, event: AmendEvent): void {
  switch (event.type) {
    case 'order.amend_requested':
      if (event.amendId !== order.amendCount + 1) assert(false, `amend ${event.amendId} of ${order.orderId} out of sequence`)
      order.amendCount = event.amendId
      order.amend = {
        amendId: event.amendId,
        clientOrderId: event.amendClientOrderId,
        qty: event.qty,
        price: event.price,
        reservationTotal: event.reservationTotal,
        stage: 'requested',
        attempts: 0,
        sentAtMs: null,
        requestedAtMs: event.atMs,
      }
      break
    case 'order.amend_send_requested': {
      if (order.amend?.amendId !== event.amendId) assert(false, `amend ${event.amendId} of ${order.orderId} is not the current one`)
      startCall(state, order, 'amend')
      order.amend = { ...order.amend, stage: 'sent', attempts: event.attempt, sentAtMs: event.atMs }
      break
    }
    case 'order.amended':
      if (event.qty <= order.cumQty) assert(false, `amend of ${order.orderId} to ${event.qty} is not above its filled ${order.cumQty}`)
      order.qty = event.qty
      order.price = event.price
      order.reservation = { ...order.reservation, total: event.reservationTotal }
      if (!order.clientIdChain.includes(event.amendClientOrderId)) order.clientIdChain = [...order.clientIdChain, event.amendClientOrderId]
      order.amend = null
      break
    case 'order.amend_failed':
      if (order.amend?.amendId === event.amendId) order.amend = { ...order.amend, stage: 'failed' }
      order.lastReason = event.reason
      break
  }
  // The order now holds its new worst case: more while an amend is pending (the request's guard checked the funds),
  // the amended order's share once applied — even if that is more than it held, as when the venue applies an amend
  // egress had given up on: the venue's order is what is at risk. A failed amend only ever releases.
  if (event.type === 'order.amend_failed') releaseTo(state, order, heldFor(order))
  else holdTo(state, order, heldFor(order))
}

export function countOpen(state: KernelState, accountId: string, delta: number): void {
  const next = (state.openOrders.get(accountId) ?? 0) + delta
  if (next < 0) assert(false, `open order count of ${accountId} would go negative`)
  if (next === 0) state.openOrders.delete(accountId)
  else state.openOrders.set(accountId, next)
}
