/**
 * The inbox: venue execution reports become events. A report whose execution id the order has already seen is
 * dropped (and counted). Fills are applied by their own quantity, so reordered fills still add up; the cumulative
 * quantity only grows and never passes the order quantity — an overfill is not applied, it raises an alert and moves
 * the order to Unknown. News the transition table forbids is refused the same way (see emit.ts).
 *
 * Amends follow FIX cancel/replace semantics: the venue answers an amend under the amend's client id, and afterwards
 * reports about the order carry that id. So a reject under an amend id settles that amend as failed; any other report
 * under an amend id not yet in the order's id chain proves the replace happened and applies it first (see
 * amend/evidence.ts); and a `replaced` report then has nothing more to say.
 */

import { attributed } from './attribution.ts'
import { GATEWAY_PRINCIPAL_ID } from '../domain/accounts.ts'
import { formatDecimal, type Units } from '../domain/decimal.ts'
import type { EventOf } from '../domain/events/index.ts'
import { orderIdFromClientId, parseClientOrderId, type Order } from '../domain/orders.ts'
import type { ReasonCode } from '../domain/reasons.ts'
import type { OrderState } from '../domain/states.ts'
import { VenueReason } from '../domain/venue-reasons.ts'
import type { ExecutionReport } from '../venues/adapter.ts'
import { DONE_REPLY, type Decision, type VenueReportCommand } from './commands.ts'
import { applyAmend, failAmend, openAmend, type AmendSource } from './amend/evidence.ts'
import { anomaly, emit, emitterFor, refuse, type Emitter } from './emit.ts'
import { alertPriceThroughLimit, limitInForce, NO_LIMIT } from './fill-limit.ts'
import type { KernelState } from './state.ts'
import { coveredQtyOf, emitTrueUp } from './synthetic-cover.ts'

export function orderForReport(state: KernelState, report: ExecutionReport): Order | null {
  return orderNamed(state, report.clientOrderId) ?? orderNamed(state, report.origClientOrderId)
}

function orderNamed(state: KernelState, clientId: string | undefined): Order | null {
  const orderId = clientId === undefined ? null : orderIdFromClientId(clientId)
  return (orderId === null ? undefined : state.orders.get(orderId)) ?? null
}

/** Is `report` about none of egress's orders (it names none, or one it does not match)? It is then recorded as orphaned. */
export function isOrphanReport(state: KernelState, report: ExecutionReport): boolean {
  const order = orderForReport(state, report)
  return order === null || mismatchOf(order, report) !== null
}

export function decideReport(state: KernelState, command: VenueReportCommand): Decision {
  const { report, nowMs } = command
  const order = orderForReport(state, report)
  const mismatch = order === null ? null : mismatchOf(order, report)
  if (order === null || mismatch !== null) {
    const accepted = { type: 'inbox.report_accepted' as const, atMs: nowMs, orderId: null, report }
    if (command.orphanRepeat === true) return { events: [accepted], reply: DONE_REPLY }
    const about = order === null ? '' : `: it names order ${order.orderId}, but ${mismatch}`
    const alert = { type: 'alert.raised' as const, atMs: nowMs, reason: 'REPORT_ORPHANED' as const, orderId: null, detail: `${report.venue} ${report.kind} for ${report.clientOrderId}${about}` }
    return { events: [accepted, alert], reply: DONE_REPLY }
  }
  if (order.execIds.has(report.execId)) {
    const event = { type: 'inbox.duplicate_dropped' as const, atMs: nowMs, orderId: order.orderId, venue: report.venue, execId: report.execId }
    return { events: [event], reply: DONE_REPLY }
  }
  const emitter = emitterFor(order)
  emitter.events.push({ type: 'inbox.report_accepted', atMs: nowMs, orderId: order.orderId, report })
  const proof = provesAtVenue(order)
  if (proof !== null) {
    const detail = `${report.kind} report ${report.execId} for an order ${proof}: the venue holds it`
    emit(emitter, { type: 'order.unknown', atMs: nowMs, orderId: order.orderId, reason: 'VENUE_OUTCOME_UNKNOWN', detail })
    // Canceled before a send reached the venue, as egress thought: the cancel is still wanted, at the venue now.
    if (order.status === 'Canceled' && order.lastReason !== null) {
      emit(emitter, attributed({ type: 'order.cancel_requested', atMs: nowMs, orderId: order.orderId, principalId: GATEWAY_PRINCIPAL_ID, reason: order.lastReason }, { configDigest: state.config?.digest }))
    }
  }
  if (amendNews(emitter, report, nowMs)) emitReport(emitter, report, nowMs)
  return { events: emitter.events, reply: DONE_REPLY }
}

