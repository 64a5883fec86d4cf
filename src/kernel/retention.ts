/**
 * Bounded hot state: terminal orders leave the kernel state. Every order that ends (Filled, Canceled, Rejected by the
 * venue, Failed…) joins `state.terminalOrderIds` in the order it ended, with the atMs of the event that ended it; once
 * more than params.terminalOrdersKeptMax (default 10,000) are held, the oldest that ended at least
 * params.terminalOrderRetireAfterMs (default 1 hour) before the event being applied leave `state.orders` — as a pure
 * function of the events, so genesis replay and a snapshot restore hold exactly the same orders (same stateDigest).
 * Without this the state, the snapshot and its load time grow with every order ever placed. The grace is there because
 * an ended order can still move money: the venue may report a fill after it confirmed a cancel or an expiry (the fill
 * raced the cancel), and the state machine books it (state-machine.ts) only while the kernel holds the order. The
 * hot state holds at most terminalOrdersKeptMax plus the orders that ended within the grace.
 *
 * What stays: the order's idempotency entry (a repeat of its key is still answered as a repeat, never placed again)
 * and every record in the log. Reads of a retired order (HTTP get/events/explain, the first response of an idempotent
 * repeat) are served from its records in the log (src/http/retired-order.ts). What changes for a retired order: the
 * kernel no longer knows it, so a cancel or amend is refused ORDER_NOT_FOUND (HTTP answers 409 ORDER_NOT_CANCELABLE or
 * ORDER_NOT_AMENDABLE first, from the log index: routes/order-actions.ts) and a late venue report for it is an orphan
 * (REPORT_ORPHANED alert), as for any order it does not hold. An order with a venue call still in flight, work
 * queued or a bootstrap suspect's mark is never retired; it is skipped (the idle ones behind it still retire) and
 * retired once idle.
 *
 * The hard cap (params.terminalOrdersHeldMax, default 1,000,000): the grace alone bounds the hot state by time, not
 * by count, so a sustained rate of R orders/s holds R × 3,600 ended orders an hour (~0.9 KB of heap each; 5,000
 * orders/s is 18M orders, ~16 GB in the kernel and as much again around it): beyond the cap the oldest idle terminal
 * orders retire even within the grace, so memory is bounded by config whatever the rate. The trade-off: a late fill
 * for an order the cap retired is an orphan (REPORT_ORPHANED alert, nothing booked), as for any retired order, though
 * it came within the grace. Such retirements are counted (retiredEarlyCount, /metrics
 * egress_orders_retired_early_total) so operators can size the cap: a count that moves means the cap, not the grace,
 * decides how long ended orders stay. A kernel.configured record without the param (written before it existed)
 * has no cap, so its log replays as it was decided.
 *
 * The walk over the oldest terminal orders follows a list kept beside the Map in the same order
 * (ended-order-list.ts), so it costs O(1) per event plus O(1) per order retired or skipped.
 *
 * Under hold rule 2 (reservations.ts HOLD_RULE_GRACE, adopted by a kernel.hold_rule_adopted record) an ended order that
 * still holds for synthetic quantity pending a true-up (Order.syntheticHeldQty) retires once it ended at least the
 * grace ago, however few orders ended: busy, suspect and touched ones are skipped as above. Without it, a gateway
 * ending fewer than terminalOrdersKeptMax orders kept a hold whose true-up never came (the real fills the read-back
 * missed) for good. A log before the record retires them by count only, as it was decided. Those orders are looked at
 * through their own index (synthetic-held-ended.ts), so this costs O(1) per event when none is due, plus a search of
 * the ended list from its newest end per order so retired (removeEnded: at most the ended orders held, and only for a
 * synthetic fill whose true-up never came).
 */

import type { Order } from '../domain/orders.ts'
import { isTerminal } from '../domain/states.ts'
import { addEnded, entryEndedAtMs, oldestEnded, removeEnded, retireEnded, type EndedEntry } from './ended-order-list.ts'
import { forgetRetired } from './key-window.ts'
import { holdSyntheticFee, releaseTo } from './ledger.ts'
import { workFor } from './queues.ts'
import { HOLD_RULE_GRACE } from './reservations.ts'
import type { KernelState } from './state.ts'
import { forgetHeldEnded, heldEndedThrough, noteHeldEnded } from './synthetic-held-ended.ts'

/** Terminal orders kept in the hot state (the newest ones) before the kernel is configured; then params.terminalOrdersKeptMax. */
export const TERMINAL_ORDERS_KEPT_MAX = 10_000

/**
 * The retirement rule this build decides by and records (kernel.retire_rule_adopted, at configure): an order with an
 * event at the instant being applied is not retired by it (touchedAt). A log without the record keeps the rule before.
 */
export const RETIRE_RULE_UNTOUCHED = 2

/**
 * Called by apply after every order event, with that event's atMs: notes an order that ended (or reopened), then
 * retires the oldest idle terminal orders beyond the bound that ended at least params.terminalOrderRetireAfterMs
 * before this event. Only event times count, never a clock, so replay decides exactly as the live kernel did.
 */
