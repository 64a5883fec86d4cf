/**
 * The adapter's inbound side: what the session delivers — ExecutionReports, OrderCancelRejects,
 * BusinessMessageRejects, and session Rejects of our messages — routed to the pending request it answers, to the
 * order memory (the venue's OrderID), and to the report subscribers (`onReport`). Kept apart from request building
 * because one message can answer a request and be a report at once, and the order of the three steps matters: the
 * memory learns first, then the request is answered, then the report is emitted.
 */

import type { Clock } from '../../domain/clock.ts'
import type { ExecutionReport } from '../adapter.ts'
import type { FixLogLevel } from './log.ts'
import { parsePositiveInt, type FixMessage } from './message.ts'
import { FixReason, withDetail } from './reasons.ts'
import { cancelRejectReason, cancelRejectVenueReason, isStatusReport, mapCancelReject, mapExecutionReport } from './reports.ts'
import type { PendingRequests, RequestOperation } from './requests.ts'
import { MsgType, Tag } from './tags.ts'
import type { FixOrderMemory } from './venue-memory.ts'
import type { StatusQueriesOwed } from './venue-status-owed.ts'

export type FixVenueLog = (level: FixLogLevel, event: string, message: string) => void

export interface FixVenueInboundOptions {
  /** The venue name reports carry. */
  venue: string
  clock: Clock
  pending: PendingRequests
  memory: FixOrderMemory
  /** FIX 4.2's status queries owed an answer (venue-status-owed.ts): answers and refusals settle them. */
  statusOwed: StatusQueriesOwed
  log: FixVenueLog
  /** Refuses, with a session-level Reject, a message egress cannot use (FixSession.rejectMessage). */
  rejectMessage: (message: FixMessage, text: string, refTagId?: number) => void
}

export class FixVenueInbound {
  readonly venue: string
  readonly #clock: Clock
  readonly #pending: PendingRequests
  readonly #memory: FixOrderMemory
  readonly #statusOwed: StatusQueriesOwed
  readonly #log: FixVenueLog
  readonly #rejectMessage: FixVenueInboundOptions['rejectMessage']
  readonly #reportHandlers = new Set<(report: ExecutionReport) => void>()

  constructor(options: FixVenueInboundOptions) {
    this.venue = options.venue
    this.#clock = options.clock
    this.#pending = options.pending
    this.#memory = options.memory
    this.#statusOwed = options.statusOwed
    this.#log = options.log
    this.#rejectMessage = options.rejectMessage
  }

  onReport(handler: (report: ExecutionReport) => void): () => void {
    this.#reportHandlers.add(handler)
    return () => this.#reportHandlers.delete(handler)
  }

  onApplicationMessage(message: FixMessage): void {
    switch (message.msgType) {
      case MsgType.ExecutionReport:
        return this.#onExecutionReport(message)
      case MsgType.OrderCancelReject:
        return this.#onCancelReject(message)
      case MsgType.BusinessMessageReject: {
        const refSeqNum = parsePositiveInt(message.get(Tag.RefSeqNum))
        const reason = withDetail(FixReason.businessReject, [message.get(Tag.BusinessRejectReason) && `BusinessRejectReason ${message.get(Tag.BusinessRejectReason)}`, message.get(Tag.Text)].filter(Boolean).join(': '))
        this.#log('warn', 'fix.business_reject', `MsgSeqNum ${message.get(Tag.RefSeqNum)} (${message.get(Tag.RefMsgType)}) refused: ${reason}`)
        if (!Number.isNaN(refSeqNum)) this.onRejectOf(refSeqNum, reason, message)
        return
      }
      default:
        this.#log('debug', 'fix.message_ignored', `application message ${message.msgType} is not used by egress`)
    }
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

  #onExecutionReport(message: FixMessage): void {
    const clientOrderId = message.get(Tag.ClOrdID) ?? ''
    const massId = message.get(Tag.MassStatusReqID)
    if (massId !== undefined) return this.#offer(massId, ['mass_status'], message)
    if (isStatusReport(message)) return this.#onStatusAnswer(clientOrderId, message)
    const facts = this.#memory.factsOf(clientOrderId) ?? this.#memory.factsOf(message.get(Tag.OrigClOrdID) ?? '')
    const mapped = mapExecutionReport(this.venue, message, facts, this.#clock.nowMs())
    if (mapped.kind === 'invalid') {
      this.#log('error', 'fix.report_unreadable', `ExecutionReport refused (${mapped.why}): ${message.toString()}`)
      this.#rejectMessage(message, mapped.why, mapped.tag)
      return
    }
    if (mapped.kind === 'ignored') this.#log(/operator/.test(mapped.why) ? 'error' : 'debug', 'fix.report_ignored', `${mapped.why}: ${message.toString()}`)
    if (mapped.kind === 'mapped') this.#memory.learn(mapped.value, message)
    this.#offer(clientOrderId, ['place', 'cancel', 'amend'], message)
    if (mapped.kind === 'mapped') this.#emit(mapped.value)
  }

  #onCancelReject(message: FixMessage): void {
    const clientOrderId = message.get(Tag.ClOrdID) ?? ''
    const facts = this.#memory.factsOf(message.get(Tag.OrigClOrdID) ?? '') ?? this.#memory.factsOf(clientOrderId)
    const reason = cancelRejectVenueReason(message) ?? withDetail(FixReason.cancelRejected, cancelRejectReason(message))
    for (const request of this.#pending.byKey(clientOrderId, ['cancel', 'amend'])) request.reject(reason)
    const mapped = mapCancelReject(this.venue, message, facts, this.#clock.nowMs())
    if (mapped.kind === 'mapped') this.#emit(mapped.value)
    else this.#log('error', 'fix.report_unreadable', `OrderCancelReject not reportable (${mapped.why}): ${message.toString()}`)
  }

  /**
   * A status answer completes the query about the order waiting for it, if one is. One that no query waits for (its
   * query timed out, or none was sent) is dropped: it cannot be tied to a query, so it is never taken as the order's
   * state. On FIX 4.2 it also pays the order's owed query off, so the next one may go.
   */
  #onStatusAnswer(clientOrderId: string, message: FixMessage): void {
    const waiting = this.#pending.byKey(clientOrderId, ['status'])
    for (const request of waiting) request.onAnswer(message)
    this.#statusOwed.answered(clientOrderId)
    if (waiting.length === 0) this.#log('warn', 'fix.status_answer_late', `status answer for ${clientOrderId} that no query waits for, dropped: ${message.toString()}`)
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