/**
 * Reasons egress ends an order with on its own word, no venue's, when the send it was waiting for did not go out: a
 * cancel before the send (its owner's, a flatten's, a mode escalation's) and the I-100 gate blocking the send.
 * For an order sent before, these ends are only in logs of older builds: today such an order is never ended so (a
 * cancel reads it back, cancel.ts; a blocked send makes it Unknown, send.ts readBackBlocked, whatever the reason), so
 * the sets hold exactly the reasons those builds wrote. VENUE_HEALTH_CRITICAL (check 8) is not one: it reached main
 * (35b84fb8) after readBackBlocked (60d800f8), so no build on main ever rejected an order sent before with it (spec
 * kernel/gate-blocked-resend). Nor are the other unsent reasons of cancel.ts (TTL_EXPIRED, STALE_AT_START, a kill
 * switch's, an OCO's): they came with the rule that ends only an order never sent (290985f5), which mismatchOf makes
 * every report about an orphan.
 */
const ENDED_UNSENT: Readonly<Partial<Record<OrderState, ReadonlySet<ReasonCode>>>> = {
  Canceled: new Set<ReasonCode>(['CANCELED_BEFORE_SEND', 'MODE_ESCALATED']),
  Rejected: new Set<ReasonCode>(['GATE_BLOCKED', 'SHADOW_NOT_SENT']),
}

/**
 * Whether a report about `order` proves, against what egress holds, that the venue has it (what egress held, for the
 * detail), or null: the order was found not at the venue (Failed: reconciliation's proof of absence came too early),
 * or it was sent before and waits in Enqueued to go out again (the resend that proof allowed, or a place the venue
 * answered retryable), or it was sent before and then ended by egress alone while it so waited: canceled (a cancel,
 * flatten or mode escalation of the waiting order, or a place answered retryable while a cancel was wanted — as logs
 * written before cancel.ts read such an order back instead hold it) or
 * rejected by the I-100 gate at the send again (data health re-run there, send.ts). It goes Unknown first, so the next
 * send does not go out blind (a resend would reach a venue holding the order) and the report's news — a fill, its
 * ack — is taken as for any Unknown order. Before, the news was refused from Failed, Enqueued and Rejected: a fill the
 * venue made was not booked (only a later read-back could, or a synthetic fill on a venue without a trade query), and
 * the waiting order was sent again; and Canceled took a `new` as a late ack of a done order: it stayed Canceled,
 * holding nothing, while it rested live at the venue and was never canceled there.
 */
function provesAtVenue(order: Order): string | null {
  if (order.status === 'Failed') return 'found not at the venue'
  if (order.sendAttempts === 0) return null
  if (order.status === 'Enqueued') return 'waiting to be sent again'
  const endedUnsent = order.venueOrderId === null && order.lastReason !== null && ENDED_UNSENT[order.status]?.has(order.lastReason) === true
  return endedUnsent ? `ended before it was sent again (${order.status}, ${order.lastReason})` : null
}

/**
 * Why a report that names one of egress's client ids is still not about that order: the order was never sent, or the
 * report comes from another venue, or states another account, symbol or side (a member a venue left empty, as a FIX
 * report without Account can, is not compared). Such a report is recorded as orphaned and changes nothing: booking it
 * would move the order's position and cash on news about some other order.
 *
 * Never sent: egress calls a venue only once the order's send record is durable (the outbox rule), and only the lease
 * holder writes the log, so an order with no send recorded (sendAttempts 0: waiting for its first send, canceled or
 * rejected by the I-100 gate before it) is at no venue. News naming it is a garbled or forged report, or another
 * system's use of the id. Before, a `new` for an order the gate rejected moved it to Unknown and held its worst case
 * again until a read-back ended it, and a fill for one canceled before its send was booked.
 */
function mismatchOf(order: Order, report: ExecutionReport): string | null {
  if (order.sendAttempts === 0) return `that order was never sent (${order.status}, no send of it recorded)`
  if (report.venue !== order.venue) return `that order is at venue ${order.venue}`
  if (report.account !== '' && report.account !== order.accountId) return `that order is of account ${order.accountId}, the report of ${report.account}`
  if (report.symbol !== '' && report.symbol !== order.symbol) return `that order is on ${order.symbol}, the report on ${report.symbol}`
  if (report.side !== order.side) return `that order is a ${order.side}, the report a ${report.side}`
  return null
}

