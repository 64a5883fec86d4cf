/**
 * The venue adapter interface: the only door to a venue. Only the executor calls it, and only after the I-100 gate
 * has passed and `order.send_requested` is durable (DESIGN §4).
 *
 * Every call resolves (never rejects) with a classified outcome, because the classification decides what the kernel
 * may conclude: a definite reject is venue evidence; a retryable error means the venue did not act; an unknown
 * outcome (timeout, disconnect) means the order may or may not exist and must be reconciled.
 *
 * Ordering contract (§6 ordered pipelining): the executor keeps up to callsPerInstrumentMax place and amend calls in
 * flight per venue×symbol, and as many cancels and closes again (src/kernel/in-flight.ts callsMaxFor), and issues
 * place/cancel/amend calls for one venue×symbol in decision order (src/runtime/executor.ts); it waits for no answer
 * between them. An adapter must deliver the calls it sends for one
 * venue×symbol to the venue in the order they were issued (the order of the method calls), e.g. by writing them in call
 * order on one ordered stream (one TCP connection, one FIX session). An adapter that sends calls concurrently over
 * independent requests (an HTTP client with a connection pool, say) breaks it and must serialise per venue×symbol
 * itself. A call answered without being sent (retryable: not connected; rejected: invalid) is not delivered and is
 * outside the contract: the kernel decides it again, after the calls issued meanwhile.
 */

import type { Units } from '../domain/decimal.ts'

export type Side = 'buy' | 'sell'
export type OrderType = 'limit' | 'market'
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'DAY'
export type Liquidity = 'maker' | 'taker'

export interface PlaceRequest {
  /** Deterministic id derived from the egress order id: a resend carries the same id, so the venue dedupes it. */
  clientOrderId: string
  account: string
  symbol: string
  side: Side
  type: OrderType
  qty: Units
  /** Absent for market orders. */
  price?: Units
  tif: TimeInForce
  postOnly: boolean
  reduceOnly: boolean
  /**
   * Set when this is not the order's first send attempt: it may have gone out under this client order id before (a
   * resend after the venue was proven not to hold it, say). A protocol that can say so does — FIX sends it with
   * PossResend=Y, so the venue checks the ClOrdID for a duplicate instead of taking a second order — and one that
   * cannot ignores it (the client order id is the same either way). Absent on a first attempt.
   */
  possibleResend?: true
}

export interface CancelRequest {
  /** Client order id of this cancel request (distinct per attempt is not required; venues key on origClientOrderId). */
  clientOrderId: string
  origClientOrderId: string
  account: string
  symbol: string
}

export interface AmendRequest {
  clientOrderId: string
  origClientOrderId: string
  account: string
  symbol: string
  qty: Units
  price?: Units
}

/** What a venue reports about one of its orders. */
export type VenueOrderStatus = 'open' | 'partially_filled' | 'filled' | 'canceled' | 'rejected' | 'expired'

export interface VenueOrder {
  clientOrderId: string
  venueOrderId: string
  account: string
  symbol: string
  side: Side
  qty: Units
  price?: Units
  cumQty: Units
  status: VenueOrderStatus
}

export interface VenueTrade {
  execId: string
  clientOrderId: string
  venueOrderId: string
  account: string
  symbol: string
  side: Side
  qty: Units
  price: Units
  fee: Units
  feeAsset: string
  liquidity: Liquidity
  venueTimeMs: number
}

export interface VenueBalance {
  account: string
  asset: string
  total: Units
}

export type ExecutionReportKind = 'new' | 'fill' | 'canceled' | 'rejected' | 'expired' | 'replaced' | 'cancel_rejected'

/** An asynchronous report from the venue. `execId` is unique per venue and is the inbox dedupe key. */
export interface ExecutionReport {
  venue: string
  execId: string
  kind: ExecutionReportKind
  clientOrderId: string
  /** For cancel/replace reports: the order they act on. */
  origClientOrderId?: string
  venueOrderId: string
  account: string
  symbol: string
  side: Side
  /** Cumulative filled quantity of the order after this report. */
  cumQty: Units
  /** For fills: this fill's quantity, price and fee. */
  lastQty?: Units
  lastPrice?: Units
  fee?: Units
  feeAsset?: string
  liquidity?: Liquidity
  /** For rejects: the venue's reason text. */
  reason?: string
  venueTimeMs: number
}

export type VenueOutcome<T> =
  | { kind: 'ok'; value: T }
  /** The venue definitely did not and will not act on the request. */
  | { kind: 'rejected'; reason: string }
  /** The venue did not act (e.g. 429 throttle, not connected before sending); safe to retry the same request later. */
  | { kind: 'retryable'; reason: string; retryAfterMs: number }
  /** The request may or may not have reached the venue (timeout, disconnect mid-request): reconcile, never assume. */
  | { kind: 'unknown'; reason: string }

export interface PlaceAck {
  venueOrderId: string
}

