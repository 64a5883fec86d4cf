/**
 * The ledger's postings as `GET /v1/ledger` lists them: in log order (`lsn.seq`), a page at a time, of the accounts the
 * reader may read only (merged-page.ts says why only those are read).
 */

import type { Posting } from './ledger-state.ts'
import { mergedRows, pageAccounts, type PageReader } from './merged-page.ts'
import type { LedgerQuery, Store } from './store.ts'

/** Where a posting stands in the ledger: its record's LSN and its place within the record. */
export interface PostingPosition {
  lsn: number
  seq: number
}

export interface PostingPage {
  postings: Posting[]
  /** The position of the page's last posting when more follow (the next page starts after it), null at the end. */
  next: PostingPosition | null
}

/** At most `query.limit` postings matching `query` (after `query.after`) of the accounts `reader` may read. */
export function postingPage(store: Store, query: LedgerQuery, reader: PageReader): PostingPage {
  const sources = pageAccounts(reader, query.accountId).map((accountId) => (after: Posting | undefined, rowsMax: number) =>
    store.postings({
      ...query,
      ...(accountId === undefined ? {} : { accountId }),
      ...(after === undefined ? {} : { after: { lsn: after.lsn, seq: after.seq } }),
      limit: rowsMax,
    }),
  )
  const before = (a: Posting, b: Posting): boolean => a.lsn < b.lsn || (a.lsn === b.lsn && a.seq < b.seq)
  const { rows, more } = mergedRows(sources, { rowsMax: query.limit, before })
  const last = rows.at(-1)
  return { postings: rows, next: more && last !== undefined ? { lsn: last.lsn, seq: last.seq } : null }
}
