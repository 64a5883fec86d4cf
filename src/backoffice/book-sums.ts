/**
 * The query model's postings summed per book and asset, for the ledger_vs_store check, carried from one reconcile to
 * the next: each run reads only the postings stored since the last one, a page at a time, instead of the whole table
 * (which grows with every fill ever booked; summing it all froze the event loop for hundreds of milliseconds once the
 * gateway had booked some 100,000 fills). Every stored posting is still read back and summed once, after it was
 * written, so a row that went wrong on its way into SQLite still shows up as a difference — once; and a reset store
 * (rebuilt from the log) is read again from its start.
 */

import type { Units } from '../domain/decimal.ts'
import type { Store } from './store.ts'

/** Rows read in one page: a page is one synchronous stretch of the event loop (~1 ms). */
export const BOOK_SUMS_PAGE_ROWS = 2_000

export class StoredBookSums {
  private sums = new Map<string, Map<string, Units>>()
  private after = { lsn: 0, seq: -1 }
  private store: Store | null = null
  private resets = 0

  /** The sums read so far (book → asset → amount), through the posting at `throughLsn`. */
  get value(): ReadonlyMap<string, ReadonlyMap<string, Units>> {
    return this.sums
  }

  /** The LSN of the last posting read (0 before any). */
  get throughLsn(): number {
    return this.after.lsn
  }

  /**
   * Reads up to BOOK_SUMS_PAGE_ROWS more postings, up to `toLsn`; true once every posting up to `toLsn` is summed.
   * Call it in a loop with an event-loop turn between calls, and once more, synchronously, right before comparing.
   */
  advance(store: Store, toLsn: number, rowsMax: number = BOOK_SUMS_PAGE_ROWS): boolean {
    if (store !== this.store || store.resets !== this.resets) {
      this.sums = new Map()
      this.after = { lsn: 0, seq: -1 }
      this.store = store
      this.resets = store.resets
    }
    const last = store.addBookSums(this.sums, this.after, toLsn, rowsMax)
    this.after = { lsn: last.lsn, seq: last.seq }
    return last.rows < rowsMax
  }

  /** Every posting up to `toLsn`, at once (for the comparison's instant, after the pages before it). */
  advanceAll(store: Store, toLsn: number): void {
    while (!this.advance(store, toLsn)) {
      // Pages until one comes back short.
    }
  }
}
