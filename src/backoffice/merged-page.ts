/**
 * A page of a log-ordered list (fills, postings) for a reader who may read some accounts only: the accounts' rows
 * merged in log order, each account's read on its own (its index, `account_id = ?`), so no row of an account the reader
 * may not read is ever read.
 *
 * Why not read the list whole and skip what the reader may not see: a page then had to stop after so many reads
 * (the work of a page must be bounded), and where and whether it stopped told the reader about rows it skipped. The
 * cursor of a page whose reads ran out was the LSN of the last row read, another account's fill or posting; and an
 * empty page with a cursor over `from_lsn..to_lsn` said "more than 64 × (limit + 1) rows of other accounts here", which
 * by moving the bounds located each of them. Reading only the reader's accounts, a page ends on its own rows or at the
 * end of the list, and says nothing of anyone else's.
 *
 * Bounded: each source is read `chunkRows` at a time after the last row read from it, so a page reads at most
 * rowsMax + 1 + sources × chunkRows rows however the accounts' rows interleave (one read of rowsMax + 1 for one source).
 */

import { assert } from '../domain/assert.ts'

/** Whose rows a page may hold: every account's, or these accounts' only. */
export type PageReader = 'every' | readonly string[]

/** Rows of one source in log order after `after` (the last row read from it; undefined: from the page's start). */
export type RowSource<Row> = (after: Row | undefined, rowsMax: number) => Row[]

export interface MergedRows<Row> {
  /** The first `rowsMax` rows of all sources, in log order. */
  rows: Row[]
  /** Whether any source holds a row after them. */
  more: boolean
}

/** The smallest read of a source when several share a page: fewer rows per read would mean many tiny reads. */
const CHUNK_ROWS_MIN = 16

/** The sources to read for `reader`: one (the list as the query names it) for an every-account reader or an account filter. */
export function pageAccounts(reader: PageReader, accountFilter: string | undefined): (string | undefined)[] {
  if (accountFilter !== undefined) return reader === 'every' || reader.includes(accountFilter) ? [accountFilter] : []
  return reader === 'every' ? [undefined] : [...reader]
}

/** The first `rowsMax` rows of `sources` in log order (`before`), and whether more follow. */
export function mergedRows<Row>(sources: readonly RowSource<Row>[], options: { rowsMax: number; before: (a: Row, b: Row) => boolean }): MergedRows<Row> {
  assert(options.rowsMax >= 1, () => `rowsMax must be ≥ 1, got ${options.rowsMax}`)
  const chunkRows = sources.length <= 1 ? options.rowsMax + 1 : Math.max(CHUNK_ROWS_MIN, Math.ceil((options.rowsMax + 1) / sources.length))
  const heads = sources.map((read) => ({ read, buffer: [] as Row[], at: 0, last: undefined as Row | undefined, ended: false }))
  const rows: Row[] = []
  for (;;) {
    let next: (typeof heads)[number] | undefined
    for (const head of heads) {
      if (head.at === head.buffer.length && !head.ended) {
        head.buffer = head.read(head.last, chunkRows)
        head.at = 0
        head.last = head.buffer.at(-1) ?? head.last
        head.ended = head.buffer.length < chunkRows
      }
      const candidate = head.buffer[head.at]
      if (candidate !== undefined && (next === undefined || options.before(candidate, next.buffer[next.at] as Row))) next = head
    }
    if (next === undefined) return { rows, more: false }
    if (rows.length === options.rowsMax) return { rows, more: true }
    rows.push(next.buffer[next.at++] as Row)
  }
}
