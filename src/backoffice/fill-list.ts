/**
 * The fills as `GET /v1/fills` lists them: the ledger's fill records and the real executions behind true-ups
 * (true-up-fills.ts), in log order, with each synthetic fill marked by how much of it real executions have replaced.
 *
 * A synthetic fill stays listed after its true-up: the books still hold it (its postings carry its execution id, the
 * true-up's only the difference), and a reader paging the list by LSN who took it already must learn that it was
 * replaced rather than see it vanish. So each row says:
 *   - `replacesSynthetic`: it is a real execution whose quantity a synthetic fill of its order booked first;
 *   - `supersededQty`: for a synthetic fill, how much of it such executions have replaced so far (0 for any other row).
 * For an order, Σ (qty − supersededQty) over its rows is its filled quantity, and the real executions at their own
 * price and fee are what it traded.
 *
 * The kernel trues up an order's pending synthetic quantity as one (src/kernel/synthetic-cover.ts pendingShareOf), not
 * per synthetic fill, so the quantity its true-ups repriced is assigned to its synthetic fills oldest first. Read as of
 * the store's position (the answer's `as_of_lsn`), whatever LSN range the rows were asked for. A query model upgraded
 * in place holds no true-up fill through some LSN (store-schema.ts): an order with a synthetic fill booked there has
 * `supersededQty` null (not known) on each of its synthetic fills.
 */

import type { Units } from '../domain/decimal.ts'
import type { FillRecord } from './ledger.ts'
import { fillOf } from './store-rows.ts'
import type { FillQuery, Store } from './store.ts'

export interface ListedFill extends FillRecord {
  replacesSynthetic: boolean
  /** Of a synthetic fill, the quantity real executions replaced (0 for other rows); null when not known. */
  supersededQty: Units | null
}

/** The rows of the fill list matching `query`, in log order, at most `query.limit`. */
export function fillList(store: Store, query: FillQuery): ListedFill[] {
  const rows = store.listedFillRows(query).map((row) => ({ ...fillOf(row), replacesSynthetic: row.replaces_synthetic !== 0n }))
  const superseded = new Map<number, Units | null>()
  const untrackedThroughLsn = store.modelVersion.trueUpsUntrackedThroughLsn
  for (const orderId of new Set(rows.filter((row) => row.synthetic).map((row) => row.orderId))) {
    const synthetic = store.syntheticFillsOf(orderId)
    const known = synthetic.every((fill) => fill.lsn > untrackedThroughLsn)
    let left = known ? store.trueUpQtyOf(orderId) : 0n
    for (const fill of synthetic) {
      const taken = left < fill.qty ? left : fill.qty
      superseded.set(fill.lsn, known ? taken : null)
      left -= taken
    }
  }
  return rows.map((row) => ({ ...row, supersededQty: row.synthetic ? (superseded.get(row.lsn) ?? null) : 0n }))
}
