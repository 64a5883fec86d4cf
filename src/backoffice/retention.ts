/**
 * Bounded back office: the ledger's ended orders leave it, as the kernel's leave the kernel (src/kernel/retention.ts),
 * so neither ledger (the live one nor the replay) grows with every order ever placed, and reconcile walks a bounded
 * set. What an order moved stays: its postings are in the books and the query model, its fills in the query model,
 * its effect on positions in the positions. Only the per-order tracking (status, hold, client ids, and its synthetic
 * quantity still pending a true-up: synthetic-lots.ts) goes.
 *
 * The rule is a pure function of the events, like the kernel's, so the live ledger and the replay (and a restored
 * snapshot section) hold the same orders: every order the back office sees end joins `state.endedOrders` with the atMs
 * of the event that ended it; once more than `keptMax` are held, the oldest that ended at least `graceMs` before the
 * event being applied leave `state.orders`, never the order that event is about. Both come from the recorded `kernel.configured` event — the kernel's
 * terminalOrdersKeptMax, and its terminalOrderRetireAfterMs plus RETIRE_MARGIN_MS, and beyond the kernel's cap
 * (terminalOrdersHeldMax) plus HELD_MARGIN_ORDERS the oldest leave even within the grace; a ledger that has not seen one (a
 * log whose start was compacted, with no snapshot section) retires nothing — so the back office keeps an ended
 * order at least as long as the kernel does: the kernel books a late fill (one that raced a cancel) only while it holds
 * the order, and the ledger must still hold it then. The margin covers a venue call still in flight about it; the
 * other way the kernel keeps an order past its own rule, a bootstrap suspect awaiting a start's resend (for as long as
 * the process stays down), the ledger follows: it never retires an order while it is marked
 * (TrackedOrder.bootstrapSuspect). Should a fill still arrive for an order the ledger retired, it is counted
 * (`counters.unbookedFills`) rather than booked or thrown: the kernel booked it, so ledger_vs_kernel shows the
 * difference as a break, where an operator sees it.
 *
 * Under hold rule 2 (src/kernel/reservations.ts HOLD_RULE_GRACE; `holdRule`) an ended order holding for synthetic
 * quantity pending a true-up (TrackedOrder.syntheticPendingQty, as the kernel's Order.syntheticHeldQty) also leaves
 * once it ended at least the grace (the kernel's plus the margin) ago, however few orders ended, as the kernel's does
 * (src/kernel/retention.ts), with the same exceptions; looked at through their own index
 * (src/kernel/synthetic-held-ended.ts), never by walking every ended order.
 *
 * `retiredThroughAtMs` is the latest end time among the orders retired: the reconcile's trades check compares a venue
 * trade that matches no held order only if it is later (venue-trades.ts), since one of a retired order has no order
 * left to match.
 */

import { addEnded, entryEndedAtMs, oldestEnded, removeEnded, retireEnded } from '../kernel/ended-order-list.ts'
import { HOLD_RULE_GRACE } from '../kernel/reservations.ts'
import { forgetHeldEnded, heldEndedThrough, noteHeldEnded } from '../kernel/synthetic-held-ended.ts'
import type { KernelParams } from '../domain/kernel-config.ts'
import { isTerminal } from '../domain/states.ts'
import { noteEndedFill, noteOrderStatus, noteRetired } from './held-order-index.ts'
import { releaseHeld, type ReservedHolds, type TrackedOrder } from './orders.ts'
import { dropSyntheticLot, positionKey, type Position } from './positions.ts'
import { releaseSyntheticFee } from './synthetic-fee-hold.ts'

/** How much longer than the kernel the back office keeps an ended order (see the module comment). */
export const RETIRE_MARGIN_MS = 60_000

/**
 * How many more ended orders than the kernel's cap (terminalOrdersHeldMax) the back office holds before its own cap
 * retires the oldest, grace or not. The kernel's cap skips a busy order (a venue call in flight: at most serve's
 * callsInFlightMax, 512, plus the cancels of Lane0; work queued) and keeps it beyond the cap, which the ledger cannot
 * see; this margin is the room for those. What it bounds is how long such an order may stay busy, not how many are:
 * the ledger retires a busy order once cap + this many orders have ended after it (at the minimum cap of 1,000 and
 * 5,000 orders/s, ~2.2 s; at the default cap, minutes), and a fill the kernel then books for it shows as a
 * ledger_vs_kernel break (`counters.unbookedFills`), as after the grace's margin. 10,000 ledger entries are ~4 MB.
 */
