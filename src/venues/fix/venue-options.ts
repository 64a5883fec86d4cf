/**
 * Options of a FixVenue — the adapter over one FIX session — validated, with every default named here, as
 * session-options.ts does for the session itself.
 */

import type { FixOrderFacts } from './reports.ts'
import type { FixSessionOptions } from './session-options.ts'

export interface FixVenueOptions {
  /** The venue name reports carry. */
  venue: string
  session: FixSessionOptions
  /** Wait for an answer to place/cancel/amend before answering `unknown`. */
  requestTimeoutMs?: number
  /** Wait for an OrderStatusRequest / OrderMassStatusRequest answer before answering `unknown`. */
  statusTimeoutMs?: number
  /**
   * FIX 4.2, and FIX 4.4 with `statusReqIdEchoed: false`: how long an OrderStatusRequest stays owed an answer before it
   * is written off and the order's next query may go (venue-status-owed.ts). At least `statusTimeoutMs`; default 12
   * times it (60 s with the default timeout).
   */
  statusOwedWriteOffMs?: number
  /**
   * FIX 4.4: the venue echoes OrdStatusReqID (790) on its status answers, as the spec says it does when the request
   * carries one (default). A status report without it is then no answer to a query (an unsolicited one, such as a
   * terminal status summary) and never settles one. `false` for a venue that does not echo it: its answers are matched
   * by ClOrdID under FIX 4.2's rule, at most one query per order owed an answer.
   */
  statusReqIdEchoed?: boolean
  /** The counterpart answers OrderMassStatusRequest (35=AF, FIX 4.4). */
  massStatus?: boolean
  /** Open orders one mass status answer may list; past it the answer is `unknown` (fix_open_orders_too_many). */
  openOrdersMax?: number
  /** HandlInst (21) on orders: 1 automated, no broker intervention (default). */
  handlInst?: '1' | '2' | '3'
  /** Orders remembered (for cancel/status, which FIX makes carry side and symbol); oldest forgotten first. */
  orderFactsMax?: number
  /** Sent messages remembered by MsgSeqNum (to match Reject/BusinessMessageReject); oldest forgotten first. */
  sentMessagesMax?: number
  /** The runtime's order projection: consulted when an order is not in the adapter's memory (after a restart). */
  lookupOrder?: (clientOrderId: string) => FixOrderFacts | undefined
}

/**
 * Open orders a mass status answer may list by default: what the JSONL client reads at most (100 pages of 1,000). The
 * venue streams the answer as one report per order, so without a bound a venue that never sends LastRptRequested=Y
 * (or sends reports in a loop) would grow the list until the status timeout, at the speed of the connection.
 */
export const FIX_OPEN_ORDERS_MAX = 100_000

export type ResolvedFixVenueOptions = Required<Omit<FixVenueOptions, 'lookupOrder' | 'session'>> & {
  lookupOrder: FixVenueOptions['lookupOrder'] | undefined
}

/** statusOwedWriteOffMs's default, in status timeouts: a venue this late with an answer is taken never to send it. */
export const STATUS_OWED_WRITE_OFF_TIMEOUTS = 12

/** The venue's own options with defaults applied; the session's are resolved by resolveFixSessionOptions. */
export function resolveFixVenueOptions(options: FixVenueOptions): ResolvedFixVenueOptions {
  const statusTimeoutMs = positive('statusTimeoutMs', options.statusTimeoutMs ?? 5_000)
  const statusOwedWriteOffMs = positive('statusOwedWriteOffMs', options.statusOwedWriteOffMs ?? STATUS_OWED_WRITE_OFF_TIMEOUTS * statusTimeoutMs)
  if (statusOwedWriteOffMs < statusTimeoutMs) {
    throw new RangeError(`statusOwedWriteOffMs must be at least statusTimeoutMs (${statusTimeoutMs}), got ${statusOwedWriteOffMs}`)
  }
  return {
    venue: options.venue,
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs ?? 10_000),
    statusTimeoutMs,
    statusOwedWriteOffMs,
    statusReqIdEchoed: options.statusReqIdEchoed ?? true,
    massStatus: options.massStatus ?? false,
    openOrdersMax: positive('openOrdersMax', options.openOrdersMax ?? FIX_OPEN_ORDERS_MAX),
    handlInst: options.handlInst ?? '1',
    orderFactsMax: positive('orderFactsMax', options.orderFactsMax ?? 100_000),
    sentMessagesMax: positive('sentMessagesMax', options.sentMessagesMax ?? 10_000),
    lookupOrder: options.lookupOrder,
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return value
}