/** Reads what a report says about the order's amends; returns whether the report still has news about the order. */
function amendNews(emitter: Emitter, report: ExecutionReport, atMs: number): boolean {
  const { draft } = emitter
  // Only a suffixed id (`.a<n>`, `.c<n>`) can name an amend: the order's own id is not parsed into an object.
  const parsed = report.clientOrderId.includes('.') ? parseClientOrderId(report.clientOrderId) : null
  if (parsed?.kind === 'amend' && parsed.orderId === draft.orderId) {
    if (report.kind === 'cancel_rejected' || report.kind === 'rejected') {
      failAmend(emitter, { atMs, reason: 'VENUE_AMEND_REJECTED', detail: report.reason ?? '', amendId: parsed.n })
      return false
    }
    if (!draft.clientIdChain.includes(report.clientOrderId)) {
      if (openAmend(draft, parsed.n) === null) {
        anomaly(emitter, { atMs, reason: 'TRANSITION_REFUSED', detail: `${report.kind} under ${report.clientOrderId}, an amend egress has no record of` })
        return false
      }
      if (!applyAmend(emitter, { atMs, source: 'report', amendId: parsed.n })) return false
    }
    return report.kind !== 'replaced'
  }
  if (report.kind === 'replaced') {
    if (!draft.clientIdChain.includes(report.clientOrderId)) {
      anomaly(emitter, { atMs, reason: 'TRANSITION_REFUSED', detail: `replaced under ${report.clientOrderId}, which is not an amend of this order` })
    }
    return false
  }
  return true
}

function emitReport(emitter: Emitter, report: ExecutionReport, atMs: number): void {
  // The events name atMs and orderId rather than spreading an object made for them (the same records).
  const orderId = emitter.draft.orderId
  switch (report.kind) {
    case 'new':
      // Only first news of the order means something; a late `new` after later news is old and changes nothing.
      if ((emitter.draft.venueOrderId === null || emitter.draft.status === 'Sent') && ackConcludes(emitter.draft)) {
        emit(emitter, { type: 'order.send_acked', atMs, orderId, venueOrderId: report.venueOrderId })
        resumeCancel(emitter, atMs)
      }
      return
    case 'fill':
      emitFill(emitter, report, atMs)
      return
    case 'canceled':
      if (missedFills(emitter, report, atMs)) return
      if (endToldAgain(emitter.draft, 'Canceled')) return
      emit(emitter, { type: 'order.canceled', atMs, orderId, reason: 'VENUE_CANCELED', source: 'venue' })
      return
    case 'rejected':
      // A reject report for a duplicate client id is about the second copy, not the order: the order exists.
      if (report.reason === VenueReason.duplicateClientOrderId) {
        if (emitter.draft.status === 'Sent') emit(emitter, { type: 'order.unknown', atMs, orderId, reason: 'VENUE_DUPLICATE_CLIENT_ORDER_ID', detail: report.reason })
        return
      }
      // A reject stating fills egress has not booked contradicts itself: not an end, fills were lost (as below).
      if (missedFills(emitter, report, atMs)) return
      // A reject answers the place, and an order the venue acknowledged or filled was taken. The table lets a reject end
      // CancelRequested and Unknown for a place still unanswered; after an ack or a fill it contradicts what egress
      // holds, refused as from AckedOpen or CancelPending (results.ts refuses a place answered rejected so).
      if (emitter.draft.venueOrderId !== null || emitter.draft.cumQty > 0n) {
        refuse(emitter, { atMs, transitionName: 'venue_reject', detail: `order.venue_rejected is not allowed in ${emitter.draft.status} once the venue acknowledged or filled the order` })
        return
      }
      // Already Rejected (the place's answer, or a read-back, landed first): the venue tells the same refusal twice. A
      // second `order.venue_rejected` recorded it, and metrics, /explain and the audit counted it, twice; the table's
      // Rejected → Rejected stays only so logs that hold one still replay. The report is kept whole, its reason text
      // too, in the inbox.report_accepted above: nothing of it is lost. (An order the I-100 gate rejected after a send was
      // made Unknown by provesAtVenue above, so a reject of its earlier copy still ends it on the venue's word.)
      if (emitter.draft.status === 'Rejected') return
      emit(emitter, { type: 'order.venue_rejected', atMs, orderId, venueReason: report.reason ?? '' })
      return
    case 'expired':
      if (missedFills(emitter, report, atMs)) return
      if (endToldAgain(emitter.draft, 'Expired')) return
      emit(emitter, { type: 'order.expired', atMs, orderId })
      return
    case 'cancel_rejected':
      if (emitter.draft.status !== 'CancelPending' && emitter.draft.status !== 'CancelRequested') return
      emit(emitter, { type: 'order.cancel_rejected', atMs, orderId, venueReason: report.reason ?? '' })
      anomaly(emitter, { atMs, reason: 'VENUE_CANCEL_REJECTED', detail: report.reason ?? '' })
      return
    case 'replaced':
      // Read by amendNews before we get here.
      return
  }
}

