/**
 * The query of `GET /v1/orders/:id/events` (routes/order-log.ts): `limit` records per page and `cursor`, the
 * next_cursor of the previous page — the LSN of the last record that page covered, so the next page is the order's
 * records after it (log-index.ts eventsPage). An LSN, not a sealed cursor like the order list's: every event the
 * route returns already shows its LSN, so the position tells nothing the reader was not shown, and it stays valid across
 * restarts and failovers (the log, and its LSNs, are the same on every node). A page is bounded by `limit`, not by the
 * order's history. Only this order's records' LSNs are cursors (log-index.ts isCursorOf): the LSN of another order's
 * record would start the page after it and skip this order's records before it without a word.
 */

import * as v from 'valibot'
import { ApiError } from '../errors.ts'
import { queryPath } from '../query.ts'

/** Events per page of `/events` when the query names no limit, and the most it may name. */
export const EVENTS_PAGE_DEFAULT = 500
export const EVENTS_PAGE_MAX = 1000

export const EVENTS_QUERY = v.strictObject({
  limit: v.exactOptional(
    v.pipe(v.string(), v.regex(/^\d{1,4}$/, 'expected an integer 1–1000'), v.transform(Number), v.minValue(1, 'expected an integer 1–1000'), v.maxValue(EVENTS_PAGE_MAX, 'expected an integer 1–1000')),
  ),
  cursor: v.exactOptional(v.pipe(v.string(), v.regex(/^[1-9]\d{0,14}$/, 'expected a cursor from next_cursor'), v.transform(Number))),
})

/**
 * A cursor this order's next_cursor could not have been (not the LSN of one of its records): 400 like every other
 * route's unknown cursor, saying so, rather than a page that starts after it and leaves out the records before it.
 */
export function unknownCursor(): ApiError {
  return new ApiError('VALIDATION_FAILED', "query.cursor: not a position in this order's records; use a next_cursor this order's events gave, or start again without a cursor", {
    details: { issues: [{ path: queryPath('cursor'), message: "unknown cursor: not the LSN of one of this order's records" }] },
  })
}

