/**
 * The adapter's inbound side: what the session delivers — ExecutionReports, OrderCancelRejects,
 * BusinessMessageRejects, and session Rejects of our messages — routed to the pending request it answers, to the
 * order memory (the venue's OrderID), and to the report subscribers (`onReport`). Kept apart from request building
 * because one message can answer a request and be a report at once, and the order of the three steps matters: the
 * memory learns first, then the request is answered, then the report is emitted.
 */

import type { Clock } from '../../domain/clock.ts'
import { venueReasonText } from '../../domain/venue-report-schema.ts'
import type { ExecutionReport } from '../adapter.ts'
import type { FixLogLevel } from './log.ts'
import { parseNonNegativeInt, parsePositiveInt, type FixMessage } from './message.ts'
import { FixReason, withDetail } from './reasons.ts'
import { cancelRejectReason, cancelRejectVenueReason, isStatusReport, mapCancelReject, mapExecutionReport } from './reports.ts'
import type { PendingRequests, RequestOperation } from './requests.ts'
import { MsgType, Tag } from './tags.ts'
import { parseUtcTimestamp } from './time.ts'
import { badFormat, type RefusedField, type Unreadable } from './unreadable.ts'
import type { FixOrderMemory } from './venue-memory.ts'
import { notStatusAnswer } from './venue-status.ts'
import type { StatusQueriesOwed } from './venue-status-owed.ts'

export type FixVenueLog = (level: FixLogLevel, event: string, message: string) => void

export interface FixVenueInboundOptions {
  /** The venue name reports carry. */
  venue: string
  clock: Clock
  pending: PendingRequests
  memory: FixOrderMemory
  /** Status queries matched by ClOrdID, owed an answer (venue-status-owed.ts): answers and refusals settle them. */
  statusOwed: StatusQueriesOwed
  /** The session's BeginString: what a status answer looks like depends on it (venue-status.ts notStatusAnswer). */
  beginString: string
  /** Status answers must echo the query's OrdStatusReqID (FIX 4.4 and the venue echoes it): none matches by ClOrdID. */
  statusAnswersKeyed: boolean
  log: FixVenueLog
  /** Refuses, with a session-level Reject, a message egress cannot use (FixSession.rejectMessage). */
  rejectMessage: (message: FixMessage, text: string, field?: RefusedField) => void
}

export class FixVenueInbound {
  readonly venue: string
  readonly #clock: Clock
  readonly #pending: PendingRequests
  readonly #memory: FixOrderMemory
  readonly #statusOwed: StatusQueriesOwed
  readonly #beginString: string
  readonly #statusAnswersKeyed: boolean
  readonly #log: FixVenueLog
  readonly #rejectMessage: FixVenueInboundOptions['rejectMessage']
  readonly #reportHandlers = new Set<(report: ExecutionReport) => void>()
  readonly #readBackHandlers = new Set<(clientOrderId: string) => void>()
  /** The last MassStatusReqID whose late reports were logged (once per id). */
  #lateMassId: string | null = null

  constructor(options: FixVenueInboundOptions) {
    this.venue = options.venue
    this.#clock = options.clock
    this.#pending = options.pending
    this.#memory = options.memory
    this.#statusOwed = options.statusOwed
    this.#beginString = options.beginString
    this.#statusAnswersKeyed = options.statusAnswersKeyed
    this.#log = options.log
    this.#rejectMessage = options.rejectMessage
  }

  onReport(handler: (report: ExecutionReport) => void): () => void {
    this.#reportHandlers.add(handler)
    return () => this.#reportHandlers.delete(handler)
  }

  /** Status reports no query took (see #onStatusReport): the order is for the gateway to read back (adapter.ts). */
  onReadBackWanted(handler: (clientOrderId: string) => void): () => void {
    this.#readBackHandlers.add(handler)
    return () => this.#readBackHandlers.delete(handler)
  }

  onApplicationMessage(message: FixMessage): void {
    switch (message.msgType) {
      case MsgType.ExecutionReport:
        return this.#onExecutionReport(message)
      case MsgType.OrderCancelReject:
        return this.#onCancelReject(message)
      case MsgType.BusinessMessageReject:
        return this.#onBusinessReject(message)
      default:
        this.#log('debug', 'fix.message_ignored', `application message ${message.msgType} is not used by egress`)
    }
  }

