/**
 * FixVenue: the `VenueAdapter` over one FIX initiator session.
 *
 * place → NewOrderSingle (ClOrdID = clientOrderId), cancel → OrderCancelRequest, amend → OrderCancelReplaceRequest,
 * orderStatus → OrderStatusRequest (answered by a status ExecutionReport: ExecTransType=3 in FIX 4.2, ExecType=I in 4.4), openOrders →
 * OrderMassStatusRequest when the counterpart supports it (FIX 4.4, `massStatus: true`). Trades and balances have no
 * order-entry FIX message and answer `unknown` with a reason that says so.
 *
 * Outcomes: an ExecutionReport that acknowledges (New, a fill, …) → ok; ExecType=8, OrderCancelReject, a
 * BusinessMessageReject or a session Reject of our message → rejected; not logged on or never written → retryable;
 * a timeout, a disconnect after writing, or a gap-fill over the request → unknown. Never a guess.
 *
 * A NewOrderSingle never creates a second order from egress's side: a place for a ClOrdID already in flight joins the
 * first request, one the venue has acknowledged answers ok without sending, and the session never replays messages.
 *
 * Ordering (the adapter contract in ../adapter.ts): honoured. Every request goes over the one session; its MsgSeqNum is
 * taken when the method is called, and the session writes messages to the socket in number order (its write chain;
 * node:net buffers what the socket cannot take yet), so calls for one symbol reach the venue in the order issued.
 *
 * This file sends requests and waits for their outcome, and follows the session's state; its parts:
 * venue-order-entry.ts (place/cancel/amend bodies and answers), venue-status.ts (status queries), venue-inbound.ts
 * (messages from the venue → requests and reports), venue-memory.ts (order facts and sent messages), venue-options.ts.
 */

import {
  reasonCodeIn,
  type AmendRequest,
  type CancelRequest,
  type ExecutionReport,
  type PlaceAck,
  type PlaceRequest,
  type VenueAdapter,
  type VenueBalance,
  type VenueOrder,
  type VenueOutcome,
  type VenueTrade,
} from '../adapter.ts'
import type { FixField, FixMessage } from './message.ts'
import { FIX_LOCAL_REASONS, FixReason, withDetail } from './reasons.ts'
import type { FixOrderFacts } from './reports.ts'
import { PendingRequests, type Answer, type Finish, type RequestOperation } from './requests.ts'
import { FixSession, type FixSessionState } from './session.ts'
import { resolveFixSessionOptions, type FixSessionOptions } from './session-options.ts'
import { MsgType, Tag } from './tags.ts'
import { formatUtcTimestamp } from './time.ts'
import type { RefusedField } from './unreadable.ts'
import { fixExecInst, fixOrdType, fixTimeInForce } from './values.ts'
import { FixVenueInbound, type FixVenueLog } from './venue-inbound.ts'
import { FixOrderMemory } from './venue-memory.ts'
import { resolveFixVenueOptions, type FixVenueOptions, type ResolvedFixVenueOptions } from './venue-options.ts'
import { amendAnswer, cancelAnswer, cancelReplaceBody, cancelRequestBody, factsMissing, newOrderSingleBody, placeAnswer, placeProblem } from './venue-order-entry.ts'
import { massStatusAnswer, massStatusBody, orderStatusAnswer, orderStatusBody, type StatusLookup } from './venue-status.ts'
import { StatusQueriesOwed } from './venue-status-owed.ts'

export type { FixVenueOptions } from './venue-options.ts'

export class FixVenue implements VenueAdapter {
  readonly venue: string
  /** FIX order entry has no trade query (`trades` answers unknown): reconcile goes by the order status alone. */
  readonly tradesQueryable = false
  /** Every request is answered `unknown` at its timeout (requests.ts): place/cancel/amend's, or a status query's. */
  readonly requestTimeoutMs: number
  readonly session: FixSession
  readonly #options: ResolvedFixVenueOptions
  readonly #clock: FixSessionOptions['clock']
  readonly #log: FixVenueLog
  readonly #pending: PendingRequests
  readonly #memory: FixOrderMemory
  readonly #inbound: FixVenueInbound
  readonly #placesInFlight = new Map<string, Promise<VenueOutcome<PlaceAck>>>()
  readonly #activeWaiters = new Set<() => void>()
  readonly #venueReadBackHandlers = new Set<() => void>()
  /** Status queries answered by ClOrdID alone: the one per order still owed an answer (venue-status-owed.ts says why). */
  readonly #statusOwed: StatusQueriesOwed
  #massStatusCount = 0
  #statusCount = 0