/**
 * Whether a `canceled` or `expired` report finds the order already ended so (`end`): by an earlier report (a venue
 * repeats itself under a new execution id) or by a read-back. The venue tells the same end again, and it records
 * nothing more: a second `order.canceled` / `order.expired` showed two ends in /explain and the audit. The report is
 * kept whole in its inbox.report_accepted. The table's Canceled → Canceled and Expired → Expired stay only so logs that
 * hold such a second record still replay. (A local end of an order sent before was made Unknown by provesAtVenue, so
 * the venue's end of its earlier copy still ends it; a report stating fills egress has not booked went Unknown above.)
 */
function endToldAgain(draft: Order, end: 'Canceled' | 'Expired'): boolean {
  return draft.status === end
}

/**
 * A final report (canceled, expired, rejected) whose cumulative quantity is above what egress has booked means fill reports
 * were lost: closing the order now would freeze a wrong position. The order goes Unknown instead, and reconciliation
 * books the missing trades before it settles the final state.
 */
function missedFills(emitter: Emitter, report: ExecutionReport, atMs: number): boolean {
  if (report.cumQty <= emitter.draft.cumQty) return false
  anomaly(emitter, { atMs, reason: 'FILLS_MISSED', detail: `${report.kind} report says cumQty ${formatDecimal(report.cumQty)}, egress has ${formatDecimal(emitter.draft.cumQty)}` })
  return true
}

/** A venue fill: from an execution report, or from reconciliation's trade list. */
export interface VenueFill {
  execId: string
  lastQty?: Units
  lastPrice?: Units
  fee?: Units
  feeAsset?: string
  venueTimeMs: number
  /** The venue's cumulative quantity as the report states it. */
  cumQty?: Units
  /** The venue cumulative quantity through this fill, when known otherwise (a trade list's running total). */
  venueCumQty?: Units
  /** The client id the venue states the fill under: the order version in force when it was made (FIX cancel/replace). */
  clientOrderId?: string
}

/**
 * Applies one venue fill; returns whether any of it was applied. The part of it a synthetic fill booked already is
 * recorded as covered and not booked again, but its price and fee replace the synthetic fill's (synthetic-cover.ts);
 * the rest is booked as an `order.fill` of the same execId.
 */