  /**
   * A message the session refused as malformed (a bad field; FixMessage.defect) and will never get again: what it said
   * — a fill, say — is lost, so an order it names is read back, which books what the venue holds.
   */
  onRefused(message: FixMessage): void {
    if (message.msgType !== MsgType.ExecutionReport && message.msgType !== MsgType.OrderCancelReject) return
    this.#readBackNamed(message)
  }

  /** A session Reject or BusinessMessageReject of our message `refSeqNum`: the request it carried is refused. */
  onRejectOf(refSeqNum: number, reason: string, message: FixMessage | null): void {
    this.#pending.bySeqNum(refSeqNum)?.reject(reason)
    this.#statusOwed.refused(refSeqNum)
    const sent = this.#memory.sentAs(refSeqNum)
    if (sent === undefined) return
    const kind = sent.msgType === MsgType.NewOrderSingle ? 'rejected' : sent.msgType === MsgType.OrderCancelRequest || sent.msgType === MsgType.OrderCancelReplaceRequest ? 'cancel_rejected' : null
    const facts = this.#memory.factsOf(sent.origClientOrderId ?? sent.clientOrderId) ?? this.#memory.factsOf(sent.clientOrderId)
    if (kind === null || facts === undefined) return
    // Reported too, so a request that already timed out (outcome unknown) still learns the definite answer.
    // The time names the reject in its exec id: one the venue sent is taken only if it reads as a time.
    const venueAt = message?.get(Tag.OrigSendingTime) ?? message?.get(Tag.SendingTime)
    const at = venueAt !== undefined && parseUtcTimestamp(venueAt) !== null ? venueAt : sent.sendingTime
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
      // The venue's Text, bounded as the other mappers bound it.
      reason: venueReasonText(reason),
      venueTimeMs: this.#clock.nowMs(),
    })
  }

  /**
   * A BusinessMessageReject names the message it refuses by RefSeqNum (45). Some venues leave 45 out and name it by
   * BusinessRejectRefID (379), the business id of what they refuse — for an order, its ClOrdID — with RefMsgType (372):
   * it refuses the one message of that type egress sent under that id, if there is exactly one. Anything less clear
   * (no RefMsgType, no such message remembered, the order sent twice under its ClOrdID) refuses nothing: the request
   * ends unknown and is reconciled, as a reject of a NewOrderSingle reads as "not placed".
   */
  #onBusinessReject(message: FixMessage): void {
    const reason = withDetail(FixReason.businessReject, [message.get(Tag.BusinessRejectReason) && `BusinessRejectReason ${message.get(Tag.BusinessRejectReason)}`, message.get(Tag.Text)].filter(Boolean).join(': '))
    const refSeqNum = parsePositiveInt(message.get(Tag.RefSeqNum))
    const refId = message.get(Tag.BusinessRejectRefID)
    const refMsgType = message.get(Tag.RefMsgType)
    const seqNum = !Number.isNaN(refSeqNum) ? refSeqNum : refId === undefined || refMsgType === undefined ? undefined : this.#memory.onlySentAs(refId, refMsgType)
    const refers = `MsgSeqNum ${message.get(Tag.RefSeqNum)} (${refMsgType}, BusinessRejectRefID ${refId})`
    this.#log('warn', 'fix.business_reject', `${refers} refused${seqNum === undefined ? ' (no one message of ours is named: nothing refused)' : ''}: ${reason}`)
    if (seqNum !== undefined) this.onRejectOf(seqNum, reason, message)
  }

  #onExecutionReport(message: FixMessage): void {
    const clientOrderId = message.get(Tag.ClOrdID) ?? ''
    const massId = message.get(Tag.MassStatusReqID)
    if (massId !== undefined) return this.#onMassStatusReport(massId, message)
    if (isStatusReport(message)) return this.#onStatusReport(clientOrderId, message)
    const facts = this.#memory.factsOf(clientOrderId) ?? this.#memory.factsOf(message.get(Tag.OrigClOrdID) ?? '')
    const mapped = mapExecutionReport(this.venue, message, facts, this.#clock.nowMs())
    if (mapped.kind === 'invalid') {
      this.#log('error', 'fix.report_unreadable', `ExecutionReport refused (${mapped.why}): ${message.toString()}`)
      this.#rejectMessage(message, mapped.why, mapped.tag === undefined ? undefined : mapped)
      // Its sequence number is spent: the venue never sends it again, so what it said (a fill, say) is read back.
      this.#readBackNamed(message)
      return
    }
    if (mapped.kind === 'ignored') this.#log(/operator/.test(mapped.why) ? 'error' : 'debug', 'fix.report_ignored', `${mapped.why}: ${message.toString()}`)
    if (mapped.kind === 'mapped') this.#memory.learn(mapped.value, message)
    this.#offer(clientOrderId, ['place', 'cancel', 'amend'], message)
    if (mapped.kind === 'mapped') this.#emit(mapped.value)
    // A trade egress does not book from its report (ExecType J, K: reports.ts clearingReport) is booked from the venue's
    // CumQty; a trade bust or correction (G, H: tradeBust) is read back so the venue's view of the order is recorded.
    if (mapped.kind === 'ignored' && mapped.readBack === true) this.#readBackNamed(message)
  }

  #onCancelReject(message: FixMessage): void {
    const clientOrderId = message.get(Tag.ClOrdID) ?? ''
    const facts = this.#memory.factsOf(message.get(Tag.OrigClOrdID) ?? '') ?? this.#memory.factsOf(clientOrderId)
    const reason = cancelRejectVenueReason(message) ?? withDetail(FixReason.cancelRejected, cancelRejectReason(message))
    for (const request of this.#pending.byKey(clientOrderId, ['cancel', 'amend'])) request.reject(reason)
    const mapped = mapCancelReject(this.venue, message, facts, this.#clock.nowMs())
    if (mapped.kind === 'mapped') return this.#emit(mapped.value)
    this.#log('error', 'fix.report_unreadable', `OrderCancelReject not reportable (${mapped.why}): ${message.toString()}`)
    // A field it cannot read (one with a tag; not an order egress does not know) is refused as in an ExecutionReport.
    if (mapped.kind === 'invalid' && mapped.tag !== undefined) this.#rejectMessage(message, mapped.why, mapped)
    this.#readBackNamed(message)
  }

  /**
   * The order a message egress could not map names, asked to be read back. An ExecutionReport names it by ClOrdID (the
   * order's current id), else OrigClOrdID. An OrderCancelReject's ClOrdID is the refused cancel or replace request's own
   * id; the order is its OrigClOrdID ("ClOrdID which could not be canceled/replaced"), so that one is read back, the
   * request's id only without it. Handing on the request's id read back an order only where the reader maps request
   * ids to their orders, as the gateway happens to (domain/orders.ts orderIdFromClientId).
   */
  #readBackNamed(message: FixMessage): void {
    const [first, second] = message.msgType === MsgType.OrderCancelReject ? [Tag.OrigClOrdID, Tag.ClOrdID] : [Tag.ClOrdID, Tag.OrigClOrdID]
    const tag = message.has(first) ? first : second
    // A message refused for naming its ClOrdID twice (SessionRejectReason 13) names either order: both are read back.
    const named = new Set(message.fields.filter(([t, value]) => t === tag && value !== '').map(([, value]) => value))
    for (const clientOrderId of named) this.#wantReadBack(clientOrderId)
  }

  /**
   * A status report answers at most one query, and only one that may be owed it. One no query takes is never taken as
   * the order's state, nor mapped as an ordinary report (it restates, it tells of no event: mapped by its ExecType it
   * could book a fill twice, or guess one), but it is not lost either: it is logged and the order is read back
   * (onReadBackWanted), which reconciles egress's books with what the venue holds, once.
   * - Not a status answer at all (notStatusAnswer: an unsolicited restatement, a 4.2 report whose ExecTransType is not
   *   3): it settles no query and pays no debt.
   * - Echoing an OrdStatusReqID: it answers the query that carried that id and no other.
   * - Without one, where answers must echo it (FIX 4.4 by default): not an answer — the spec has the venue echo the id
   *   when the request carries one, so this report is one it sent of its own accord.
   * - Without one, where answers name only the order (FIX 4.2, or a 4.4 venue that does not echo): it is the answer
   *   owed to the one query about the order still owed one (venue-status-owed.ts), unless its LastMsgSeqNumProcessed
   *   (369) shows the venue had not received that query when it sent the report (a late answer to a query written off,
   *   or a report no query asked for). With no query owed, no query can be told to be its own.
   */
  #onStatusReport(clientOrderId: string, message: FixMessage): void {
    const unsolicited = notStatusAnswer(message, this.#beginString)
    if (unsolicited !== null) return this.#dropStatusReport('fix.status_report_unsolicited', unsolicited, message)
    const echoed = message.get(Tag.OrdStatusReqID)
    if (echoed !== undefined) {
      const waiting = this.#pending.byKey(clientOrderId, ['status'])
      for (const request of waiting) request.onAnswer(message)
      if (this.#statusOwed.owedFor(clientOrderId)?.requestId === echoed) this.#statusOwed.answered(clientOrderId)
      const taken = this.#pending.byKey(clientOrderId, ['status']).length < waiting.length
      if (!taken) this.#dropStatusReport('fix.status_answer_late', `OrdStatusReqID ${echoed}, that no waiting query carried`, message)
      return
    }
    if (this.#statusAnswersKeyed) return this.#dropStatusReport('fix.status_report_unsolicited', 'no OrdStatusReqID (790) echoed, so no query asked for it', message)
    const owed = this.#statusOwed.owedFor(clientOrderId)
    if (owed === undefined) return this.#dropStatusReport('fix.status_answer_late', 'no query about the order is owed an answer', message)
    // QuickFIX stamps 369 with its expected number less one, and counts a message only once its application has handled
    // it: an answer sent while handling the query carries the query's MsgSeqNum less one. Below that, the venue's engine
    // had not even received the query when it sent this report.
    const processedText = message.get(Tag.LastMsgSeqNumProcessed)
    const processed = parseNonNegativeInt(processedText)
    // Present but no sequence number: read as absent, it let a report the venue sent before it received the query be
    // taken as the query's answer, the one thing 369 is read here to rule out. Refused like any field egress reads.
    if (processedText !== undefined && Number.isNaN(processed)) return this.#refuseStatusReport(message, badFormat(Tag.LastMsgSeqNumProcessed, `LastMsgSeqNumProcessed (369) is not a sequence number: ${processedText}`))
    if (!Number.isNaN(processed) && processed < owed.seqNum - 1) {
      return this.#dropStatusReport('fix.status_report_unsolicited', `sent before the venue processed the query MsgSeqNum ${owed.seqNum} (LastMsgSeqNumProcessed ${processed})`, message)
    }
    this.#statusOwed.answered(clientOrderId)
    const waiting = this.#pending.bySeqNum(owed.seqNum)
    if (waiting?.operation === 'status') waiting.onAnswer(message)
    else this.#dropStatusReport('fix.status_answer_late', `the answer to MsgSeqNum ${owed.seqNum}, whose wait had ended`, message)
  }

  /**
   * A status report with a field egress reads here present but unreadable: refused as reports.ts refuses one (session
   * Reject naming the tag, error `fix.report_unreadable`), taken as no query's answer, and its order read back. The
   * query it may have answered stays owed (venue-status-owed.ts): a later answer, or the write-off, settles it.
   */
  #refuseStatusReport(message: FixMessage, unreadable: Unreadable): void {
    this.#log('error', 'fix.report_unreadable', `status report refused (${unreadable.invalid}): ${message.toString()}`)
    this.#rejectMessage(message, unreadable.invalid, unreadable)
    this.#wantReadBack(message.get(Tag.ClOrdID) ?? '')
  }

  #dropStatusReport(event: string, why: string, message: FixMessage): void {
    const clientOrderId = message.get(Tag.ClOrdID)
    this.#log('warn', event, `status report for ${clientOrderId} not taken as a query's answer (the order is read back): ${why}: ${message.toString()}`)
    if (clientOrderId !== undefined) this.#wantReadBack(clientOrderId)
  }

  #wantReadBack(clientOrderId: string): void {
    if (clientOrderId === '') return
    for (const handler of [...this.#readBackHandlers]) {
      try {
        handler(clientOrderId)
      } catch (error: unknown) {
        this.#log('error', 'fix.read_back_handler_error', `a read-back handler threw: ${error instanceof Error ? error.message : String(error)}`)
      }
    }
  }

  /**
   * A report of a mass status answer goes to the request that asked for it. One whose request has ended (timed out,
   * or ended `unknown`) was dropped without a word; it is still not taken (the list it belongs to is incomplete, and
   * reading every order of it back could be thousands of queries at once: the open-order sweep reads them back in
   * bounded batches), but it is logged, once per MassStatusReqID, so the lateness is seen.
   */
  #onMassStatusReport(massId: string, message: FixMessage): void {
    const waiting = this.#pending.byKey(massId, ['mass_status'])
    if (waiting.length > 0) return this.#offer(massId, ['mass_status'], message)
    if (this.#lateMassId === massId) return
    this.#lateMassId = massId
    this.#log('warn', 'fix.status_answer_late', `mass status report for MassStatusReqID ${massId}, whose request has ended, not taken (further reports of it are not logged): ${message.toString()}`)
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
}
