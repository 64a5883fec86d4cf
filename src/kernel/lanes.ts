/**
 * The executor's choice of what to do next (§6). Strict priority: Lane0 (cancel/close/flatten) first, always, then
 * Lane1 (reduce-only new), Lane2 (new and amends), Lane3 (reconcile queries); FIFO within a lane. Two exceptions for
 * Lane3, both in the pick only (the queues, the log and snapshots hold the lanes as they are): the read-back of an
 * Unknown order with a cancel wanted (its cancel's answer lost) goes right after Lane0, ahead of Lanes 1–2 — the
 * cancel is not done until its outcome is known; and `lane3First` (the executor's share for Lane3, so Unknown orders
 * converge under sustained new-order load) looks at Lane3 before Lanes 1 and 2. Calls are pipelined
 * per venue×symbol (in-flight.ts): an item whose order already has a call in flight, or whose instrument has no slot
 * left for its lane (callsPerInstrumentMax places and amends; Lane0 as many again of its own), waits, and the scan
 * moves on, so one slow symbol never blocks the rest.
 * Items backing off (retry-after, gate block, reconcile grace) wait until due.
 * Kill switches hold new orders here too, not just at intake: HALT holds Lane1/Lane2 places and amends, CANCEL_ONLY
 * every place and amend.
 *
 * The runtime loops: item = nextWork(state, …); decide a `send` for it with action = item.kind (place, cancel or
 * amend; the decision starts the order's call) or run the reconcile query (passing its order id in `busy` until the
 * answer is decided); repeat until null.
 */

import type { Lane } from '../domain/modes.ts'
import type { Order } from '../domain/orders.ts'
import { workFor } from './queues.ts'
import { switchHolds } from './send.ts'
import type { KernelState, WorkKind } from './state.ts'
import { workIndexOf } from './work-index.ts'

export interface WorkItem {
  lane: Lane
  kind: WorkKind
  orderId: string
  venue: string
  symbol: string
}

export interface NextWorkOptions {
  nowMs: number
  /** Order ids the runtime is already working on outside the kernel's view: no work of any kind is picked for them. */
  busy?: Pick<ReadonlySet<string>, 'has'>
  /**
   * Order ids whose reconcile query is in flight or backing off: only their reconcile item is skipped, so a cancel
   * for the same order still goes first in Lane0.
   */
  reconcileHeld?: Pick<ReadonlySet<string>, 'has'>
  /**
   * When an order's reconcile hold ends by itself (its back-off's end; 0 for none): a held read-back is set aside until
   * then like one not yet due, not looked at again by every pick. Ending earlier (a shorter back-off set), the hold is
   * told to the kernel (noteHoldChanged).
   */
  reconcileHeldUntilMs?: (orderId: string) => number
  /**
   * Until when the order's send decision, which threw, is not made again (0, or a time not after nowMs: none): until
   * then none of its work is picked, and the pick sets it aside like work not yet due, not looked at again by every
   * pick. The hold ends with any record of the order (a cancel asked for): the runtime answers 0 from then on, and the
   * kernel looks at the order's work again (syncQueues). Absent: no order is held so.
   */
  sendHeldUntilMs?: ((orderId: string) => number) | undefined
  /**
   * No place or amend is picked (cancels and read-backs are): an HA leader still taking the lead, whose sends would be
   * recorded in a log that may yet be set aside (Executor.holdPlaceSends).
   */
  placeSendsHeld?: boolean
  /**
   * Lane3 is looked at before Lanes 1 and 2 (after Lane0 and the read-backs of wanted cancels): the executor's share
   * for Lane3, given it after every so many picks of theirs (Executor lane3Every), so read-backs are never starved.
   */
  lane3First?: boolean
  /**
   * No read-back is picked (Lane3, and the read-backs of wanted cancels): the runtime's read-backs hold their share of
   * the call budget already (Executor readBacksHeld). Lanes 0–2 are picked as without it.
   */
  readBacksHeld?: boolean
  /**
   * Whether the venue×symbol (its instrument key) has no request budget left now: its places and amends (Lanes 1–2) are
   * not picked, as on a full instrument; Lane0 and read-backs are never held by it (the runtime's pacing,
   * runtime/send-pacing.ts, which counts what is picked). Absent: nothing is paced.
   */
  instrumentPaced?: ((instrumentKey: string) => boolean) | undefined
  /**
   * Whether the venue's calls in flight hold its share of the runtime's call budget already: its Lanes 1–3 work (the
   * read-backs of wanted cancels included) is not picked, other venues' is (runtime/call-budget.ts). Lane0 is never
   * held by it. Absent: no venue is held.
   */
  venueHeld?: ((venue: string) => boolean) | undefined
}

/**
 * The first item, in lane order and FIFO within a lane, that is due (notBeforeMs ≤ nowMs), not busy nor send-held, not
 * held by a kill switch and — for a venue call — whose order has no call in flight and whose instrument has a free slot
 * (and, for a place or amend of Lanes 1–2, budget left: instrumentPaced); null when there is none. Amortised
 * O(groups), not O(queue): it reads the state's work index (work-index.ts, where the argument that it answers as a
 * walk of the queues would is written down).
 */
export function nextWork(state: KernelState, options: NextWorkOptions): WorkItem | null {
  return workIndexOf(state).next(options)
}

/**
 * When a timer should wake the picker: the earliest notBeforeMs of the items nextWork set aside as not yet due, or
 * +Infinity. Items it never looked at are behind a full instrument, a kill switch or an earlier item, whose change
 * wakes the picker anyway (an answer, a log record), or behind an instrument whose request budget is spent, whose
 * return the runtime's pacing times (instrumentPaced); so they need no timer of their own.
 */
export function nextDueMs(state: KernelState): number {
  return workIndexOf(state).nextDueMs()
}

/**
 * The kill switch holding the order's queued place or amend now, or null. A held item is never picked, so no send is
 * decided and nothing is logged for it: this is how a reader learns why it waits (`/explain`).
 */
export function switchHoldOf(state: KernelState, order: Order): { action: 'place' | 'amend'; reason: NonNullable<ReturnType<typeof switchHolds>> } | null {
  const work = workFor(order)
  if (work === null || (work.kind !== 'place' && work.kind !== 'amend')) return null
  const reason = switchHolds(state, order, work.kind)
  return reason === null ? null : { action: work.kind, reason }
}

export function queueDepths(state: KernelState): [number, number, number, number] {
  return [state.queues[0].size, state.queues[1].size, state.queues[2].size, state.queues[3].size]
}