export function emitFill(emitter: Emitter, fill: VenueFill, atMs: number, source: AmendSource = 'report'): boolean {
  const { draft } = emitter
  if (fill.lastQty === undefined || fill.lastPrice === undefined || fill.lastQty <= 0n || fill.lastPrice <= 0n) {
    anomaly(emitter, { atMs, reason: 'FILL_NOT_MONOTONIC', detail: `fill ${fill.execId} has no positive quantity or no positive price` })
    return false
  }
  if (fill.cumQty !== undefined && fill.cumQty < fill.lastQty) {
    anomaly(emitter, { atMs, reason: 'FILL_NOT_MONOTONIC', detail: `fill ${fill.execId} of ${formatDecimal(fill.lastQty)} states a cumulative quantity of only ${formatDecimal(fill.cumQty)}` })
    return false
  }
  const venueCumQty = fill.venueCumQty ?? fill.cumQty ?? null
  // Read before an amend this fill proves (below) changes the order's version.
  let limit = limitInForce(draft, fill.clientOrderId)
  const coveredQty = coveredQtyOf(draft.syntheticCumQty, { lastQty: fill.lastQty, venueCumQty })
  const lastQty = fill.lastQty - coveredQty
  const cumQty = draft.cumQty + lastQty
  // A fill the old quantity cannot hold but the amend at the venue can: the replace happened first (its report is late).
  const amend = openAmend(draft)
  if (cumQty > draft.qty && amend?.stage === 'sent' && cumQty <= amend.qty && applyAmend(emitter, { atMs, source })) {
    // Made under the amended version, whatever id it was stated under: its limit is the one in force.
    limit = draft.price === null ? NO_LIMIT : { limit: draft.price }
  }
  if (cumQty > draft.qty || (fill.cumQty !== undefined && fill.cumQty > draft.qty)) {
    anomaly(emitter, { atMs, reason: 'FILL_OVERFILL', detail: `fill ${fill.execId} would take cumQty to ${formatDecimal(cumQty)} of ${formatDecimal(draft.qty)}` })
    return false
  }
  const fee = fill.fee ?? 0n
  const feeAsset = fill.feeAsset ?? draft.quoteAsset
  const { execId, lastPrice, venueTimeMs } = fill
  const covered = coveredQty > 0n && venueCumQty !== null
  if (covered) {
    const syntheticCumQty = draft.syntheticCumQty
    emit(emitter, { type: 'order.fill_covered', atMs, orderId: draft.orderId, execId, lastQty: fill.lastQty, coveredQty, lastPrice, fee, feeAsset, venueCumQty, syntheticCumQty, venueTimeMs })
    draft.execIds = draft.execIds.copy().add(execId)
  }
  const booked = lastQty > 0n && emitOwnFill(emitter, { execId, lastQty, lastPrice, fee, feeAsset, cumQty, venueTimeMs, venueCumQty }, atMs)
  // The fee goes with the fill's own `order.fill` when it has one (the fill record shows it), else with the true-up.
  if (covered) emitTrueUp(emitter, { execId, lastPrice, venueTimeMs, coveredQty, bookedQty: booked ? lastQty : 0n, fee: booked ? 0n : fee, feeAsset }, atMs)
  if (covered || booked) alertPriceThroughLimit(emitter, { execId, lastPrice, limit }, atMs)
  return covered || booked
}

/**
 * Books the part of a fill no synthetic fill covered as an `order.fill`; returns whether the transition table let it.
 * `venueCumQty`, when the fill has one, is recorded: the part booked is the top of the fill's venue range, so the back
 * office knows where in the venue's cumulative quantity egress's own quantity stands (a report of a later range may
 * come before a status read of an earlier one), and places a synthetic fill's quantity in what is left below.
 */
function emitOwnFill(emitter: Emitter, fill: { execId: string; lastQty: Units; lastPrice: Units; fee: Units; feeAsset: string; cumQty: Units; venueTimeMs: number; venueCumQty: Units | null }, atMs: number): boolean {
  const { draft } = emitter
  const { execId, lastQty, lastPrice, fee, feeAsset, cumQty, venueTimeMs, venueCumQty } = fill
  const event: EventOf<'order.fill'> = { type: 'order.fill', atMs, orderId: draft.orderId, execId, lastQty, lastPrice, fee, feeAsset, cumQty, synthetic: false, venueTimeMs }
  if (venueCumQty !== null) event.venueCumQty = venueCumQty
  const applied = emit(emitter, event)
  if (applied) {
    draft.execIds = draft.execIds.copy().add(execId)
    resumeCancel(emitter, atMs)
  }
  return applied
}

/**
 * Whether an ack (a `new` report, a place answered ok) may conclude the order's state. An ack is the venue's first news
 * of the order: it answers an Unknown whose only question was whether the venue has it (a place answered unknown, a
 * start with the place in flight), not one that venue news made — a report (a final one stating missed fills, a
 * duplicate id's reject) or fills booked before it: the ack is older than that news, and AckedOpen would drop the
 * read-back the order waits for (and show fills booked as none). Such an order stays Unknown; its read-back concludes.
 * (The report being decided is not in the draft's execIds yet.)
 */
export function ackConcludes(draft: Order): boolean {
  return draft.status !== 'Unknown' || (draft.execIds.size === 0 && draft.cumQty === 0n)
}

/** An order that was Unknown with a cancel wanted, and is now known to be open, gets its cancel back in Lane0. */
export function resumeCancel(emitter: Emitter, atMs: number): void {
  const { draft } = emitter
  if (!draft.cancelWanted || (draft.status !== 'AckedOpen' && draft.status !== 'Partial')) return
  emit(emitter, { type: 'order.cancel_requested', atMs, orderId: draft.orderId, principalId: GATEWAY_PRINCIPAL_ID, reason: 'USER_CANCEL' })
}
