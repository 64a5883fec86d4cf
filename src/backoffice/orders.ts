/**
 * The back office's own view of each order: enough to attribute fills and to know what every order holds in
 * reserve. It is a second, independent implementation of the reservation rules of DESIGN §5 (the kernel's is in
 * src/kernel/reservations.ts and ledger.ts); the two are reconciled against each other, so a bug in either shows up
 * as a break instead of hiding in the only copy.
 *
 * Rules: an accepted order holds its reservation; a fill lowers the hold to the unfilled share (never raises it); an
 * amend holds the larger worst case while it is pending and the amended order's share once applied; a terminal order
 * holds nothing but what a buy's synthetic quantity pending a true-up keeps held (syntheticHeld), until the true-ups
 * take it or the order is retired (retention.ts); an Unknown order keeps what it held (the worst case: it may still be open at the venue), and one that
 * venue news brings back from an end to Unknown holds its worst case again; a resend holds afresh.
 */

import { assert } from '../domain/assert.ts'
import { mulUnits, type Units } from '../domain/decimal.ts'
import type { DomainEvent, EventOf } from '../domain/events/index.ts'
import type { Side } from '../domain/orders.ts'
import { isTerminal, type OrderState } from '../domain/states.ts'
import type { CoveredFill } from './covered-fills.ts'
import type { EndedAs, RenamedReport } from './venue-facts.ts'
import type { VenueRange } from './venue-ranges.ts'

export interface TrackedAmend {
  amendId: number
  qty: Units
  reservationTotal: Units
  stage: 'requested' | 'sent' | 'failed'
}

/**
 * An order as the ledger holds it, for as long as the kernel may still book for it (retention.ts): up to an hour's
 * orders, so it is kept small. Every held order is one object a full collection marks, with nothing of its own beside
 * it but its reservation's amount, and its members fit the engine's 160-byte cell: the 18 every order has are set when
 * it is tracked (tracked-order-layout.ts: trackAccepted, copyTrackedOrder), in one order, so every held order has the same layout —
 * `venueAcceptedAtMs` among them (added later, it took an out-of-line block per order). What few orders have is absent
 * until it occurs (RARE_MEMBERS): applied amends' client ids, a bootstrap mark, the rarer venue facts; only such an
 * order takes a block for it. The snapshot section writes an order as builds before held it (section-orders.ts), so
 * this layout may change without its bytes.
 */
export interface TrackedOrder {
  orderId: string
  /** The LSN of its acceptance: its fills are after it (the reconcile's trades check reads fills from there). */
  acceptedLsn: number
  accountId: string
  venue: string
  symbol: string
  baseAsset: string
  quoteAsset: string
  side: Side
  qty: Units
  cumQty: Units
  status: OrderState
  /** Its own client id: what the venue knows it by until an amend is applied (knowsClientId). */
  clientId: string
  reservationAsset: string
  reservationTotal: Units
  /** What the order holds now. */
  held: Units
  amend: TrackedAmend | null
  /**
   * The atMs of its last event, as the kernel's Order.updatedAtMs: an order with an event at the instant being applied
   * is not retired by it (retention.ts), as the kernel does not retire it (retirement rule 2, src/kernel/retention.ts).
   */
  updatedAtMs: number
  /** The venue time of its `new` report (venue-facts.ts); undefined while none was seen. */
  venueAcceptedAtMs?: number | undefined
  /** Each applied amend's client id, in order; absent while none was applied. Replaced, never changed in place. */
  amendClientIds?: readonly string[]
  /**
   * A bootstrap suspect (src/kernel/bootstrap-suspects.ts): a start may resend it, so the kernel never retires it and
   * neither does the ledger (retention.ts). Kept as the kernel keeps it: only on an Unknown or Failed order. Absent on
   * an order never marked.
   */
  bootstrapSuspect?: boolean
  /** Its venue fills a synthetic fill had already booked, in whole or in part (covered-fills.ts); absent while none. */
  coveredFills?: readonly CoveredFill[]
  /** Its fill and `replaced` reports under an amend's id (venue-facts.ts); absent while none. */
  renamedReports?: readonly RenamedReport[]
  /** How it had ended, while it is Unknown after an end (venue-facts.ts); absent otherwise. */
  endedAs?: EndedAs
  /**
   * The synthetic quantity pending its true-up that holds for it, and the cash its synthetic fills booked for it
   * (rounded up), as the kernel's Order.syntheticHeldQty and …Cash: that of the synthetic fills applied after the log
   * adopted the hold rule (LedgerState.holdRule; `order.synthetic_pending` adds, `order.fill_trued_up` takes, held
   * quantity first): what a buy keeps held for them (syntheticHeld). Absent while none is.
   */
  syntheticPendingQty?: Units
  syntheticPendingCash?: Units
  /** What a sell holds in its quote asset for the fee of that quantity (synthetic-fee-hold.ts); absent while none. */
  syntheticFeeHeld?: Units
  /** The venue cumulative ranges its fills booked (venue-ranges.ts); absent while they are (0, cumQty]. Replaced, never changed in place. */
  venueRanges?: readonly VenueRange[]
  /** Those its last synthetic fill booked, until its `order.synthetic_pending` (venue-ranges.ts); absent while (cumQty − qty, cumQty]. */
  syntheticRanges?: readonly VenueRange[]
}

