/**
 * apply(state, event, meta) → state: the only way kernel state changes. Deterministic: the same events in the same
 * order give the same state, bit for bit (see canonical-state.ts). `apply` returns a new state and leaves its input
 * untouched; `applyInPlace` updates the caller's instance and is what the runtime uses on its hot path. Both run the
 * same code.
 */

import { assert } from '../domain/assert.ts'
import type { DomainEvent, EventOf } from '../domain/events/index.ts'
import { isVenueClientOrderIdOf, type Order } from '../domain/orders.ts'
import { reasonInfo } from '../domain/reasons.ts'
import { SmallSet } from '../domain/small-set.ts'
import { applyOrderEvent, countOpen } from './apply-order.ts'
import { addBalance, addReserved } from './ledger.ts'
import { syncQueues } from './queues.ts'
import { cloneState, idempotencyIndexKey, type KernelState } from './state.ts'
import { applyRevocation } from './revocations.ts'
import { applyOrderListEvent, noteLegEvent } from './order-lists/index.ts'
import { applyVenueHealth } from './venue-health.ts'
import { noteOwnQuote } from './own-quotes.ts'
import { adoptKeyWindow, forgetAgedAt, keysAtCap, takeKey } from './key-window.ts'
import { dropHeldEnded } from './synthetic-held-ended.ts'
import { holdFlatten } from './flatten-held.ts'
import { applyAccountSwitch } from './account-switch.ts'

export interface ApplyMeta {
  /** The event's log sequence number; strictly increasing. */
  lsn: number
}

export function apply(state: KernelState, event: DomainEvent, meta: ApplyMeta): KernelState {
  const next = cloneState(state)
  applyInPlace(next, event, meta)
  return next
}

export function applyInPlace(state: KernelState, event: DomainEvent, meta: ApplyMeta): void {
  if (!(meta.lsn > state.lastLsn)) assert(false, `events must be applied in LSN order: ${meta.lsn} after ${state.lastLsn}`)
  state.lastLsn = meta.lsn
  state.counters.eventsApplied += 1
  switch (event.type) {
    case 'kernel.configured':
      adoptKeyWindow(state, event.config, event.atMs)
      state.config = event.config
      state.instruments = new Map(event.config.instruments.map((item) => [`${item.venue}:${item.symbol}`, item]))
      state.policies = new Map(event.config.policies.map((policy) => [policy.accountId, policy]))
      return
    case 'kernel.retire_rule_adopted':
      state.retireRule = event.rule
      return
    case 'kernel.hold_rule_adopted':
      state.holdRule = event.rule
      // The ended orders holding for synthetic quantity are indexed again from the state under the rule adopted.
      dropHeldEnded(state.terminalOrderIds)
      return
    case 'mode.changed':
      state.mode = event.mode
      return
    case 'switch.changed':
      state.tradingSwitch = event.switch
      return
    case 'account.switch_changed':
      applyAccountSwitch(state, event)
      return
    case 'venue.health_changed':
    case 'venue.override_proposed':
    case 'venue.override_approved':
    case 'venue.override_revoked':
    case 'venue.override_lapsed':
      applyVenueHealth(state, event, meta.lsn)
      return
    case 'auth.token_revoked':
    case 'auth.subject_revoked':
      applyRevocation(state, event, meta.lsn)
      return
    case 'order_list.accepted':
    case 'order_list.triggered':
      applyOrderListEvent(state, event)
      return
    case 'account.funded':
      addBalance(state, event.accountId, event.asset, event.amount)
      return
    case 'account.flatten_requested':
      holdFlatten(state, event, meta.lsn)
      return
    case 'order.amend_rejected':
    case 'order.resend_refused':
      // Recorded for audit and explanation; a refused request changes nothing.
      return
    case 'order.accepted':
      applyAccepted(state, event)
      return
    case 'order.rejected':
      applyRejected(state, event)
      return
    case 'inbox.report_accepted':
      if (event.orderId !== null) state.orders.get(event.orderId)?.execIds.add(event.report.execId)
      return
    case 'inbox.duplicate_dropped':
      state.counters.duplicateReportsDropped += 1
      return
    case 'alert.raised':
      state.counters.alertsRaised += 1
      return
    case 'order.transition_refused':
      state.counters.transitionsRefused += 1
      return
    default:
      applyToOrder(state, event)
  }
}

type OrderScopedEvent = Exclude<
  DomainEvent,
  EventOf<
    | 'kernel.configured'
    | 'kernel.retire_rule_adopted'
    | 'kernel.hold_rule_adopted'
    | 'mode.changed'
    | 'switch.changed'
    | 'account.switch_changed'
    | 'venue.health_changed'
    | 'venue.override_proposed'
    | 'venue.override_approved'
    | 'venue.override_revoked'
    | 'venue.override_lapsed'
    | 'auth.token_revoked'
    | 'auth.subject_revoked'
    | 'order_list.accepted'
    | 'order_list.triggered'
    | 'account.funded'
    | 'account.flatten_requested'
    | 'order.accepted'
    | 'order.rejected'
    | 'order.amend_rejected'
    | 'order.resend_refused'
    | 'inbox.report_accepted'
    | 'inbox.duplicate_dropped'
    | 'alert.raised'
    | 'order.transition_refused'
  >
