/**
 * FixVenue: the `VenueAdapter` over one FIX initiator session.
 *
 * place → NewOrderSingle (ClOrdID = clientOrderId), cancel → OrderCancelRequest, amend → OrderCancelReplaceRequest,
 * orderStatus → OrderStatusRequest (answered by an ExecutionReport with ExecType=I), openOrders →
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
 */

import type { Units } from '../../domain/decimal.ts'
import type {
  AmendRequest,
  CancelRequest,
  ExecutionReport,
  PlaceAck,
  PlaceRequest,
  VenueAdapter,
  VenueBalance,
  VenueOrder,
  VenueOutcome,
  VenueTrade,
} from '../adapter.ts'
import type { FixLogLevel } from './log.ts'
import type { FixField, FixMessage } from './message.ts'
import { parsePositiveInt } from './message.ts'
import { FixReason, withDetail } from './reasons.ts'
import { cancelRejectReason, isStatusReport, mapCancelReject, mapExecutionReport, mapStatusReport, type FixOrderFacts } from './reports.ts'
import { PendingRequests, type Finish, type PendingRequest, type RequestOperation } from './requests.ts'
import { FixSession, type FixSessionState } from './session.ts'
import { resolveFixSessionOptions, type FixSessionOptions } from './session-options.ts'
import { MsgType, Tag } from './tags.ts'
import { formatUtcTimestamp } from './time.ts'
import { fixOrdType, fixSide, fixTimeInForce, formatFixDecimal, parseFixDecimal } from './values.ts'

export interface FixVenueOptions {
  /** The venue name reports carry. */
  venue: string
  session: FixSessionOptions
  /** Wait for an answer to place/cancel/amend before answering `unknown`. */
  requestTimeoutMs?: number
  /** Wait for an OrderStatusRequest / OrderMassStatusRequest answer before answering `unknown`. */
  statusTimeoutMs?: number
  /** The counterpart answers OrderMassStatusRequest (35=AF, FIX 4.4). */
  massStatus?: boolean
  /** HandlInst (21) on orders: 1 automated, no broker intervention (default). */
  handlInst?: '1' | '2' | '3'
  /** Orders remembered (for cancel/status, which FIX makes carry side and symbol); oldest forgotten first. */
  orderFactsMax?: number
  /** Sent messages remembered by MsgSeqNum (to match Reject/BusinessMessageReject); oldest forgotten first. */
  sentMessagesMax?: number
  /** The runtime's order projection: consulted when an order is not in the adapter's memory (after a restart). */
  lookupOrder?: (clientOrderId: string) => FixOrderFacts | undefined
}

interface SentMessage {
  msgType: string
  clientOrderId: string
  /** For cancels and amends: the order they act on. */
  origClientOrderId: string | undefined
  sendingTime: string
}

type Answer<T> = (message: FixMessage) => Finish<T> | null

export class FixVenue implements VenueAdapter {
  readonly venue: string
  readonly session: FixSession
  readonly #options: Required<Omit<FixVenueOptions, 'lookupOrder' | 'session'>> & { lookupOrder: FixVenueOptions['lookupOrder'] | undefined }
  readonly #clock: FixSessionOptions['clock']
  readonly #log: (level: FixLogLevel, event: string, message: string) => void
  readonly #pending: PendingRequests
  readonly #facts = new Map<string, FixOrderFacts>()
  readonly #sent = new Map<number, SentMessage>()
  readonly #placesInFlight = new Map<string, Promise<VenueOutcome<PlaceAck>>>()
  readonly #reportHandlers = new Set<(report: ExecutionReport) => void>()
  readonly #activeWaiters = new Set<() => void>()
  #massStatusCount = 0