export function retainTerminal(state: KernelState, order: Order, wasTerminal: boolean, atMs: number): void {
  const terminal = isTerminal(order.status)
  const ended = terminal && !wasTerminal
  if (ended) addEnded(state.terminalOrderIds, order.orderId, atMs)
  else if (!terminal && wasTerminal) removeEnded(state.terminalOrderIds, order.orderId)
  // Only an order that is or was ended can enter or leave the index of those holding for synthetic quantity.
  if ((terminal || wasTerminal) && graceRuled(state)) noteHeldEnded(state.terminalOrderIds, order.orderId, state, holdsSynthetic)
  const params = state.config?.params
  const keptMax = params?.terminalOrdersKeptMax ?? TERMINAL_ORDERS_KEPT_MAX
  const graceMs = params?.terminalOrderRetireAfterMs ?? null
  if (graceMs === null) {
    // A kernel.configured record from before the grace existed: its log was decided with the rule of that time
    // (no grace, only when an order ends, stop at the first busy order), so it replays the same. No such record holds
    // a cap (terminalOrdersHeldMax came later).
    if (ended && state.terminalOrderIds.size > keptMax) retireOldestLegacy(state, keptMax, atMs)
    return
  }
  retireDue(state, { keptMax, graceMs }, atMs)
}

/**
 * Retires what the bounds let go at `atMs` without an order event: at a refusal under the idempotency key cap
 * (key-window.ts forgetAgedAt), whose keys are held while their ended orders are, so a quiet gateway whose every new
 * order is refused still retires those orders, and frees their keys. Only logs with a retire grace and the key window.
 */
export function retireDueAt(state: KernelState, atMs: number): void {
  const params = state.config?.params
  const graceMs = params?.terminalOrderRetireAfterMs ?? null
  if (graceMs === null) return
  retireDue(state, { keptMax: params?.terminalOrdersKeptMax ?? TERMINAL_ORDERS_KEPT_MAX, graceMs }, atMs)
}

/**
 * The orders retireDueAt(state, atMs) would retire, in the order it would, retiring none: the same walks, the orders
 * they would take counted off the list's size instead of unlinked. Lazy, so a caller that needs only a few walks no
 * further (a flatten counts the keys their retirement frees: flatten-keys.ts). Kept beside retireDue so the two change
 * together; specs/kernel/flatten-keys.test.ts checks it against what retireDueAt does.
 */
export function* dueForRetirement(state: KernelState, atMs: number): Generator<string> {
  const params = state.config?.params
  const graceMs = params?.terminalOrderRetireAfterMs ?? null
  if (graceMs === null) return
  const keptMax = params?.terminalOrdersKeptMax ?? TERMINAL_ORDERS_KEPT_MAX
  const heldMax = params?.terminalOrdersHeldMax ?? Number.POSITIVE_INFINITY
  const untouchedOnly = state.retireRule === RETIRE_RULE_UNTOUCHED
  const due = new Set<string>()
  let size = state.terminalOrderIds.size
  for (let entry = oldestEnded(state.terminalOrderIds); entry !== null; entry = entry.next) {
    const aged = atMs - entry.endedAtMs >= graceMs
    if (!(size > heldMax || (aged && size > keptMax))) break
    if (busy(state, entry.orderId) || (untouchedOnly && touchedAt(state, entry.orderId, atMs))) continue
    due.add(entry.orderId)
    size--
    yield entry.orderId
  }
  if (!graceRuled(state)) return
  for (const orderId of heldEndedThrough(state.terminalOrderIds, atMs - graceMs, state, holdsSynthetic)) {
    if (due.has(orderId) || busy(state, orderId) || (untouchedOnly && touchedAt(state, orderId, atMs))) continue
    yield orderId
  }
}

function retireDue(state: KernelState, bounds: { keptMax: number; graceMs: number }, atMs: number): void {
  const heldMax = state.config?.params.terminalOrdersHeldMax ?? Number.POSITIVE_INFINITY
  const untouchedOnly = state.retireRule === RETIRE_RULE_UNTOUCHED
  if (state.terminalOrderIds.size > Math.min(bounds.keptMax, heldMax)) retireAged(state, { ...bounds, heldMax }, atMs, untouchedOnly)
  if (graceRuled(state)) retireHeldAged(state, bounds.graceMs, atMs, untouchedOnly)
}

/** Hold rule 2: the ended orders holding for synthetic quantity that ended at least the grace ago, whatever the count. */
function retireHeldAged(state: KernelState, graceMs: number, atMs: number, untouchedOnly: boolean): void {
  for (const orderId of heldEndedThrough(state.terminalOrderIds, atMs - graceMs, state, holdsSynthetic)) {
    if (busy(state, orderId) || (untouchedOnly && touchedAt(state, orderId, atMs))) continue
    removeEnded(state.terminalOrderIds, orderId)
    dropOrder(state, orderId, atMs)
  }
}

