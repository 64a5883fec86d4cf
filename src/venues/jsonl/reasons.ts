/**
 * The codes the JSONL client uses for venue input it refuses, defined once: log codes lead the log line, the reason
 * code leads the `reason` of the outcome it gives the caller. Details follow after a colon.
 */

export const JsonlLogCode = {
  /** A line that is not JSON: skipped; the lines after it are read as usual. */
  lineMalformed: 'VENUE_LINE_MALFORMED',
  /** A line longer than LINE_BYTES_MAX: the connection is dropped, because where the next line starts is unknown. */
  lineTooLong: 'VENUE_LINE_TOO_LONG',
  /** JSON of the wrong shape: an answer becomes `unknown`, a report or a price entry is dropped. */
  messageInvalid: 'VENUE_MESSAGE_INVALID',
  /** An answer to no request in flight: one never asked, or asked and settled already (answered, timed out). Skipped. */
  answerUnexpected: 'VENUE_ANSWER_UNEXPECTED',
} as const

export const JsonlReason = {
  /** The venue's answer does not fit the request's op. It may have acted: the outcome is unknown, reconcile. */
  answerInvalid: 'jsonl_answer_invalid',
  /** More open orders than one list may hold (JsonlVenueClient.openOrders): they are read one by one instead. */
  openOrdersTooMany: 'jsonl_open_orders_too_many',
} as const