  constructor(options: FixVenueOptions) {
    const sessionOptions = resolveFixSessionOptions(options.session) // validates early, with the session's messages
    this.venue = options.venue
    this.#clock = options.session.clock
    this.#options = {
      venue: options.venue,
      requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs ?? 10_000),
      statusTimeoutMs: positive('statusTimeoutMs', options.statusTimeoutMs ?? 5_000),
      massStatus: options.massStatus ?? false,
      handlInst: options.handlInst ?? '1',
      orderFactsMax: positive('orderFactsMax', options.orderFactsMax ?? 100_000),
      sentMessagesMax: positive('sentMessagesMax', options.sentMessagesMax ?? 10_000),
      lookupOrder: options.lookupOrder,
    }
    this.#pending = new PendingRequests(this.#clock)
    this.session = new FixSession(options.session, {
      onApplicationMessage: (message) => this.#onApplicationMessage(message),
      onSessionReject: ({ refSeqNum, reason }) => this.#onRejectOf(refSeqNum, withDetail(FixReason.sessionReject, reason), null),
      onMessagesAbandoned: (range) => this.#onAbandoned(range.beginSeqNum, range.endSeqNum, range.cause),
      onStateChange: (state) => this.#onStateChange(state),
    })
    this.#log = (level, event, message) => sessionOptions.log({ level, event, session: this.session.id, message, venue: this.venue })
  }

  start(): void {
    this.session.start()
  }

  stop(): Promise<void> {
    return this.session.stop()
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
    this.#reportHandlers.add(handler)
    return () => this.#reportHandlers.delete(handler)
  }

  // ── requests ─────────────────────────────────────────────────────────────────────────────────────────────────────

  place(request: PlaceRequest): Promise<VenueOutcome<PlaceAck>> {
    const inFlight = this.#placesInFlight.get(request.clientOrderId)
    if (inFlight !== undefined) return inFlight
    const known = this.#facts.get(request.clientOrderId)
    if (known?.venueOrderId !== undefined) return Promise.resolve({ kind: 'ok', value: { venueOrderId: known.venueOrderId } })
    const invalid = placeProblem(request)
    if (invalid !== null) return Promise.resolve({ kind: 'rejected', reason: withDetail(FixReason.invalidRequest, invalid) })
    const facts: FixOrderFacts = {
      clientOrderId: request.clientOrderId,
      account: request.account,
      symbol: request.symbol,
      side: request.side,
      qty: request.qty,
      ordType: fixOrdType(request.type),
      timeInForce: fixTimeInForce(request.tif),
      ...(request.price === undefined ? {} : { price: request.price }),
    }
    this.#remember(facts)
    const body: FixField[] = [[Tag.ClOrdID, request.clientOrderId]]
    if (request.account !== '') body.push([Tag.Account, request.account])
    body.push([Tag.HandlInst, this.#options.handlInst])
    const execInst = [request.postOnly ? '6' : null, request.reduceOnly ? 'E' : null].filter((v) => v !== null).join(' ')
    if (execInst !== '') body.push([Tag.ExecInst, execInst])
    body.push(
      [Tag.Symbol, request.symbol],
      [Tag.Side, fixSide(request.side)],
      [Tag.TransactTime, formatUtcTimestamp(this.#clock.nowMs())],
      [Tag.OrderQty, formatFixDecimal(request.qty)],
      [Tag.OrdType, facts.ordType],
    )
    if (request.price !== undefined) body.push([Tag.Price, formatFixDecimal(request.price)])
    body.push([Tag.TimeInForce, facts.timeInForce])
    const outcome = this.#request<PlaceAck>('place', request.clientOrderId, MsgType.NewOrderSingle, body, this.#options.requestTimeoutMs, (message) =>
      placeAnswer(message),
    ).then((result) => {
      this.#placesInFlight.delete(request.clientOrderId)
      return result
    })
    this.#placesInFlight.set(request.clientOrderId, outcome)
    return outcome
  }

  cancel(request: CancelRequest): Promise<VenueOutcome<{ accepted: true }>> {
    const facts = this.#factsOf(request.origClientOrderId)
    if (facts === undefined) return Promise.resolve(this.#factsMissing(request.origClientOrderId))
    const body: FixField[] = [[Tag.OrigClOrdID, request.origClientOrderId]]
    if (facts.venueOrderId !== undefined && facts.venueOrderId !== '') body.push([Tag.OrderID, facts.venueOrderId])
    body.push([Tag.ClOrdID, request.clientOrderId])
    if (request.account !== '') body.push([Tag.Account, request.account])
    body.push(
      [Tag.Symbol, request.symbol],
      [Tag.Side, fixSide(facts.side)],
      [Tag.TransactTime, formatUtcTimestamp(this.#clock.nowMs())],
      [Tag.OrderQty, formatFixDecimal(facts.qty)],
    )
    return this.#request('cancel', request.clientOrderId, MsgType.OrderCancelRequest, body, this.#options.requestTimeoutMs, cancelAnswer)
  }

  amend(request: AmendRequest): Promise<VenueOutcome<{ accepted: true }>> {
    const facts = this.#factsOf(request.origClientOrderId)
    if (facts === undefined) return Promise.resolve(this.#factsMissing(request.origClientOrderId))
    const price = request.price ?? facts.price
    if (request.qty <= 0n || (facts.ordType === '2' && price === undefined)) {
      return Promise.resolve({ kind: 'rejected', reason: withDetail(FixReason.invalidRequest, 'amend needs qty > 0 and, for a limit order, a price') })
    }
    this.#remember({ ...facts, clientOrderId: request.clientOrderId, qty: request.qty, ...(price === undefined ? {} : { price }) })
    const body: FixField[] = []
    if (facts.venueOrderId !== undefined && facts.venueOrderId !== '') body.push([Tag.OrderID, facts.venueOrderId])
    body.push([Tag.OrigClOrdID, request.origClientOrderId], [Tag.ClOrdID, request.clientOrderId])
    if (request.account !== '') body.push([Tag.Account, request.account])
    body.push(
      [Tag.HandlInst, this.#options.handlInst],
      [Tag.Symbol, request.symbol],
      [Tag.Side, fixSide(facts.side)],
      [Tag.TransactTime, formatUtcTimestamp(this.#clock.nowMs())],
      [Tag.OrderQty, formatFixDecimal(request.qty)],
      [Tag.OrdType, facts.ordType],
    )
    if (price !== undefined) body.push([Tag.Price, formatFixDecimal(price)])
    body.push([Tag.TimeInForce, facts.timeInForce])
    return this.#request('amend', request.clientOrderId, MsgType.OrderCancelReplaceRequest, body, this.#options.requestTimeoutMs, amendAnswer)
  }

  orderStatus(clientOrderId: string): Promise<VenueOutcome<VenueOrder | null>> {
    const facts = this.#factsOf(clientOrderId)
    if (facts === undefined) {
      return Promise.resolve({ kind: 'unknown', reason: withDetail(FixReason.orderFactsMissing, `no side/symbol known for ${clientOrderId}`) })
    }
    const body: FixField[] = []
    if (facts.venueOrderId !== undefined && facts.venueOrderId !== '') body.push([Tag.OrderID, facts.venueOrderId])
    body.push([Tag.ClOrdID, clientOrderId])
    if (facts.account !== '') body.push([Tag.Account, facts.account])
    body.push([Tag.Symbol, facts.symbol], [Tag.Side, fixSide(facts.side)])
    return this.#request<VenueOrder | null>('status', clientOrderId, MsgType.OrderStatusRequest, body, this.#options.statusTimeoutMs, (message) => {
      if (!isStatusReport(message) || message.has(Tag.MassStatusReqID)) return null
      const mapped = mapStatusReport(message, this.#factsOf(clientOrderId), this.#clock.nowMs())
      if (mapped.kind === 'mapped') return { kind: 'ok', value: mapped.value }
      return { kind: 'unknown', reason: `unreadable status answer: ${mapped.why}` }
    })
  }

  openOrders(account?: string): Promise<VenueOutcome<VenueOrder[]>> {
    if (!this.#options.massStatus || this.session.beginString === 'FIX.4.2') {
      return Promise.resolve({ kind: 'unknown', reason: withDetail(FixReason.openOrdersUnsupported, 'OrderMassStatusRequest not enabled for this venue (massStatus) or not in FIX 4.2') })
    }
    const requestId = `MS-${this.#clock.nowMs()}-${++this.#massStatusCount}`
    const body: FixField[] = [[Tag.MassStatusReqID, requestId], [Tag.MassStatusReqType, '7']]
    if (account !== undefined && account !== '') body.push([Tag.Account, account])
    const orders: VenueOrder[] = []
    return this.#request<VenueOrder[]>('mass_status', requestId, MsgType.OrderMassStatusRequest, body, this.#options.statusTimeoutMs, (message) => {
      if (message.has(Tag.ClOrdID)) {
        const mapped = mapStatusReport(message, this.#factsOf(message.get(Tag.ClOrdID) ?? ''), this.#clock.nowMs())
        if (mapped.kind === 'mapped' && mapped.value !== null && isOpen(mapped.value) && (account === undefined || account === '' || mapped.value.account === account)) {
          orders.push(mapped.value)
        }
      }
      return message.get(Tag.LastRptRequested) === 'Y' ? { kind: 'ok', value: orders } : null
    })
  }

  trades(_options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    return Promise.resolve({ kind: 'unknown', reason: withDetail(FixReason.tradesUnsupported, 'an order-entry FIX session carries no trade query; fills arrive as ExecutionReports') })
  }

  balances(_account: string): Promise<VenueOutcome<VenueBalance[]>> {
    return Promise.resolve({ kind: 'unknown', reason: withDetail(FixReason.balancesUnsupported, 'FIX 4.2/4.4 order entry has no balance query') })
  }

  /** Sends one request message and waits for the answer `answer` recognises, a reject, a timeout or a disconnect. */
  #request<T>(operation: RequestOperation, key: string, msgType: string, body: FixField[], timeoutMs: number, answer: Answer<T>): Promise<VenueOutcome<T>> {
    const ticket = this.session.send(msgType, body)
    if (ticket.kind === 'not_logged_on') {
      return Promise.resolve({ kind: 'retryable', reason: withDetail(FixReason.notLoggedOn, ticket.reason), retryAfterMs: 1_000 })
    }
    const orig = body.find(([tag]) => tag === Tag.OrigClOrdID)?.[1]
    this.#rememberSent(ticket.seqNum, { msgType, clientOrderId: key, origClientOrderId: orig, sendingTime: formatUtcTimestamp(this.#clock.nowMs()) })
    const { promise, request, complete } = this.#pending.open<T>({ operation, key, seqNum: ticket.seqNum, timeoutMs })
    request.onAnswer = (message) => {
      const finish = answer(message)
      if (finish === null) return
      if (finish.kind === 'ok') complete(finish.value)
      else if (finish.kind === 'rejected') request.reject(finish.reason)
      else request.abandon(finish.kind, finish.reason)
    }
    void ticket.written.then((written) => {
      if (written) request.written = true
      else request.abandon('retryable', withDetail(FixReason.notWritten, undefined))
    })
    return promise.then(toOutcome)
  }

  // ── inbound ──────────────────────────────────────────────────────────────────────────────────────────────────────

  #onApplicationMessage(message: FixMessage): void {
    switch (message.msgType) {
      case MsgType.ExecutionReport:
        return this.#onExecutionReport(message)
      case MsgType.OrderCancelReject:
        return this.#onCancelReject(message)
      case MsgType.BusinessMessageReject: {
        const refSeqNum = parsePositiveInt(message.get(Tag.RefSeqNum))
        const reason = withDetail(FixReason.businessReject, [message.get(Tag.BusinessRejectReason) && `BusinessRejectReason ${message.get(Tag.BusinessRejectReason)}`, message.get(Tag.Text)].filter(Boolean).join(': '))
        this.#log('warn', 'fix.business_reject', `MsgSeqNum ${message.get(Tag.RefSeqNum)} (${message.get(Tag.RefMsgType)}) refused: ${reason}`)
        if (!Number.isNaN(refSeqNum)) this.#onRejectOf(refSeqNum, reason, message)
        return
      }
      default:
        this.#log('debug', 'fix.message_ignored', `application message ${message.msgType} is not used by egress`)
    }
  }

  #onExecutionReport(message: FixMessage): void {
    const clientOrderId = message.get(Tag.ClOrdID) ?? ''
    const massId = message.get(Tag.MassStatusReqID)
    if (massId !== undefined) return this.#offer(massId, ['mass_status'], message)
    if (isStatusReport(message)) return this.#offer(clientOrderId, ['status'], message)
    const facts = this.#factsOf(clientOrderId) ?? this.#factsOf(message.get(Tag.OrigClOrdID) ?? '')
    const mapped = mapExecutionReport(this.venue, message, facts, this.#clock.nowMs())
    if (mapped.kind === 'invalid') {
      this.#log('error', 'fix.report_unreadable', `ExecutionReport refused (${mapped.why}): ${message.toString()}`)
      this.session.rejectMessage(message, mapped.why, mapped.tag)
      return
    }
    if (mapped.kind === 'ignored') this.#log(/operator/.test(mapped.why) ? 'error' : 'debug', 'fix.report_ignored', `${mapped.why}: ${message.toString()}`)
    if (mapped.kind === 'mapped') this.#learn(mapped.value, message)
    this.#offer(clientOrderId, ['place', 'cancel', 'amend'], message)
    if (mapped.kind === 'mapped') this.#emit(mapped.value)
  }

  #onCancelReject(message: FixMessage): void {
    const clientOrderId = message.get(Tag.ClOrdID) ?? ''
    const facts = this.#factsOf(message.get(Tag.OrigClOrdID) ?? '') ?? this.#factsOf(clientOrderId)
    const reason = withDetail(FixReason.cancelRejected, cancelRejectReason(message))
    for (const request of this.#pending.byKey(clientOrderId, ['cancel', 'amend'])) request.reject(reason)
    const mapped = mapCancelReject(this.venue, message, facts, this.#clock.nowMs())
    if (mapped.kind === 'mapped') this.#emit(mapped.value)
    else this.#log('error', 'fix.report_unreadable', `OrderCancelReject not reportable (${mapped.why}): ${message.toString()}`)
  }

  /** A session Reject or BusinessMessageReject of our message `refSeqNum`: the request it carried is refused. */
  #onRejectOf(refSeqNum: number, reason: string, message: FixMessage | null): void {
    this.#pending.bySeqNum(refSeqNum)?.reject(reason)
    const sent = this.#sent.get(refSeqNum)
    if (sent === undefined) return
    const kind = sent.msgType === MsgType.NewOrderSingle ? 'rejected' : sent.msgType === MsgType.OrderCancelRequest || sent.msgType === MsgType.OrderCancelReplaceRequest ? 'cancel_rejected' : null
    const facts = this.#factsOf(sent.origClientOrderId ?? sent.clientOrderId) ?? this.#factsOf(sent.clientOrderId)
    if (kind === null || facts === undefined) return
    // Reported too, so a request that already timed out (outcome unknown) still learns the definite answer.
    const at = message?.get(Tag.OrigSendingTime) ?? message?.get(Tag.SendingTime) ?? sent.sendingTime
    this.#emit({
      venue: this.venue,
      execId: `reject:${sent.clientOrderId}:${refSeqNum}:${at}`,
      kind,
      clientOrderId: sent.clientOrderId,
      ...(sent.origClientOrderId === undefined ? {} : { origClientOrderId: sent.origClientOrderId }),
      venueOrderId: facts.venueOrderId ?? '',
      account: facts.account,
      symbol: facts.symbol,
      side: facts.side,
      cumQty: 0n,
      reason,
      venueTimeMs: this.#clock.nowMs(),
    })
  }

  #onAbandoned(beginSeqNum: number, endSeqNum: number, cause: 'not_written' | 'gap_filled'): void {
    for (const request of this.#pending.all()) {
      if (request.seqNum < beginSeqNum || request.seqNum > endSeqNum) continue
      if (cause === 'not_written') request.abandon('retryable', withDetail(FixReason.notWritten, undefined))
      // Conservative: a compliant venue drops a gap-filled message, but only reconciliation can prove it did.
      else request.abandon('unknown', withDetail(FixReason.gapFilled, `MsgSeqNum ${request.seqNum} gap-filled on the venue's ResendRequest`))
    }
  }

  #onStateChange(state: FixSessionState): void {
    if (state === 'active') {
      if (this.session.seqNums?.nextSenderSeqNum === 2) this.#sent.clear() // numbering restarted: old numbers mean nothing
      for (const waiter of [...this.#activeWaiters]) waiter()
      return
    }
    if (state === 'logon_sent' || state === 'connecting' || state === 'waiting_schedule') return
    for (const request of this.#pending.all()) {
      if (request.written) request.abandon('unknown', withDetail(FixReason.disconnected, `session ${state} before the answer`))
    }
  }

  #offer(key: string, operations: readonly RequestOperation[], message: FixMessage): void {
    for (const request of this.#pending.byKey(key, operations)) request.onAnswer(message)
  }

  #emit(report: ExecutionReport): void {
    for (const handler of [...this.#reportHandlers]) {
      try {
        handler(report)
      } catch (error: unknown) {
        this.#log('error', 'fix.report_handler_error', `a report handler threw: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }

  // ── memory ───────────────────────────────────────────────────────────────────────────────────────────────────────

  #factsOf(clientOrderId: string): FixOrderFacts | undefined {
    if (clientOrderId === '') return undefined
    return this.#facts.get(clientOrderId) ?? this.#options.lookupOrder?.(clientOrderId)
  }

  #factsMissing(clientOrderId: string): VenueOutcome<never> {
    return {
      kind: 'retryable',
      reason: withDetail(FixReason.orderFactsMissing, `FIX needs the side and symbol of ${clientOrderId}; configure lookupOrder`),
      retryAfterMs: this.#options.requestTimeoutMs,
    }
  }

  #remember(facts: FixOrderFacts): void {
    this.#facts.delete(facts.clientOrderId)
    this.#facts.set(facts.clientOrderId, facts)
    evictOldest(this.#facts, this.#options.orderFactsMax)
  }

  #rememberSent(seqNum: number, sent: SentMessage): void {
    this.#sent.set(seqNum, sent)
    evictOldest(this.#sent, this.#options.sentMessagesMax)
  }

  /** Keeps the venue order id (and, for replaced orders, the new id) so later cancels and queries can name it. */
  #learn(report: ExecutionReport, message: FixMessage): void {
    if (report.kind === 'rejected') return
    const known = this.#facts.get(report.clientOrderId) ?? (report.origClientOrderId === undefined ? undefined : this.#facts.get(report.origClientOrderId))
    if (known === undefined) return
    const qty = report.kind === 'replaced' ? (parseQty(message) ?? known.qty) : known.qty
    if (known.clientOrderId === report.clientOrderId || report.kind === 'replaced') {
      this.#remember({ ...known, clientOrderId: report.clientOrderId, qty, venueOrderId: report.venueOrderId })
    }
  }
}

function parseQty(message: FixMessage): Units | null {
  const qty = parseFixDecimal(message.get(Tag.OrderQty))
  return qty !== null && qty > 0n ? qty : null
}

function placeAnswer(message: FixMessage): Finish<PlaceAck> | null {
  const execType = message.get(Tag.ExecType)
  if (execType === '8') return { kind: 'rejected', reason: withDetail(FixReason.venueRejected, message.get(Tag.Text) ?? message.get(Tag.OrdRejReason)) }
  if (execType !== undefined && ['0', '1', '2', 'F', '4', 'C', '3', '5'].includes(execType)) {
    return { kind: 'ok', value: { venueOrderId: message.get(Tag.OrderID) ?? '' } }
  }
  return null
}

function cancelAnswer(message: FixMessage): Finish<{ accepted: true }> | null {
  const execType = message.get(Tag.ExecType)
  if (execType === '4' || execType === '6') return { kind: 'ok', value: { accepted: true } }
  if (execType === '8') return { kind: 'rejected', reason: withDetail(FixReason.cancelRejected, message.get(Tag.Text)) }
  return null
}

function amendAnswer(message: FixMessage): Finish<{ accepted: true }> | null {
  const execType = message.get(Tag.ExecType)
  if (execType === '5' || execType === 'E') return { kind: 'ok', value: { accepted: true } }
  if (execType === '8') return { kind: 'rejected', reason: withDetail(FixReason.cancelRejected, message.get(Tag.Text)) }
  return null
}

function toOutcome<T>(finish: Finish<T>): VenueOutcome<T> {
  if (finish.kind === 'retryable') return { kind: 'retryable', reason: finish.reason, retryAfterMs: 1_000 }
  return finish
}

function placeProblem(request: PlaceRequest): string | null {
  if (request.qty <= 0n) return 'qty must be > 0'
  if (request.type === 'market' && request.price !== undefined) return 'a market order carries no price'
  if (request.type === 'limit' && request.price === undefined) return 'a limit order needs a price'
  if (request.clientOrderId === '' || request.symbol === '') return 'clientOrderId and symbol must be non-empty'
  return null
}

function isOpen(order: VenueOrder): boolean {
  return order.status === 'open' || order.status === 'partially_filled'
}

function evictOldest<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next()
    if (oldest.done === true) return
    map.delete(oldest.value)
  }
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  return value
}