>

function applyToOrder(state: KernelState, event: OrderScopedEvent): void {
  const order = state.orders.get(event.orderId)
  if (order === undefined) assert(false, `event ${event.type} for unknown order ${event.orderId}`)
  applyOrderEvent(state, order, event)
  if (state.orderLists.byLeg.size > 0) noteLegEvent(state, event.orderId, event.atMs)
}

function applyAccepted(state: KernelState, event: EventOf<'order.accepted'>): void {
  if (state.orders.has(event.orderId)) assert(false, `order ${event.orderId} accepted twice`)
  const order: Order = {
    orderId: event.orderId,
    accountId: event.accountId,
    idempotencyKey: event.idempotencyKey,
    clientOrderId: event.clientOrderId,
    venue: event.venue,
    symbol: event.symbol,
    baseAsset: event.baseAsset,
    quoteAsset: event.quoteAsset,
    side: event.side,
    type: event.orderType,
    qty: event.qty,
    price: event.price,
    protectionPrice: event.protectionPrice ?? null,
    worstPrice: event.worstPrice ?? null,
    tif: event.tif,
    postOnly: event.postOnly,
    reduceOnly: event.reduceOnly,
    lane: event.lane,
    venueClientOrderId: event.venueClientOrderId,
    // Draft → Validated → Enqueued happen together: acceptance is the one durable record of all three (§7.1).
    status: 'Enqueued',
    cumQty: 0n,
    cumNotional: 0n,
    cumNotionalRemainder: 0n,
    reservation: { asset: event.reservationAsset, total: event.reservationAmount, remaining: event.reservationAmount },
    venueOrderId: null,
    sendAttempts: 0,
    lastSendAtMs: null,
    cancelWanted: false,
    cancelAttempts: 0,
    notAtVenue: false,
    notBeforeMs: 0,
    execIds: new SmallSet(),
    acceptedAtMs: event.atMs,
    expiresAtMs: event.ttlMs === undefined ? null : event.atMs + event.ttlMs,
    updatedAtMs: event.atMs,
    unknownSinceMs: null,
    lastReason: null,
    flattenId: event.flattenId,
    clientIdChain: [event.venueClientOrderId],
    amendCount: 0,
    amend: null,
    limitLoosest: null,
    syntheticDeclinedCumQty: null,
    syntheticCumQty: 0n,
    syntheticPendingQty: 0n,
    syntheticPendingCash: 0n,
    syntheticPendingNotional: 0n,
    syntheticHeldQty: 0n,
    syntheticHeldCash: 0n,
    syntheticFeeHeld: 0n,
    overfillCumQty: null,
    overfillRecheckMs: 0,
    bootstrapSuspect: false,
  }
  assert(isVenueClientOrderIdOf(order.venueClientOrderId, order.orderId), 'venue client order id must derive from the order id')
  state.orders.set(order.orderId, order)
  countOpen(state, order.accountId, 1)
  noteOwnQuote(state, order)
  addReserved(state, order.accountId, order.reservation.asset, order.reservation.total)
  takeKey(state, idempotencyIndexKey(order.accountId, order.idempotencyKey), {
    bodyDigest: event.bodyDigest,
    orderId: order.orderId,
    outcome: 'accepted',
    reason: null,
    guard: null,
    decidedAtMs: event.atMs,
  })
  // A new order: no queue holds it yet.
  syncQueues(state, order, null)
}

/**
 * A definite rejection is remembered under its key; a retryable one (overload, stale data) is not, so a retry with the
 * same key is evaluated afresh (and the key window still moves: key-window.ts). Nor is a definite one while the index is
 * at its cap (a rejection's repeat is then decided afresh too): the cap bounds what rejections hold as well (review: they
 * grew the index past it while valid orders were refused).
 */
function applyRejected(state: KernelState, event: EventOf<'order.rejected'>): void {
  if (event.accountId === null || event.idempotencyKey === null || reasonInfo(event.reason).errorClass === 'retryable' || keysAtCap(state)) {
    forgetAgedAt(state, event.atMs)
    return
  }
  const key = idempotencyIndexKey(event.accountId, event.idempotencyKey)
  if (state.idempotency.has(key)) return
  takeKey(state, key, { bodyDigest: event.bodyDigest, orderId: event.orderId, outcome: 'rejected', reason: event.reason, guard: event.guard, decidedAtMs: event.atMs })
}
