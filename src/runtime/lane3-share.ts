/**
 * Lane3's share of the executor's picks (§6 Lane3 query/reconcile; §7.2 Unknown orders converge). The lanes are picked
 * in strict priority, and Lane3 came only once Lanes 1–2 were empty: with the call budget taken by places (600 queued,
 * 300 ms venue latency) an Unknown order's first read-back came at 5.4 s, when Lane2 emptied, and under sustained
 * new-order load never. Now, after every `every` picks of Lanes 1–2 in a row, Lane3 is looked at before them once
 * (nextWork's lane3First), so a read-back that can start waits for at most that many places and amends. Lane0 stays
 * first, and so do the read-backs of wanted cancels (kernel/work-index.ts).
 *
 * Runtime only, like the rest of the pick: the log records the decisions the picks lead to, and replay never picks.
 */

import type { Order } from '../domain/orders.ts'
import { isCancelReadBack, type WorkItem } from '../kernel/index.ts'

/** The default share: Lane3 is looked at first after every 8 places and amends. */
export const EXECUTOR_LANE3_EVERY = 8
/** The largest `every`: beyond it the share would be no share. */
export const EXECUTOR_LANE3_EVERY_MAX = 1_000

export class Lane3Share {
  private readonly every: number
  /** Picks of Lanes 1–2 since Lane3 was last picked, or looked at first. */
  private picksSince = 0

  /** `every`: an integer in 1..EXECUTOR_LANE3_EVERY_MAX (ExecutorOptions.lane3Every); default EXECUTOR_LANE3_EVERY. */
  constructor(every: number = EXECUTOR_LANE3_EVERY) {
    if (!(Number.isSafeInteger(every) && every >= 1 && every <= EXECUTOR_LANE3_EVERY_MAX)) {
      throw new RangeError(`lane3Every must be an integer between 1 and ${EXECUTOR_LANE3_EVERY_MAX}, got ${every}`)
    }
    this.every = every
  }

  /** Whether the next pick looks at Lane3 before Lanes 1–2 (nextWork's lane3First). */
  get due(): boolean {
    return this.picksSince >= this.every
  }

  /**
   * Counts a pick made with lane3First = `first`. Lane3 picked starts the count again; so does Lane3 looked at first
   * and found with nothing to start (its turn is spent: looking again at every pick would walk its held read-backs each
   * time, and it is looked at again after `every` more picks). Lane0 is not counted, nor the read-back of a wanted
   * cancel (`order`: the item's; picked right after Lane0, not in Lane3's turn). Counted as Lane3's, such read-backs
   * coming at least once every `every` places (wanted cancels a venue leaves unanswered, asked again after each
   * back-off) started the count again each time, and the rest of Lane3 was never picked under load.
   */
  picked(item: WorkItem, first: boolean, order?: Pick<Order, 'cancelWanted'>): void {
    if (item.lane === 0 || (order !== undefined && isCancelReadBack(order, item.kind))) return
    if (item.lane === 3) this.picksSince = 0
    else this.picksSince = (first ? 0 : this.picksSince) + 1
  }
}