export const HELD_MARGIN_ORDERS = 10_000

export interface LedgerRetention {
  keptMax: number
  graceMs: number
  /**
   * The cap beyond which the oldest ended orders leave, grace or not: the kernel's terminalOrdersHeldMax plus
   * HELD_MARGIN_ORDERS; null for a kernel.configured record without a cap (and a snapshot section written before it).
   */
  heldMax: number | null
}

/**
 * The retention that follows the kernel's; null (keep every order) for a kernel.configured record from before the
 * kernel's grace existed: that kernel stopped retiring at the first busy order and held every one behind it for as
 * long as it stayed busy, which no bound in event time can follow.
 */
export function ledgerRetentionOf(params: KernelParams): LedgerRetention | null {
  if (params.terminalOrderRetireAfterMs === null) return null
  const heldMax = params.terminalOrdersHeldMax === undefined ? null : params.terminalOrdersHeldMax + HELD_MARGIN_ORDERS
  return { keptMax: params.terminalOrdersKeptMax, graceMs: params.terminalOrderRetireAfterMs + RETIRE_MARGIN_MS, heldMax }
}

/** What retention reads and changes in the ledger state. */
export interface RetainedOrders {
  orders: Map<string, TrackedOrder>
  /** Positions: a retired order's synthetic lot leaves its position (a true-up of it would not be booked). */
  positions: Map<string, Position>
  /** Ended orders still held, in the order they ended: order id → atMs of the event that ended it. */
  endedOrders: Map<string, number>
  /** Null until a `kernel.configured` record says how long the kernel keeps orders: until then nothing is retired. */
  retention: LedgerRetention | null
  retiredThroughAtMs: number
  counters: { retiredOrders: number }
  /** What orders hold: a retired order's hold (its synthetic quantity pending a true-up) is released. */
  reserved: ReservedHolds
  /** The hold rule the log adopted (LedgerState.holdRule): from rule 2 on, a synthetic hold retires after the grace. */
  holdRule: number | null
}

/**
 * After an order event (atMs: the event's): notes an order that ended or reopened (in `endedOrders` and in the
 * reconcile's held-order index, held-order-index.ts, as that index notes an ended order's late first fill), then retires the oldest ended orders beyond the bound that
 * ended at least the grace before this event.
 */
export function retainEnded(state: RetainedOrders, order: TrackedOrder, wasTerminal: boolean, atMs: number): void {
  const terminal = isTerminal(order.status)
  if (terminal !== wasTerminal) {
    if (terminal) {
      addEnded(state.endedOrders, order.orderId, atMs)
      noteOrderStatus(state.orders, order, atMs)
    } else {
      const endedAtMs = state.endedOrders.get(order.orderId)
      removeEnded(state.endedOrders, order.orderId)
      noteOrderStatus(state.orders, order, endedAtMs)
    }
  } else if (terminal && order.cumQty !== 0n) noteEndedFill(state.orders, order, state.endedOrders)
  const graceRuled = (state.holdRule ?? 0) >= HOLD_RULE_GRACE
  if (graceRuled && (terminal || wasTerminal)) noteHeldEnded(state.endedOrders, order.orderId, state.orders, holdsSynthetic)
  if (state.retention === null) return
  const { keptMax, graceMs } = state.retention
  // Beyond the cap (the kernel's plus a margin) the oldest leave even within the grace, as the kernel's do.
  const heldMax = state.retention.heldMax ?? Number.POSITIVE_INFINITY
  const { endedOrders } = state
  // Counted toward keptMax: the ended orders the kernel still counts (kernelRuledOut), asked only once the count and
  // the age would retire one.
  let ruledOut: Set<string> | null = null
  let entry = endedOrders.size > Math.min(keptMax, heldMax) ? oldestEnded(endedOrders) : null
  while (entry !== null) {
    if (endedOrders.size <= heldMax) {
      if (endedOrders.size <= keptMax || atMs - entry.endedAtMs < graceMs) break
      ruledOut ??= kernelRuledOut(state, graceRuled, atMs)
      if (endedOrders.size - ruledOut.size <= keptMax) break
    }
    const next = entry.next
    if (retirable(state, entry.orderId, order.orderId, atMs)) {
      const endedAtMs = entryEndedAtMs(state.endedOrders, entry)
      retireEnded(state.endedOrders, entry)
      retire(state, entry.orderId, endedAtMs)
      ruledOut?.delete(entry.orderId)
    }
    entry = next
  }
  if (!graceRuled) return
  // Hold rule 2: the ones holding for synthetic quantity that ended at least the grace ago, whatever the count.
  for (const orderId of heldEndedThrough(endedOrders, atMs - graceMs, state.orders, holdsSynthetic)) {
    if (!retirable(state, orderId, order.orderId, atMs)) continue
    const endedAtMs = endedOrders.get(orderId) ?? Number.NEGATIVE_INFINITY
    removeEnded(endedOrders, orderId)
    retire(state, orderId, endedAtMs)
  }
}

