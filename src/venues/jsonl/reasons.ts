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
  /** Nothing heard from the venue for silenceMsMax (a half-open connection): the connection is dropped and redialled. */
  venueSilent: 'VENUE_SILENT',
} as const

/**
 * The reason codes of the outcomes the JSONL client (and, for the answers it makes itself, the server) gives: each
 * outcome's `reason` is one of these, alone or followed by `: <detail>` (withDetail), so alerts and explanations
 * match on the code, never on the wording (as FixReason for FIX, SimReason for the sim venue's own answers).
 */
export const JsonlReason = {
  /** No connection when the call was made: nothing was sent, the venue cannot have acted (`retryable`). */
  notConnected: 'jsonl_not_connected',
  /** The client's bound of requests awaiting an answer (pendingMax) is reached: nothing was sent (`retryable`). */
  tooManyInFlight: 'jsonl_too_many_in_flight',
  /** No answer within requestTimeoutMs after the request was written: the venue may have acted (`unknown`). */
  timeout: 'jsonl_timeout',
  /** The connection was lost with the request written or queued to be: the venue may have acted (`unknown`). */
  disconnected: 'jsonl_disconnected',
  /** The client was closed with the request in flight: the venue may have acted (`unknown`). */
  closed: 'jsonl_closed',
  /** The venue's answer does not fit the request's op. It may have acted: the outcome is unknown, reconcile. */
  answerInvalid: 'jsonl_answer_invalid',
  /** More open orders than one list may hold (JsonlVenueClient.openOrders): they are read one by one instead. */
  openOrdersTooMany: 'jsonl_open_orders_too_many',
  /** Server: the answer would be a line past LINE_BYTES_MAX (`unknown`: the client reads what it asked another way). */
  answerTooLong: 'jsonl_answer_too_long',
  /** Server: the request names no op it serves (`rejected` before the book sees it). */
  opUnknown: 'jsonl_op_unknown',
  /** Server: the request's arguments do not fit its op (`rejected` before the book sees it). */
  requestInvalid: 'jsonl_request_invalid',
  /** Server: this client has requestsInFlightMax requests in the book already; not handed to it (`retryable`). */
  venueBusy: 'jsonl_venue_busy',
  /**
   * Server: its record file failed (fatal: it stops). The requests in flight then are answered `unknown` (it may have
   * acted); one read after it, `retryable` (it did nothing).
   */
  venueFailed: 'jsonl_venue_failed',
} as const

export type JsonlReasonCode = (typeof JsonlReason)[keyof typeof JsonlReason]

/**
 * The client's answers that it gives itself, without asking the venue (VenueAdapter.answeredLocally), so venue health
 * does not score them: its own bounds (requests awaiting an answer; the pages of one open-order listing), and no
 * connection to send on. An unreachable venue
 * shows through the connection's state instead (JsonlVenueClient.sessionActive: down is CRITICAL, as a FIX session not
 * logged on). Scored, each `jsonl_not_connected` weighed 50 for as long as it stayed in the window: a cancel retried
 * every second while the connection was down kept the venue CRITICAL after it was back, and a venue unreachable with no
 * call made stayed OK.
 */
export const JSONL_LOCAL_REASONS: ReadonlySet<string> = new Set([JsonlReason.tooManyInFlight, JsonlReason.notConnected, JsonlReason.openOrdersTooMany])

/** `code`, or `code: detail` when there is a detail: the code always leads. */
export function withDetail(code: JsonlReasonCode, detail: string | undefined): string {
  return detail === undefined || detail === '' ? code : `${code}: ${detail}`
}
