/**
 * When a read-back's venue was asked, as the kernel is told it (`reconcile_result.askedAtMs`). The kernel keeps an order
 * that had news after the question as the news left it (kernel/reconcile.ts: `updatedAtMs > askedAtMs`), but the clock
 * counts whole milliseconds: news in the same millisecond as the question, after it, looked older than the venue's
 * view. A stale "open" view then moved a CancelPending order back to CancelRequested (its cancel's answer was ignored
 * and a second cancel sent, which the venue refused: a false VENUE_CANCEL_REJECTED and an Unknown), or was refused
 * for a Filled order (a TRANSITION_REFUSED alert and an Unknown) (review: same-millisecond read-backs).
 *
 * So the order is noted as it stood when asked, and if it changed after that within the same millisecond the kernel
 * is told the question was one millisecond earlier: the news then reads as newer than the view, as it is. Earlier is
 * the safe side for the rest of what the time decides: a "not found" proves absence only past the grace measured to it.
 */

import type { Order } from '../domain/orders.ts'

/** The parts of an order a venue's view could be converged onto, as they stood when its venue was asked. */
export interface AskedOrder {
  readonly askedAtMs: number
  readonly updatedAtMs: number
  readonly status: Order['status']
  readonly cumQty: bigint
  readonly amend: Order['amend']
  readonly sendAttempts: number
  readonly cancelAttempts: number
  readonly cancelWanted: boolean
  readonly syntheticPendingQty: bigint
}

export function askedOrderOf(order: Order, askedAtMs: number): AskedOrder {
  const { updatedAtMs, status, cumQty, amend, sendAttempts, cancelAttempts, cancelWanted, syntheticPendingQty } = order
  return { askedAtMs, updatedAtMs, status, cumQty, amend, sendAttempts, cancelAttempts, cancelWanted, syntheticPendingQty }
}

/** The time to tell the kernel for an answer to the question `asked`, given the order as it is now (if still held). */
export function askedAtMsFor(asked: AskedOrder, now: Order | undefined): number {
  if (now === undefined || now.updatedAtMs !== asked.askedAtMs) return asked.askedAtMs
  // Never below 0, which a command record cannot hold (a simulated clock may start there): at 0 the shift is given up.
  return changedSince(asked, now) ? Math.max(0, asked.askedAtMs - 1) : asked.askedAtMs
}

function changedSince(asked: AskedOrder, now: Order): boolean {
  // Its last news was older than the question, and now it is of the question's millisecond: it came after.
  if (asked.updatedAtMs < asked.askedAtMs) return true
  // Its news of that millisecond came before the question: anything since is news after it. The amend is replaced,
  // never changed in place, at every step (kernel/apply-order.ts), so it compares by identity.
  return (
    now.status !== asked.status ||
    now.cumQty !== asked.cumQty ||
    now.amend !== asked.amend ||
    now.sendAttempts !== asked.sendAttempts ||
    now.cancelAttempts !== asked.cancelAttempts ||
    now.cancelWanted !== asked.cancelWanted ||
    now.syntheticPendingQty !== asked.syntheticPendingQty
  )
}
