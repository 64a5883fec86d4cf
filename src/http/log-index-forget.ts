/**
 * The log index's forgetting walk (log-index.ts): once compaction moved the log's first LSN, what pointed only below it
 * goes — the positions under the first LSN, an order whose positions all went, and the account of an order the kernel
 * no longer holds and the index no longer has positions of (one the kernel still holds keeps it: its end, still to
 * come, names only the order). The walk over every entry is cut into slices (`slices`), with a pause after each.
 */

import type { LsnLists } from './log-index-lsns.ts'
import type { WorkSlices } from '../runtime/work-slices.ts'

export interface ForgetTarget {
  /** The position lists per order (ascending LSNs), changed in place; the first is of all the orders' records. */
  positionLists: readonly LsnLists[]
  /** orderId → accountId. */
  accounts: Map<string, string>
  /** Whether the kernel holds the order (its account stays known). */
  heldByKernel: (orderId: string) => boolean
  /** True once the index closed: the walk ends where it is. */
  closed: () => boolean
  slices: WorkSlices
}

/** Forgets what pointed only below `firstLsn`; true when the walk went through, false when the index closed under it. */
export async function forgetBelow(firstLsn: number, target: ForgetTarget): Promise<boolean> {
  const { slices } = target
  for (const lists of target.positionLists) {
    for (const orderId of lists.orderIds()) {
      if (target.closed()) return false
      lists.dropBelow(orderId, firstLsn)
      if (slices.spent()) await slices.rest()
    }
  }
  const records = target.positionLists[0]
  for (const [orderId] of target.accounts) {
    if (target.closed()) return false
    if (!target.heldByKernel(orderId) && !(records?.has(orderId) ?? false)) target.accounts.delete(orderId)
    if (slices.spent()) await slices.rest()
  }
  return true
}

/** The index of the first LSN in ascending `lsns` greater than `afterLsn` (lsns.length when none is). */
export function firstAfter(lsns: readonly number[], afterLsn: number): number {
  let low = 0
  let high = lsns.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((lsns[middle] as number) <= afterLsn) low = middle + 1
    else high = middle
  }
  return low
}
