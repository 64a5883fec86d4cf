/**
 * The fills as `GET /v1/fills` lists them: the ledger's fill records and the real executions behind true-ups
 * (true-up-fills.ts), in log order, with each synthetic fill marked by how much of it real executions have replaced.
 *
 * A synthetic fill stays listed after its true-up: the books still hold it (its postings carry its execution id, the
 * true-up's only the difference), and a reader paging the list by LSN who took it already must learn that it was
 * replaced rather than see it vanish. So each row says:
 *   - `replacesSynthetic`: it is a real execution whose quantity a synthetic fill of its order booked first;
 *   - `supersededQty`: for a synthetic fill, how much of it such executions have replaced (0 for any other row).
 * For an order, Σ (qty − supersededQty) over its rows is its filled quantity, and the real executions at their own
 * price and fee are what it traded — as of the answer's LSN: the query's `toLsn` when it has one (only true-ups at or
 * below it count), else the store's position (the answer's `as_of_lsn`); and as of the query's `toMs` when it has one
 * (a true-up logged after it is neither listed nor counted).
 *
 * Attribution is per order, not per venue range. The kernel trues up an order's pending synthetic quantity as one
 * (src/kernel/synthetic-cover.ts pendingShareOf: at the average of what is pending, whichever synthetic fill booked
 * the range a real fill covers), and the query model keeps no venue range, so the quantity an order's true-ups
 * repriced is assigned to its synthetic fills oldest first. With two synthetic fills, a real report for the second's
 * range that arrives first marks the first superseded; the order's sum is right either way.
 *
 * A true-up of quantity 0 is not listed (store-fills.ts listedFillRows): it repriced nothing and booked only the real
 * fee (a synthetic fill logged before pending quantity was kept), so the synthetic fill still stands for that quantity
 * at its own price, in the books and here (not superseded); the fee is in the ledger's postings (`kind: fee`, `ref`:
 * the execution id) and the position's fees. Likewise a true-up that repriced part of what its real fill covered lists
 * the part it repriced.
 *
 * A query model upgraded in place holds no true-up fill through some LSN (store-schema.ts): an order with a synthetic
 * fill booked there has `supersededQty` null (not known) on each of its synthetic fills.
 */

import type { Units } from '../domain/decimal.ts'
import type { FillRecord } from './ledger-state.ts'
import { mergedRows, pageAccounts, type PageReader } from './merged-page.ts'
import { fillOf } from './store-rows.ts'
import type { FillQuery, ListedFillRow } from './store-fills.ts'
import type { Store } from './store.ts'

export interface ListedFill extends FillRecord {
  replacesSynthetic: boolean
  /** Of a synthetic fill, the quantity real executions replaced (0 for other rows); null when not known. */
  supersededQty: Units | null
}

/** A page of the list: its rows, and whether more follow (the cursor is then the last row's LSN). */
export interface FillPage {
  fills: ListedFill[]
  /**
   * Where the next page starts (its `afterLsn`): the LSN of the page's last fill when more follow, null at the end. A
   * page shorter than the limit is the last.
   */
  nextAfterLsn: number | null
}

/** The rows of the fill list matching `query`, in log order, at most `query.limit`. */
export function fillList(store: Store, query: FillQuery): ListedFill[] {
  return withSuperseded(store, store.listedFillRows(query), query)
}

/**
 * At most `query.limit` rows of the fill list matching `query` of the accounts `reader` may read, in log order. Only
 * those accounts' rows are read (merged-page.ts says why). Which of its synthetic fills real executions superseded is
 * read once for the whole page.
 */
export function fillPage(store: Store, query: FillQuery, reader: PageReader): FillPage {
  const sources = pageAccounts(reader, query.accountId).map((accountId) => (after: ListedFillRow | undefined, rowsMax: number) =>
    store.listedFillRows({
      ...query,
      ...(accountId === undefined ? {} : { accountId }),
      ...(after === undefined ? {} : { afterLsn: Number(after.lsn) }),
      limit: rowsMax,
    }),
  )
  const { rows, more } = mergedRows(sources, { rowsMax: query.limit, before: (a, b) => a.lsn < b.lsn })
  const last = rows.at(-1)
  return { fills: withSuperseded(store, rows, query), nextAfterLsn: more && last !== undefined ? Number(last.lsn) : null }
}

/**
 * `rows` as listed fills, each synthetic fill marked with what true-ups within the query's bounds superseded of it:
 * through `toLsn` (else all) and, when the query has one, at or before `toMs`, as the rows themselves are.
 */
function withSuperseded(store: Store, rows: readonly ListedFillRow[], bounds: Pick<FillQuery, 'toLsn' | 'toMs'>): ListedFill[] {
  const fills = rows.map((row) => ({ ...fillOf(row), replacesSynthetic: row.replaces_synthetic !== 0n }))
  const orderIds = [...new Set(fills.filter((fill) => fill.synthetic).map((fill) => fill.orderId))]
  const superseded = new Map<number, Units | null>()
  const untrackedThroughLsn = store.modelVersion.trueUpsUntrackedThroughLsn
  for (const { synthetic, trueUpQty } of store.supersessionOf(orderIds, { lsn: bounds.toLsn ?? store.lastLsn, ...(bounds.toMs === undefined ? {} : { ms: bounds.toMs }) }).values()) {
    const known = synthetic.every((fill) => fill.lsn > untrackedThroughLsn)
    let left = known ? trueUpQty : 0n
    for (const fill of synthetic) {
      const taken = left < fill.qty ? left : fill.qty
      superseded.set(fill.lsn, known ? taken : null)
      left -= taken
    }
  }
  return fills.map((fill) => ({ ...fill, supersededQty: fill.synthetic ? (superseded.get(fill.lsn) ?? null) : 0n }))
}
