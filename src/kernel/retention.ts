/**
 * Bounded hot state: terminal orders leave the kernel state. Every order that ends (Filled, Canceled, Rejected by the
 * venue, Failed…) joins `state.terminalOrderIds` in the order it ended; once more than params.terminalOrdersKeptMax
 * (default 10,000) are held, the oldest leave `state.orders` — as a pure function of the events, so genesis replay and a snapshot restore
 * hold exactly the same orders (same stateDigest). Without this the state, the snapshot and its load time grow with
 * every order ever placed.
 *
 * What stays: the order's idempotency entry (a repeat of its key is still answered as a repeat, never placed again)
 * and every record in the log. Reads of a retired order (HTTP get/events/explain, the first response of an idempotent
 * repeat) are served from its records in the log (src/http/retired-order.ts). What changes for a retired order: the
 * kernel no longer knows it, so a cancel or amend answers ORDER_NOT_FOUND and a late venue report for it is an orphan
 * (REPORT_ORPHANED alert), as for any order it does not hold. An order with a venue call still in flight or work
 * queued is never retired; the oldest waits until it is idle (checked again the next time an order ends).
 */

import type { Order } from '../domain/orders.ts'
import { isTerminal } from '../domain/states.ts'
import type { KernelState } from './state.ts'

/** Terminal orders kept in the hot state (the newest ones) before the kernel is configured; then params.terminalOrdersKeptMax. */
export const TERMINAL_ORDERS_KEPT_MAX = 10_000

/** Called by apply after an order event: notes an order that ended (or reopened) and retires the oldest beyond the bound. */
export function retainTerminal(state: KernelState, order: Order, wasTerminal: boolean): void {
  const terminal = isTerminal(order.status)
  if (terminal === wasTerminal) return
  if (!terminal) {
    state.terminalOrderIds.delete(order.orderId)
    return
  }
  state.terminalOrderIds.add(order.orderId)
  retireBeyond(state, state.config?.params.terminalOrdersKeptMax ?? TERMINAL_ORDERS_KEPT_MAX)
}

/**
 * Deletions from the front of a Set since it was last rebuilt. A JS engine's ordered Set keeps deleted slots until it
 * rehashes, and finding the first live entry walks past them: retiring one order per new terminal order made that walk
 * grow with every retirement (10% of replay time). Copying the Set after as many deletions as it holds entries keeps
 * each step O(1) amortised; the copy has the same members in the same order, so the state does not change.
 */
const frontDeletions = new WeakMap<Set<string>, number>()

function retireBeyond(state: KernelState, keptMax: number): void {
  while (state.terminalOrderIds.size > keptMax) {
    const oldest = state.terminalOrderIds.values().next().value as string
    if (busy(state, oldest)) return
    state.terminalOrderIds.delete(oldest)
    state.orders.delete(oldest)
    const deleted = (frontDeletions.get(state.terminalOrderIds) ?? 0) + 1
    if (deleted < Math.max(1_024, state.terminalOrderIds.size)) frontDeletions.set(state.terminalOrderIds, deleted)
    else state.terminalOrderIds = new Set(state.terminalOrderIds)
  }
}

function busy(state: KernelState, orderId: string): boolean {
  // inFlight is keyed by order id (one call per order at a time).
  if (state.inFlight.has(orderId)) return true
  const [lane0, lane1, lane2, lane3] = state.queues
  return lane0.has(orderId) || lane1.has(orderId) || lane2.has(orderId) || lane3.has(orderId)
}