/**
 * What all orders hold, per account and asset (the ledger's `reserved`): moved by every change of an order's hold, so
 * the totals stay in step. A map rather than a listener: a callback over the ledger state was a closure per event.
 */
export type ReservedHolds = Map<string, Map<string, Units>>

/** Moves what `accountId` holds of `asset` by `delta` (an entry at zero leaves the map). */
export function addReserved(reserved: ReservedHolds, accountId: string, asset: string, delta: Units): void {
  const assets = heldAssetsOf(reserved, accountId)
  putReserved(assets, accountId, asset, (assets.get(asset) ?? 0n) + delta)
}

/**
 * Takes `amount` off what `accountId` holds of `asset`: addReserved of −amount in one subtraction, where negating it
 * first made one more BigInt (every order's end releases its hold).
 */
function releaseReserved(reserved: ReservedHolds, accountId: string, asset: string, amount: Units): void {
  const assets = heldAssetsOf(reserved, accountId)
  putReserved(assets, accountId, asset, (assets.get(asset) ?? 0n) - amount)
}

function heldAssetsOf(reserved: ReservedHolds, accountId: string): Map<string, Units> {
  let assets = reserved.get(accountId)
  if (assets === undefined) {
    assets = new Map()
    reserved.set(accountId, assets)
  }
  return assets
}

function putReserved(assets: Map<string, Units>, accountId: string, asset: string, next: Units): void {
  if (next < 0n) assert(false, `ledger: reservation of ${accountId}/${asset} would go negative`)
  if (next === 0n) assets.delete(asset)
  else assets.set(asset, next)
}

/** Whether the venue may know `order` by `clientOrderId`: its own client id or an applied amend's. */
export function knowsClientId(order: TrackedOrder, clientOrderId: string): boolean {
  return order.clientId === clientOrderId || (order.amendClientIds !== undefined && order.amendClientIds.includes(clientOrderId))
}

/** Every client id the venue may know the order by: its own, then each applied amend's (as a section lists them). */
export function clientIdsOf(order: TrackedOrder): string[] {
  return order.amendClientIds === undefined ? [order.clientId] : [order.clientId, ...order.amendClientIds]
}