export interface VenueAdapter {
  readonly venue: string
  place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>>
  cancel(request: CancelRequest): Promise<VenueOutcome<{ accepted: true }>>
  amend(request: AmendRequest): Promise<VenueOutcome<{ accepted: true }>>
  /** The venue's view of one order; `null` inside ok means the venue says it does not know the id. */
  orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>>
  /**
   * The venue's open orders (open or partly filled), each under the client id the venue knows it by now (its last
   * applied amend's), with its current quantity, price and cumulative quantity: of `account`, or of every account
   * egress trades there when omitted (what the open-order sweep and bootstrap ask, src/runtime/open-order-listing.ts).
   * A venue that cannot list answers `unknown`; an order it leaves out is only read back.
   */
  openOrders(account?: string): Promise<VenueOutcome<VenueOrder[]>>
  trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>>
  /**
   * How far back `trades` is complete: it lists every trade of every order open or ended at most this long ago (older
   * ones it may have forgotten). Undefined: every trade ever. Reconcile compares only that window.
   */
  readonly tradeHistoryMs?: number | undefined
  /**
   * False when the venue has no trade query at all (a FIX order-entry session: fills arrive only as execution reports)
   * and `trades` always answers `unknown`. Reconcile then goes by the order status alone: it carries the venue's
   * cumulative quantity, and a part egress holds no fills for is booked as a synthetic fill with an alert
   * (RECONCILE_SYNTHETIC_FILL). Undefined: true, and reconcile waits until both queries answer.
   */
  readonly tradesQueryable?: boolean | undefined
  balances(account: string): Promise<VenueOutcome<VenueBalance[]>>
  /**
   * The longest this adapter waits for the venue's answer to one call (place, cancel, amend, orderStatus, trades)
   * before it answers `unknown` itself: its request timeout. The executor answers a call still out at twice this
   * `unknown` on its own (src/runtime/call-deadline.ts), so an adapter bug (a lost promise, a dead socket it did not
   * notice) cannot hold an order and its instrument for good. Undefined: the longest a venue's requestTimeoutMs may be
   * configured (src/config/venues.ts).
   */
  readonly requestTimeoutMs?: number | undefined
  /** The same for `openOrders`, which may take several requests (pages). Undefined: requestTimeoutMs. */
  readonly openOrdersTimeoutMs?: number | undefined
  /** Subscribes to execution reports; returns an unsubscribe function. */
  onReport(handler: (report: ExecutionReport) => void): () => void
  /**
   * Subscribes to news about an order that the venue sent but that is no execution report egress may apply: a status
   * report no query asked for (FIX: an Order Status ExecutionReport outside any OrderStatusRequest, or one whose
   * request had already timed out; FIX and JSONL: a report the adapter refused as unreadable, whose news is lost as
   * the venue never sends it again). A status report states the order's whole state, not an event, so applying it could
   * book a fill twice or guess one; dropping it could lose one. The gateway reads the order back instead (status and
   * trades through reconcile, which books what the venue holds exactly once). Handlers get the client order id the
   * venue named; returns an unsubscribe function. Optional: a venue without such messages leaves it out.
   */
  onReadBackWanted?(handler: (clientOrderId: string) => void): () => void
  /**
   * Subscribes to news that the venue's own reports for a span of time are lost for every order, not one: a FIX
   * session whose numbering restarted (ResetSeqNumFlag=Y at Logon, `resetOnLogon: "always"` or the venue's own reset),
   * after which the venue never resends what it sent before — a fill during the outage included. The gateway reads back
   * every order open at the venue (paced like onReadBackWanted's); orders in flight there end Unknown with the
   * connection and are reconciled. Returns an unsubscribe function. Optional.
   */
  onVenueReadBackWanted?(handler: () => void): () => void

  /**
   * Whether the venue's session is up (FIX: logged on; JSONL: connected), for venue health scoring
   * (src/runtime/venue-health-score.ts: a session down is CRITICAL). Optional: a venue without a session to tell of
   * leaves it out.
   */
  sessionActive?(): boolean
  /**
   * Whether `outcome` is an answer this adapter gave itself, without asking the venue: a bound of its own (JSONL:
   * requests awaiting an answer), a request it cannot put to the venue (FIX: an order's side and symbol unknown, a
   * request FIX cannot express), or no session to send on (JSONL not connected, FIX not logged on or not written). Such
   * an answer is no evidence about the venue, so venue health does not score it (src/runtime/venue-health-monitor.ts);
   * an adapter whose answers can say the link is down has sessionActive, which the session rule scores instead.
   * Optional: an adapter all of whose answers are the venue's (the sim) leaves it out.
   */
  answeredLocally?(outcome: VenueOutcome<unknown>): boolean
}

/** Whether `outcome` has a reason whose stable code (what leads it, before any `: detail`) is one of `codes`. */
export function reasonCodeIn(outcome: VenueOutcome<unknown>, codes: ReadonlySet<string>): boolean {
  if (outcome.kind === 'ok') return false
  const at = outcome.reason.indexOf(': ')
  return codes.has(at < 0 ? outcome.reason : outcome.reason.slice(0, at))
}