  constructor(options: FixVenueOptions) {
    const sessionOptions = resolveFixSessionOptions(options.session) // validates early, with the session's messages
    this.venue = options.venue
    this.#clock = options.session.clock
    this.#options = resolveFixVenueOptions(options)
    this.requestTimeoutMs = Math.max(this.#options.requestTimeoutMs, this.#options.statusTimeoutMs)
    this.#pending = new PendingRequests(this.#clock)
    this.#memory = new FixOrderMemory(this.#options)
    this.session = new FixSession(options.session, {
      onApplicationMessage: (message) => this.#inbound.onApplicationMessage(message),
      onMessageRefused: (message) => this.#inbound.onRefused(message),
      onSessionReject: ({ refSeqNum, reason }) => this.#inbound.onRejectOf(refSeqNum, withDetail(FixReason.sessionReject, reason), null),
      onMessagesAbandoned: (range) => this.#onAbandoned(range.beginSeqNum, range.endSeqNum, range.cause),
      onInboundSkipped: (range) => this.#onInboundSkipped(range),
      onStateChange: (state) => this.#onStateChange(state),
    })
    this.#log = (level, event, message) => sessionOptions.log({ level, event, session: this.session.id, message, venue: this.venue })
    this.#statusOwed = new StatusQueriesOwed({
      clock: this.#clock,
      writeOffMs: this.#options.statusOwedWriteOffMs,
      onWrittenOff: (query) =>
        this.#log('warn', 'fix.status_answer_written_off', `OrderStatusRequest MsgSeqNum ${query.seqNum} for ${query.clientOrderId} unanswered after ${this.#options.statusOwedWriteOffMs} ms: written off, the next query about the order may go`),
    })
    this.#inbound = new FixVenueInbound({
      venue: this.venue,
      clock: this.#clock,
      pending: this.#pending,
      memory: this.#memory,
      statusOwed: this.#statusOwed,
      beginString: this.session.beginString,
      statusAnswersKeyed: this.#statusAnswersKeyed(),
      log: this.#log,
      rejectMessage: (message, text, field) => this.session.rejectMessage(message, text, field),
    })
  }

  start(): void {
    this.session.start()
  }

  stop(): Promise<void> {
    return this.session.stop()
  }

  /** Whether the session is logged on now (venue health: a session down is CRITICAL). */
  sessionActive(): boolean {
    return this.session.state === 'active'
  }

  /** An order's side and symbol unknown, a request FIX cannot express, no session to send on: nothing reached the venue (VenueAdapter.answeredLocally). */
  answeredLocally(outcome: VenueOutcome<unknown>): boolean {
    return reasonCodeIn(outcome, FIX_LOCAL_REASONS)
  }

  /** Resolves true once the session is logged on, false if `timeoutMs` passes first. */
  whenActive(timeoutMs: number): Promise<boolean> {
    if (this.session.state === 'active') return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = (value: boolean): void => {
        this.#activeWaiters.delete(onActive)
        cancel()
        resolve(value)
      }
      const onActive = (): void => done(true)
      const cancel = this.#clock.schedule(timeoutMs, () => done(false))
      this.#activeWaiters.add(onActive)
    })
  }

  onReport(handler: (report: ExecutionReport) => void): () => void {
    return this.#inbound.onReport(handler)
  }

  /** Status reports no query took (an unsolicited Order Status, a late answer): the gateway reads the order back. */
  onReadBackWanted(handler: (clientOrderId: string) => void): () => void {
    return this.#inbound.onReadBackWanted(handler)
  }

  /**
   * The numbering restarted at a Logon (ResetSeqNumFlag=Y): the venue never resends what it sent before, so every
   * order's news of the outage may be lost; the gateway reads back every order open here (adapter.ts).
   */
  onVenueReadBackWanted(handler: () => void): () => void {
    this.#venueReadBackHandlers.add(handler)
    return () => this.#venueReadBackHandlers.delete(handler)
  }

  // ── requests ─────────────────────────────────────────────────────────────────────────────────────────────────────

  place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    const inFlight = this.#placesInFlight.get(request.clientOrderId)
    if (inFlight !== undefined) return inFlight
    const known = this.#memory.remembered(request.clientOrderId)
    if (known?.venueOrderId !== undefined) return Promise.resolve({ kind: 'ok', value: { venueOrderId: known.venueOrderId } })
    const invalid = placeProblem(request)
    if (invalid !== null) return Promise.resolve({ kind: 'rejected', reason: withDetail(FixReason.invalidRequest, invalid) })
    const execInst = fixExecInst(request)
    const facts: FixOrderFacts = {
      clientOrderId: request.clientOrderId,
      account: request.account,
      symbol: request.symbol,
      side: request.side,
      qty: request.qty,
      ordType: fixOrdType(request.type),
      timeInForce: fixTimeInForce(request.tif),
      ...(request.price === undefined ? {} : { price: request.price }),
      ...(execInst === undefined ? {} : { execInst }),
    }
    this.#memory.remember(facts)
    const body = newOrderSingleBody(request, facts, { handlInst: this.#options.handlInst, nowMs: this.#clock.nowMs() })
    // A place that may have gone out before under this ClOrdID says so (PossResend=Y): the venue checks the id for a
    // duplicate rather than taking a second order (adapter.ts PlaceRequest.possibleResend).
    const sendOptions = request.possibleResend === true ? { possResend: true } : {}
    const outcome = this.#request<PlaceAck>({
      operation: 'place',
      key: request.clientOrderId,
      msgType: MsgType.NewOrderSingle,
      body,
      timeoutMs: this.#options.requestTimeoutMs,
      answer: placeAnswer,
      sendOptions,
    }).then((result) => {
      this.#placesInFlight.delete(request.clientOrderId)
      return result
    })
    this.#placesInFlight.set(request.clientOrderId, outcome)
    return outcome
  }

  cancel(request: CancelRequest): Promise<VenueOutcome<{ accepted: true }>> {
    const facts = this.#memory.factsOf(request.origClientOrderId)
    if (facts === undefined) return Promise.resolve(factsMissing(request.origClientOrderId, this.#options.requestTimeoutMs))
    const body = cancelRequestBody(request, facts, { nowMs: this.#clock.nowMs() })
    return this.#request({ operation: 'cancel', key: request.clientOrderId, msgType: MsgType.OrderCancelRequest, body, timeoutMs: this.#options.requestTimeoutMs, answer: cancelAnswer })
  }

  amend(request: AmendRequest): Promise<VenueOutcome<{ accepted: true }>> {
    const facts = this.#memory.factsOf(request.origClientOrderId)
    if (facts === undefined) return Promise.resolve(factsMissing(request.origClientOrderId, this.#options.requestTimeoutMs))
    const price = request.price ?? facts.price
    if (request.qty <= 0n || (facts.ordType === '2' && price === undefined)) {
      return Promise.resolve({ kind: 'rejected', reason: withDetail(FixReason.invalidRequest, 'amend needs qty > 0 and, for a limit order, a price') })
    }
    this.#memory.remember({ ...facts, clientOrderId: request.clientOrderId, qty: request.qty, ...(price === undefined ? {} : { price }) })
    const body = cancelReplaceBody(request, facts, { price, handlInst: this.#options.handlInst, nowMs: this.#clock.nowMs() })
    return this.#request({ operation: 'amend', key: request.clientOrderId, msgType: MsgType.OrderCancelReplaceRequest, body, timeoutMs: this.#options.requestTimeoutMs, answer: amendAnswer })
  }

  orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    const facts = this.#memory.factsOf(clientOrderId)
    if (facts === undefined) {
      return Promise.resolve({ kind: 'unknown', reason: withDetail(FixReason.orderFactsMissing, `no side/symbol known for ${clientOrderId}`) })
    }
    const keyed = this.#statusAnswersKeyed()
    if (!keyed) {
      const owed = this.#statusOwed.owedFor(clientOrderId)
      if (owed !== undefined || this.#statusOwed.full) {
        const why = owed !== undefined
          ? `the OrderStatusRequest MsgSeqNum ${owed.seqNum} for ${clientOrderId} is still unanswered (it is written off once ${this.#options.statusOwedWriteOffMs} ms old), and its answer names only the order, like a newer query's`
          : `${this.#statusOwed.size} status queries are owed answers already`
        return Promise.resolve({ kind: 'unknown', reason: withDetail(FixReason.statusAnswerOwed, why) })
      }
    }
    const requestId = this.session.beginString === 'FIX.4.2' ? undefined : `ST-${this.#clock.nowMs()}-${++this.#statusCount}`
    const answer = orderStatusAnswer(clientOrderId, requestId, this.#statusLookup())
    const body = orderStatusBody(clientOrderId, facts, requestId)
    return this.#request({
      operation: 'status',
      key: clientOrderId,
      msgType: MsgType.OrderStatusRequest,
      body,
      timeoutMs: this.#options.statusTimeoutMs,
      answer,
      onSent: (seqNum) => {
        if (!keyed) this.#statusOwed.sent(clientOrderId, seqNum, requestId)
      },
    })
  }

  openOrders(account?: string): Promise<VenueOutcome<VenueOrder[]>> {
    if (!this.#options.massStatus || this.session.beginString === 'FIX.4.2') {
      return Promise.resolve({ kind: 'unknown', reason: withDetail(FixReason.openOrdersUnsupported, 'OrderMassStatusRequest not enabled for this venue (massStatus) or not in FIX 4.2') })
    }
    const requestId = `MS-${this.#clock.nowMs()}-${++this.#massStatusCount}`
    const answer = massStatusAnswer(account, this.#statusLookup(), this.#options.openOrdersMax)
    return this.#request({
      operation: 'mass_status',
      key: requestId,
      msgType: MsgType.OrderMassStatusRequest,
      body: massStatusBody(requestId, account),
      timeoutMs: this.#options.statusTimeoutMs,
      answer,
    })
  }

  /** What a status answer reads egress's facts with, and refuses an unreadable answer with, as inbound reports are. */
  #statusLookup(): StatusLookup {
    const refuse = (message: FixMessage, why: string, field: RefusedField | undefined): void => {
      this.#log('error', 'fix.report_unreadable', `status answer refused (${why}): ${message.toString()}`)
      this.session.rejectMessage(message, why, field)
    }
    const unnamed = (message: FixMessage, why: string): void => {
      this.#log('error', 'fix.open_order_unnamed', `open orders not taken as listed (${why}): ${message.toString()}`)
    }
    return { factsOf: (id) => this.#memory.factsOf(id), clock: this.#clock, refuse, unnamed }
  }

  /**
   * Status answers are told apart by the OrdStatusReqID they echo (FIX 4.4, unless the venue is configured as not
   * echoing it); otherwise they name only the order, and venue-status-owed.ts keeps one query per order out.
   */
  #statusAnswersKeyed(): boolean {
    return this.session.beginString !== 'FIX.4.2' && this.#options.statusReqIdEchoed
  }

  trades(_options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    return Promise.resolve({ kind: 'unknown', reason: withDetail(FixReason.tradesUnsupported, 'an order-entry FIX session carries no trade query; fills arrive as ExecutionReports') })
  }

  balances(_account: string): Promise<VenueOutcome<VenueBalance[]>> {
    return Promise.resolve({ kind: 'unknown', reason: withDetail(FixReason.balancesUnsupported, 'FIX 4.2/4.4 order entry has no balance query') })
  }

  /** Sends one request message and waits for the answer `answer` recognises, a reject, a timeout or a disconnect. */
  #request<T>(request: FixRequest<T>): Promise<VenueOutcome<T>> {
    const { operation, key, msgType, body, timeoutMs, answer, onSent, sendOptions = {} } = request
    const ticket = this.session.send(msgType, body, sendOptions)
    if (ticket.kind === 'not_logged_on') {
      return Promise.resolve({ kind: 'retryable', reason: withDetail(FixReason.notLoggedOn, ticket.reason), retryAfterMs: 1_000 })
    }
    onSent?.(ticket.seqNum)
    const orig = body.find(([tag]) => tag === Tag.OrigClOrdID)?.[1]
    this.#memory.rememberSent(ticket.seqNum, { msgType, clientOrderId: key, origClientOrderId: orig, sendingTime: formatUtcTimestamp(this.#clock.nowMs()) })
    const { promise, request: pending, complete } = this.#pending.open<T>({ operation, key, seqNum: ticket.seqNum, timeoutMs })
    pending.onAnswer = (message) => {
      const finish = answer(message)
      if (finish === null) return
      if (finish.kind === 'ok') complete(finish.value)
      else if (finish.kind === 'rejected') pending.reject(finish.reason)
      else pending.abandon(finish.kind, finish.reason)
    }
    void ticket.written.then((written) => {
      if (written) pending.written = true
      else {
        this.#statusOwed.abandoned(ticket.seqNum, ticket.seqNum)
        pending.abandon('retryable', withDetail(FixReason.notWritten, undefined))
      }
    })
    return promise.then(toOutcome)
  }

  // ── the session's events ─────────────────────────────────────────────────────────────────────────────────────────

  #onAbandoned(beginSeqNum: number, endSeqNum: number, cause: 'not_written' | 'gap_filled'): void {
    this.#memory.forgetSentRange(beginSeqNum, endSeqNum)
    this.#statusOwed.abandoned(beginSeqNum, endSeqNum)
    for (const request of this.#pending.inSeqNumRange(beginSeqNum, endSeqNum)) {
      if (cause === 'not_written') request.abandon('retryable', withDetail(FixReason.notWritten, undefined))
      // Conservative: a compliant venue drops a gap-filled message, but only reconciliation can prove it did.
      else request.abandon('unknown', withDetail(FixReason.gapFilled, `MsgSeqNum ${request.seqNum} gap-filled on the venue's ResendRequest`))
    }
  }

  /** The venue's messages skipped unread (a SequenceReset, a GapFill over our ResendRequest): every open order is read back. */
  #onInboundSkipped(range: { fromSeqNum: number; toSeqNum: number; how: 'reset' | 'gap_fill' }): void {
    const how = range.how === 'reset' ? 'SequenceReset-Reset' : 'SequenceReset-GapFill answering our ResendRequest'
    this.#log('warn', 'fix.inbound_skipped', `the venue's MsgSeqNum ${range.fromSeqNum}..${range.toSeqNum} skipped unread (${how}): whatever they said is not coming, so every order open here is read back`)
    this.#readBackVenue()
  }

  #readBackVenue(): void {
    for (const handler of [...this.#venueReadBackHandlers]) {
      try {
        handler()
      } catch (error: unknown) {
        this.#log('error', 'fix.read_back_handler_error', `a venue read-back handler threw: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }

  #onStateChange(state: FixSessionState): void {
    if (state === 'active') {
      if (this.session.numberingRestarted) {
        // Numbering restarted: old numbers mean nothing, and what was sent under them is never answered now; nor is what
        // the venue sent under its old numbers ever resent, so every order open here is read back. Requests still
        // waiting (the venue reset during the session) keep waiting for their answers by ClOrdID, not by number.
        this.#memory.forgetSent()
        this.#pending.forgetSeqNums()
        this.#statusOwed.clear()
        this.#log('warn', 'fix.numbering_restarted', 'sequence numbers restarted at Logon: the venue resends nothing from before, so every order open here is read back')
        this.#readBackVenue()
      }
      for (const waiter of [...this.#activeWaiters]) waiter()
      return
    }
    if (state === 'logon_sent' || state === 'connecting' || state === 'waiting_schedule') return
    for (const request of this.#pending.all()) {
      if (request.written) request.abandon('unknown', withDetail(FixReason.disconnected, `session ${state} before the answer`))
    }
  }
}

/** One request message for #request: what to send, how long to wait, and the answer that completes it. */
interface FixRequest<T> {
  operation: RequestOperation
  /** What answers are matched by: the ClOrdID (place, cancel, amend, status) or the MassStatusReqID. */
  key: string
  msgType: string
  body: FixField[]
  timeoutMs: number
  /** Recognises the message that completes the request (null: not this one's answer). */
  answer: Answer<T>
  /** Called with the MsgSeqNum once the session has taken the message (not yet written). */
  onSent?: (seqNum: number) => void
  /** PossResend=Y for a NewOrderSingle that may have gone out before (adapter.ts PlaceRequest.possibleResend). */
  sendOptions?: { possResend?: boolean }
}

function toOutcome<T>(finish: Finish<T>): VenueOutcome<T> {
  if (finish.kind === 'retryable') return { kind: 'retryable', reason: finish.reason, retryAfterMs: 1_000 }
  return finish
}