/** Applies an order-scoped event to the tracked order: its status, quantities, amend and hold. */
export function applyOrderEvent(order: TrackedOrder, event: DomainEvent, reserved: ReservedHolds): void {
  const wasTerminal = isTerminal(order.status)
  switch (event.type) {
    case 'order.fill':
      if (event.cumQty !== order.cumQty + event.lastQty) assert(false, `back office: fill ${event.execId} of ${order.orderId} is not cumulative`)
      order.cumQty = event.cumQty
      order.status = statusAfterFill(order)
      if (!wasTerminal) lowerTo(order, heldFor(order), reserved)
      break
    case 'order.resend_requested':
      order.status = 'Enqueued'
      order.reservationTotal = event.reservationAmount
      setHeld(order, event.reservationAmount, reserved)
      break
    case 'order.amend_requested':
    case 'order.amend_send_requested':
    case 'order.amended':
    case 'order.amend_failed':
      applyAmend(order, event, reserved)
      break
    case 'order.synthetic_pending':
      addSyntheticPending(order, event, reserved)
      break
    case 'order.suspect_marked':
    case 'order.suspect_cleared':
      // Only a marked order holds the member (see TrackedOrder): a clear of one never marked adds none.
      if (event.type === 'order.suspect_marked') order.bootstrapSuspect = true
      else if (order.bootstrapSuspect === true) order.bootstrapSuspect = false
      break
    default:
      order.status = statusAfter(order.status, event)
      if (event.type === 'order.send_retry' && event.action === 'amend' && order.amend !== null) order.amend = { ...order.amend, stage: 'requested' }
  }
  // As the kernel's apply (apply-order.ts): a resend or any venue evidence that the order existed ends the mark.
  if (order.bootstrapSuspect && order.status !== 'Unknown' && order.status !== 'Failed') order.bootstrapSuspect = false
  // Brought back from an end (venue news contradicting it): it may be live at the venue again (a resend set it already).
  if (wasTerminal && !isTerminal(order.status)) setHeld(order, heldFor(order), reserved)
  if (isTerminal(order.status)) {
    lowerTo(order, heldFor(order), reserved)
    if (order.amend?.stage === 'requested') order.amend = { ...order.amend, stage: 'failed' }
  }
}

/**
 * What the order must hold now: what its synthetic quantity pending a true-up keeps held (syntheticHeld) and, unless
 * terminal, its unfilled share, or a pending amend's if larger.
 */
export function heldFor(order: TrackedOrder): Units {
  const synthetic = syntheticHeld(order)
  if (isTerminal(order.status)) return synthetic
  const filled = order.cumQty < order.qty ? order.cumQty : order.qty
  const own = unfilledShare(order.reservationTotal, order.qty, filled)
  const amend = order.amend
  if (amend === null || amend.stage === 'failed' || order.cumQty >= amend.qty) return own + synthetic
  const pending = unfilledShare(amend.reservationTotal, amend.qty, order.cumQty)
  return (pending > own ? pending : own) + synthetic
}

/**
 * What a buy keeps held for its synthetic quantity pending a true-up: its reservation's share for that quantity less
 * the cash the synthetic fills paid — the real fee and any cash above the synthetic fill's, which the true-up pays.
 */
function syntheticHeld(order: TrackedOrder): Units {
  const pendingQty = order.syntheticPendingQty
  if (pendingQty === undefined || order.side !== 'buy') return 0n
  const filled = order.cumQty < order.qty ? order.cumQty : order.qty
  const share = unfilledShare(order.reservationTotal, order.qty, filled > pendingQty ? filled - pendingQty : 0n) - unfilledShare(order.reservationTotal, order.qty, filled)
  const cash = order.syntheticPendingCash ?? 0n
  return share > cash ? share - cash : 0n
}

/**
 * A synthetic fill just booked (a buy's order.fill released its share): what the pending quantity adds to a buy's hold
 * is held again. A sell's fee allowance is held by the ledger beside (synthetic-fee-hold.ts).
 */
function addSyntheticPending(order: TrackedOrder, event: EventOf<'order.synthetic_pending'>, reserved: ReservedHolds): void {
  const before = syntheticHeld(order)
  order.syntheticPendingQty = (order.syntheticPendingQty ?? 0n) + event.qty
  order.syntheticPendingCash = (order.syntheticPendingCash ?? 0n) + mulUnits(event.qty, event.price, 'up')
  const added = syntheticHeld(order) - before
  if (added > 0n) setHeld(order, order.held + added, reserved)
}

/**
 * A true-up took `qty` of the synthetic quantity pending, which the synthetic fills had booked `syntheticCash` for:
 * the held quantity first, as the kernel's (src/kernel/reservations.ts syntheticHeldAfter), the hold lowered to what
 * the rest keeps. Quantity never kept (applied before the hold rule, or a section written before it was kept) is none
 * to take.
 */