function graceRuled(state: KernelState): boolean {
  return (state.holdRule ?? 0) >= HOLD_RULE_GRACE
}

/** Whether an ended order holds for synthetic quantity pending a true-up (the quantity: a buy's or a sell's fee hold). */
function holdsSynthetic(state: KernelState, orderId: string): boolean {
  return (state.orders.get(orderId)?.syntheticHeldQty ?? 0n) > 0n
}

function retire(state: KernelState, entry: EndedEntry, atMs: number): void {
  // The walk read the end time from the list; what it retires is checked against the Map, the state.
  entryEndedAtMs(state.terminalOrderIds, entry)
  retireEnded(state.terminalOrderIds, entry)
  dropOrder(state, entry.orderId, atMs)
}

/** The order leaves the state, its entry in terminalOrderIds already gone. */
function dropOrder(state: KernelState, orderId: string, atMs: number): void {
  forgetHeldEnded(state.terminalOrderIds, orderId)
  const order = state.orders.get(orderId)
  state.orders.delete(orderId)
  if (order === undefined) return
  // What its synthetic quantity pending a true-up still held (reservations.ts syntheticHeldFor, and a sell's fee
  // allowance, Order.syntheticFeeHeld) goes with it: a real fill of a retired order is an orphan, never trued up. The
  // back office releases it when it retires the order.
  releaseTo(state, order, 0n)
  holdSyntheticFee(state, order, 0n)
  forgetRetired(state, order, atMs)
}

interface RetainBounds {
  keptMax: number
  /** The hard cap (+∞ for a record without one). */
  heldMax: number
  graceMs: number
}

/**
 * Oldest ending first: an order busy with a venue call or queued work is skipped (it stays until it is idle, and the
 * ones behind it are not held up). An order is retired while more than keptMax are held and it ended at least the
 * grace ago, or while more than heldMax are held, grace or not; the walk stops at the first order that meets neither
 * (the ones behind it ended later). Retiring one order does not change whether another is busy or due, so each is
 * retired as soon as it is found.
 */
function retireAged(state: KernelState, bounds: RetainBounds, atMs: number, untouchedOnly: boolean): void {
  const ended = state.terminalOrderIds
  let entry = oldestEnded(ended)
  while (entry !== null) {
    const aged = atMs - entry.endedAtMs >= bounds.graceMs
    if (!(ended.size > bounds.heldMax || (aged && ended.size > bounds.keptMax))) return
    const next = entry.next
    if (!busy(state, entry.orderId) && !(untouchedOnly && touchedAt(state, entry.orderId, atMs))) {
      retire(state, entry, atMs)
      if (!aged) noteRetiredEarly(ended)
    }
    entry = next
  }
}

/**
 * Orders the cap retired within the grace, per terminalOrderIds Map (the state it belongs to): a process-local count
 * for /metrics, not state — it is in no digest or snapshot, and counts from when this process began applying to the
 * state (a restore starts it at 0, as a Prometheus counter restarts with its process).
 */
const retiredEarly = new WeakMap<Map<string, number>, number>()

function noteRetiredEarly(ended: Map<string, number>): void {
  retiredEarly.set(ended, (retiredEarly.get(ended) ?? 0) + 1)
}

/** How many ended orders the cap (terminalOrdersHeldMax) retired within the grace in this state, in this process. */
export function retiredEarlyCount(state: KernelState): number {
  return retiredEarly.get(state.terminalOrderIds) ?? 0
}

function retireOldestLegacy(state: KernelState, keptMax: number, atMs: number): void {
  while (state.terminalOrderIds.size > keptMax) {
    const oldest = oldestEnded(state.terminalOrderIds)
    if (oldest === null || busy(state, oldest.orderId)) return
    retire(state, oldest, atMs)
  }
}

/**
 * RETIRE_RULE_UNTOUCHED: an order with an event at this instant is not retired now. A decision's events share one
 * atMs, so the decision still applying events about it finds it: a reconcile's fill ending it, then its order.reconciled, with no
 * grace (simulation seed 12216); a late real fill's covered part, then its true-up, for an order a synthetic fill ended
 * longer than the grace ago (review finding). It is retired by the first event after.
 */
function touchedAt(state: KernelState, orderId: string, atMs: number): boolean {
  return (state.orders.get(orderId)?.updatedAtMs ?? Number.NEGATIVE_INFINITY) >= atMs
}

function busy(state: KernelState, orderId: string): boolean {
  // inFlight is keyed by order id (one call per order at a time).
  if (state.inFlight.has(orderId)) return true
  // The queues hold exactly each order's work (queues.ts), so asking workFor is asking the four queues in one step.
  const order = state.orders.get(orderId)
  if (order === undefined) return false
  // A bootstrap suspect proven absent waits for a start's resend, which needs the order (bootstrap-suspects.ts).
  return workFor(order) !== null || order.bootstrapSuspect
}