/**
 * The ended orders this ledger holds that the kernel's hold rule 2 has retired (or retires at this event): holding for
 * synthetic quantity, ended at least the kernel's grace ago (this ledger's less RETIRE_MARGIN_MS). The ledger keeps
 * them the margin longer; counted toward keptMax they made its count larger than the kernel's, so it retired by count
 * an older order the kernel, holding no more than keptMax, kept — and the kernel's later resend or late fill of that
 * order went unbooked here (a ledger_vs_kernel break: specs/backoffice/kernel-traffic-ledger.property.test.ts, seeds
 * 1376 and 1862). One the kernel skipped (a call in flight) is left out of the count too: the ledger then keeps more,
 * never less, than the kernel.
 */
function kernelRuledOut(state: RetainedOrders, graceRuled: boolean, atMs: number): Set<string> {
  if (!graceRuled || state.retention === null) return new Set()
  return new Set(heldEndedThrough(state.endedOrders, atMs - (state.retention.graceMs - RETIRE_MARGIN_MS), state.orders, holdsSynthetic))
}

/**
 * A true-up took synthetic quantity of `order` (ledger.ts bookTrueUp, which changes no status and retires nothing): an
 * ended order that no longer holds leaves the index of those hold rule 2 retires, which would otherwise name an order
 * that holds nothing (its assertion, a grace later).
 */
export function noteSyntheticTaken(state: RetainedOrders, order: TrackedOrder): void {
  if ((state.holdRule ?? 0) >= HOLD_RULE_GRACE && isTerminal(order.status)) noteHeldEnded(state.endedOrders, order.orderId, state.orders, holdsSynthetic)
}

/**
 * Never the order this event is about: the rest of its decision may still name it (a late real fill's covered part,
 * then its true-up), as the kernel keeps it (src/kernel/retention.ts, rule 2). A later event retires it. Nor one the
 * kernel keeps: a bootstrap suspect (for a start's resend, however late that start comes: its busy(); the resent order
 * holds and fills again), retired by an event after its mark ends; or one with an event at this instant (its rule 2: a
 * start's lost call of an order ended long ago, another order ending in the same instant, then the order's late fill),
 * retired by an event after.
 */
function retirable(state: RetainedOrders, orderId: string, eventOrderId: string, atMs: number): boolean {
  if (orderId === eventOrderId) return false
  const retired = state.orders.get(orderId)
  return !(retired !== undefined && (retired.bootstrapSuspect === true || retired.updatedAtMs >= atMs))
}

/** The order leaves the ledger, its entry in `endedOrders` (which said it ended at `endedAtMs`) already gone. */
function retire(state: RetainedOrders, orderId: string, endedAtMs: number): void {
  forgetHeldEnded(state.endedOrders, orderId)
  const retired = state.orders.get(orderId)
  if (retired !== undefined) {
    releaseHeld(retired, state.reserved)
    releaseSyntheticFee(retired, state.reserved)
    const position = state.positions.get(positionKey(retired.accountId, retired.venue, retired.symbol))
    if (position !== undefined) dropSyntheticLot(position, retired.orderId)
  }
  noteRetired(state.orders, orderId)
  state.orders.delete(orderId)
  if (endedAtMs > state.retiredThroughAtMs) state.retiredThroughAtMs = endedAtMs
  state.counters.retiredOrders += 1
}

/** Whether a ledger order holds for synthetic quantity pending a true-up (the kernel's Order.syntheticHeldQty > 0). */
function holdsSynthetic(orders: ReadonlyMap<string, TrackedOrder>, orderId: string): boolean {
  return orders.get(orderId)?.syntheticPendingQty !== undefined
}