export function takeSyntheticPending(order: TrackedOrder, event: EventOf<'order.fill_trued_up'>, reserved: ReservedHolds): void {
  const pendingQty = order.syntheticPendingQty
  if (pendingQty === undefined) return
  const cash = order.syntheticPendingCash ?? 0n
  if (event.qty >= pendingQty) {
    delete order.syntheticPendingQty
    delete order.syntheticPendingCash
  } else {
    order.syntheticPendingQty = pendingQty - event.qty
    order.syntheticPendingCash = event.syntheticCash < cash ? cash - event.syntheticCash : 0n
  }
  lowerTo(order, heldFor(order), reserved)
}

/** An order retired (retention.ts) releases what it still holds: a true-up of it is never booked. */
export function releaseHeld(order: TrackedOrder, reserved: ReservedHolds): void {
  lowerTo(order, 0n, reserved)
}

function unfilledShare(total: Units, qty: Units, filled: Units): Units {
  if (!(qty > 0n && filled >= 0n && filled <= qty)) assert(false, `back office: filled ${filled} outside 0..${qty}`)
  // Rounded up: a reservation never holds less than the exact share.
  return (total * (qty - filled) + qty - 1n) / qty
}

function statusAfterFill(order: TrackedOrder): OrderState {
  if (order.cumQty === order.qty) return 'Filled'
  // A late fill after a confirmed cancel or expiry moves money but leaves the order done.
  if (order.status === 'Canceled' || order.status === 'Expired') return order.status
  if (order.status === 'CancelRequested' || order.status === 'CancelPending') return order.status
  return 'Partial'
}

/** Status changes that matter to the back office: which orders are live, which are done. */
function statusAfter(status: OrderState, event: DomainEvent): OrderState {
  switch (event.type) {
    case 'order.send_requested':
      return 'Sent'
    case 'order.send_blocked':
      // A place sent before went Unknown just before its block (kernel/send.ts): only a waiting one is rejected.
      return event.action === 'place' && status === 'Enqueued' ? 'Rejected' : status
    case 'order.send_retry':
      if (event.action === 'place') return 'Enqueued'
      return event.action === 'cancel' ? 'CancelRequested' : status
    case 'order.send_acked':
      return status === 'Sent' || status === 'Unknown' ? 'AckedOpen' : status
    case 'order.venue_rejected':
      return 'Rejected'
    case 'order.cancel_requested':
      return status === 'Sent' || status === 'AckedOpen' || status === 'Partial' ? 'CancelRequested' : status
    case 'order.cancel_send_requested':
      return 'CancelPending'
    case 'order.canceled':
      return 'Canceled'
    case 'order.expired':
      return 'Expired'
    case 'order.unknown':
      return 'Unknown'
    case 'order.reconciled':
      return event.to
    default:
      return status
  }
}

type AmendEvent = EventOf<'order.amend_requested' | 'order.amend_send_requested' | 'order.amended' | 'order.amend_failed'>

function applyAmend(order: TrackedOrder, event: AmendEvent, reserved: ReservedHolds): void {
  switch (event.type) {
    case 'order.amend_requested':
      order.amend = { amendId: event.amendId, qty: event.qty, reservationTotal: event.reservationTotal, stage: 'requested' }
      break
    case 'order.amend_send_requested':
      if (order.amend !== null) order.amend = { ...order.amend, stage: 'sent' }
      break
    case 'order.amended':
      order.qty = event.qty
      order.reservationTotal = event.reservationTotal
      if (!knowsClientId(order, event.amendClientOrderId)) order.amendClientIds = [...(order.amendClientIds ?? []), event.amendClientOrderId]
      order.amend = null
      break
    case 'order.amend_failed':
      if (order.amend?.amendId === event.amendId) order.amend = { ...order.amend, stage: 'failed' }
      lowerTo(order, heldFor(order), reserved)
      return
  }
  setHeld(order, heldFor(order), reserved)
}

function lowerTo(order: TrackedOrder, target: Units, reserved: ReservedHolds): void {
  if (target < order.held) setHeld(order, target, reserved)
}

function setHeld(order: TrackedOrder, target: Units, reserved: ReservedHolds): void {
  if (target < 0n) assert(false, `back office: hold of ${order.orderId} would go negative`)
  if (target === order.held) return
  if (target === 0n) releaseReserved(reserved, order.accountId, order.reservationAsset, order.held)
  else addReserved(reserved, order.accountId, order.reservationAsset, target - order.held)
  order.held = target
}
