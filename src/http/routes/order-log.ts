/**
 * An order's history from the log: its recorded events (`/events`, with LSNs, a page at a time: events-page.ts) and
 * its explanation (`/explain`): the decision records that say why it was accepted or rejected and why each amend was,
 * and each resend allowed or refused with what its record carries, each reason code with its meaning (`decisions`),
 * and its story (`story`) — intent with its
 * decision record, reservation and lane, every gate verdict, sends, venue answers and reports, fills, amends, cancels,
 * reconcile results and alerts — one entry per log record, in log order, each with its LSN, time, the stage it belongs
 * to, a one-line summary and the record as logged. Both lists of /explain are excerpts (the first and the most recent
 * entries, with how many are left out: explain-excerpt.ts), so no answer grows with the order's history. Both read the
 * log itself through the log index, so they show exactly what replay would see; the order itself is found in memory
 * too, so both answer once the log holds what memory held (durableAnswer).
 */

import { Hono } from 'hono'
import { GATEWAY_PRINCIPAL_ID } from '../../domain/accounts.ts'
import { formatDecimal } from '../../domain/decimal.ts'
import type { DomainEvent, EventOf, EventType } from '../../domain/events/index.ts'
import type { DecisionRecord, GuardInputValue } from '../../domain/guards.ts'
import type { Order } from '../../domain/orders.ts'
import { reasonInfo, type ReasonCode } from '../../domain/reasons.ts'
import { traceIdOf } from '../../domain/trace-context.ts'
import { switchHoldOf, venueFormOf, type KernelState } from '../../kernel/index.ts'
import { principalOf, type AuthEnv } from '../auth/index.ts'
import type { OrderEventsBody, OrderExplainBody, StoryStage } from '../openapi/order-log-schema.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import { EVENTS_PAGE_DEFAULT, EVENTS_QUERY, unknownCursor } from './events-page.ts'
import { explainExcerpt } from './explain-excerpt.ts'
import type { Services } from '../services.ts'
import { apiJson } from '../views/json.ts'
import { eventJson, venueRejectOf } from '../venue-reject/of-event.ts'
import { findOrderRef, type OrderRef } from './order-lookup.ts'
import { venueRejectCodeOf } from '../../venues/reject-code-of.ts'
import { heldBeforeVenue } from '../../runtime/call-holds.ts'
import { durableAnswer, pathId } from './support.ts'

/** The query `/events` parses (events-page.ts), exported here beside its route for the document's check. */
export { EVENTS_QUERY }

export function orderLogRoutes(services: Services): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>()
  app.get('/v1/orders/:id/events', (c) => {
    const query = queryOf(c, EVENTS_QUERY)
    const found = findOrderRef(services, principalOf(c), pathId(c, 'id'))
    const afterLsn = query.cursor ?? 0
    // next_cursor is always the LSN of one of this order's records. Any other LSN the log holds (another order's
    // next_cursor, a made-up number) would start the page after it and silently skip this order's records before it.
    if (afterLsn !== 0 && !services.logIndex.isCursorOf(found.orderId, afterLsn)) throw unknownCursor()
    // The page is read once the log holds what memory showed (durableAnswer): a refusal memory holds is in it.
    return durableAnswer(c, services, (): OrderEventsBody => {
      const page = services.logIndex.eventsPage(found.orderId, afterLsn, query.limit ?? EVENTS_PAGE_DEFAULT)
      const events = page.events.map(({ lsn, event }) => ({ lsn, ...(eventJson(event) as { type: EventType; atMs: number }) }))
      const nextCursor = page.nextAfterLsn === null ? null : String(page.nextAfterLsn)
      return { order_id: found.orderId, history_compacted: page.historyCompacted, events, next_cursor: nextCursor }
    })
  })
  app.get('/v1/orders/:id/explain', (c) => {
    queryOf(c, NO_QUERY)
    const found = findOrderRef(services, principalOf(c), pathId(c, 'id'))
    const held = found.held === null ? null : heldView(services.gateway.engine.state, found.held)
    // The log is read once it holds what memory showed (durableAnswer): a refusal memory holds is in the story.
    return durableAnswer(c, services, () => explainBody(services, found, held))
  })
  return app
}

/** /explain's answer: the order's decisions and story from the log, `held` from memory. */
function explainBody(services: Services, found: OrderRef, held: OrderExplainBody['held']): OrderExplainBody {
  const excerpt = explainExcerpt(services.logIndex, found.orderId)
  const decisions: OrderExplainBody['decisions'] = []
  const accepted = acceptanceOf(excerpt.events)
  const intake = accepted ?? rejectionOf(excerpt.events)
  for (const { lsn, event } of excerpt.events) {
    if (!excerpt.decisionLsns.has(lsn)) continue
    if (event.type === 'order.accepted') decisions.push(decisionView(lsn, 'accepted', event, { reason: null, guard: null }))
    if (event.type === 'order.rejected') decisions.push(decisionView(lsn, 'rejected', event, { reason: event.reason, guard: event.guard }))
    if (event.type === 'order.amend_requested') decisions.push(decisionView(lsn, 'amend_accepted', event, { reason: null, guard: null }))
    if (event.type === 'order.amend_rejected') decisions.push(decisionView(lsn, 'amend_rejected', event, { reason: event.reason, guard: event.guard }))
    if (event.type === 'order.resend_requested') decisions.push(resendView(lsn, event, accepted))
    if (event.type === 'order.resend_refused') decisions.push(resendRefusedView(lsn, event))
  }
  const story = excerpt.events.filter(({ lsn }) => excerpt.storyLsns.has(lsn)).map(({ lsn, event }) => storyEntry(lsn, event))
  return {
    order_id: found.orderId,
    account: found.accountId,
    trace_id: intake === null ? null : traceIdOrNull(intake),
    decisions,
    decisions_omitted: excerpt.decisionsOmitted,
    story,
    story_omitted: excerpt.storyOmitted,
    history_compacted: excerpt.compacted,
    full_history: `/v1/orders/${found.orderId}/events`,
    held,
    ttl: ttlOf(accepted, found.held),
  }
}

/**
 * The order's time-to-live from its acceptance record; when compaction removed that record, from the order the kernel
 * holds (which replay built from it); null when it has none or neither is at hand (a retired order's, compacted).
 */
function ttlOf(accepted: EventOf<'order.accepted'> | null, held: Order | null): OrderExplainBody['ttl'] {
  if (accepted !== null) return accepted.ttlMs === undefined ? null : { ttl_ms: accepted.ttlMs, expires_at_ms: accepted.atMs + accepted.ttlMs }
  if (held === null || held.expiresAtMs === null) return null
  return { ttl_ms: held.expiresAtMs - held.acceptedAtMs, expires_at_ms: held.expiresAtMs }
}

/**
 * The kill switch holding the order's queued place or amend (never logged: a held item is not picked), or null. Named
 * by the hold's reason, not by which switch is engaged: an account stopped on its own holds its orders with the trading
 * switch normal, and under the trading switch's HALT its CANCEL_ONLY still holds a flatten's close the HALT lets go.
 */
function heldView(state: KernelState, order: Order): OrderExplainBody['held'] {
  const hold = switchHoldOf(state, order)
  if (hold === null) return null
  const heldBy = hold.reason === 'ACCOUNT_HALTED' || hold.reason === 'ACCOUNT_CANCEL_ONLY' ? 'account_switch' : 'trading_switch'
  const accountSwitch = state.accountSwitches.get(order.accountId)?.switch ?? 'normal'
  return { action: hold.action, reason: hold.reason, held_by: heldBy, trading_switch: state.tradingSwitch, account_switch: accountSwitch, description: reasonInfo(hold.reason).description }
}

type DecisionView = OrderExplainBody['decisions'][number]

/** A record carrying a decision record, and the trace context of the request that wrote it (when it has one). */
interface DecidedRecord {
  decision: DecisionRecord
  traceparent?: string
}

/** The trace id of the request that wrote the record; null for records without one (older, or caused by no request). */
function traceIdOrNull(record: { traceparent?: string }): string | null {
  return record.traceparent === undefined ? null : traceIdOf(record.traceparent)
}

function decisionView(lsn: number, outcome: DecisionView['outcome'], record: DecidedRecord, failed: { reason: ReasonCode | null; guard: DecisionView['failed_guard'] }): DecisionView {
  const decision = record.decision
  return {
    lsn,
    outcome,
    trace_id: traceIdOrNull(record),
    reason: failed.reason,
    reason_description: descriptionOf(failed.reason),
    failed_guard: failed.guard,
    detail: null,
    principal: decision.principalId,
    roles: decision.roles,
    config_digest: decision.configDigest,
    build_commit: decision.buildCommit,
    decided_at_ms: decision.nowMs,
    guards: decision.guards.map((guard) => ({ guard: guard.guard, outcome: guard.outcome, reason: guard.reason ?? null, inputs: apiJson(guard.inputs) as Record<string, GuardInputValue> })),
  }
}

/**
 * A resend the kernel allowed (`order.resend_requested`), as a decision from what its record carries: who asked, under
 * which config and build (payload version 12; null in older records), and what it reserves again. Like a refused one it
 * has no roles or guards on record (null, empty):
 * resend.ts re-runs its checks (the trading switch, data health, and for an order not a flatten close the account's
 * policy, the price band and the instrument's rules; then the reservation) and logs only the amount reserved. A build
 * before de1f40f9 did not read the instrument's rules at a resend, and its record is the same: the detail names them
 * as a newer build's check, not as one this record passed. The asset, and whether the order is a flatten close, come
 * from its acceptance (a resend reserves the order as recorded, in the same asset); when the acceptance is not among
 * the records read, the detail says less rather than guess.
 */
function resendView(lsn: number, event: EventOf<'order.resend_requested'>, accepted: EventOf<'order.accepted'> | null): DecisionView {
  const checks = accepted === null
    ? 'the checks a resend re-runs passed'
    : accepted.flattenId === null
      ? `the trading switch, data health, the account's policy, the price band and the reservation passed again (the instrument's rules too, by a build that reads them at a resend: ${event.buildCommit === undefined ? 'the record does not say which build' : `this one was ${event.buildCommit}`})`
      : "the trading switch, data health and the reservation passed again (a flatten close skips policy, band and the instrument's rules)"
  const amount = `${d(event.reservationAmount)}${accepted === null ? '' : ` ${accepted.reservationAsset}`}`
  return {
    lsn,
    outcome: 'resend_accepted',
    trace_id: null,
    reason: null,
    reason_description: null,
    failed_guard: null,
    detail: `resend by ${event.principalId} allowed: ${checks}; the order goes out again as recorded and reserves ${amount} again`,
    principal: event.principalId,
    roles: null,
    ...attributionView(event),
    decided_at_ms: event.atMs,
    guards: [],
  }
}

/**
 * The config digest and build a resend was decided under, as its record carries them (payload version 12: kernel/
 * attribution.ts); null for a record written before, never the running config's or build's: that would be a guess.
 */
function attributionView(event: { configDigest?: string; buildCommit?: string }): Pick<DecisionView, 'config_digest' | 'build_commit'> {
  return { config_digest: event.configDigest ?? null, build_commit: event.buildCommit ?? null }
}

/** The reason code's line in the dictionary (what a code means, for a reader who does not know them), or null. */
function descriptionOf(reason: ReasonCode | null): string | null {
  return reason === null ? null : reasonInfo(reason).description
}

/** The order's acceptance among the records read, or null when it is not among them. */
function acceptanceOf(events: readonly { event: DomainEvent }[]): EventOf<'order.accepted'> | null {
  for (const { event } of events) if (event.type === 'order.accepted') return event
  return null
}

/** The order's rejection among the records read (an order the kernel rejected at intake), or null. */
function rejectionOf(events: readonly { event: DomainEvent }[]): EventOf<'order.rejected'> | null {
  for (const { event } of events) if (event.type === 'order.rejected') return event
  return null
}

/**
 * A refused resend as a decision, from what its record carries: who asked, the reason code and what the check saw, and
 * the config digest and build it was decided under (null in records before payload version 12: the running config's
 * would be a guess about a decision that may predate it). Roles are null (the record holds none), and there are no
 * guards (resend.ts records the refusing
 * check's reason and detail, not a guard list).
 */
function resendRefusedView(lsn: number, event: EventOf<'order.resend_refused'>): DecisionView {
  return {
    lsn,
    outcome: 'resend_refused',
    trace_id: null,
    reason: event.reason,
    reason_description: descriptionOf(event.reason),
    failed_guard: null,
    detail: event.detail,
    principal: event.principalId,
    roles: null,
    ...attributionView(event),
    decided_at_ms: event.atMs,
    guards: [],
  }
}

/** Every record type has a stage (the compiler checks), so a new type cannot fall out of the story unnoticed. */
const STAGES: Record<EventType, StoryStage> = {
  'order.accepted': 'intent', 'order.rejected': 'intent',
  'order.send_blocked': 'gate',
  'order.send_requested': 'send', 'order.cancel_send_requested': 'send', 'order.amend_send_requested': 'send', 'order.resend_requested': 'send',
  'order.resend_refused': 'send',
  'order.call_completed': 'venue', 'order.send_acked': 'venue', 'order.send_retry': 'venue', 'order.venue_rejected': 'venue',
  'order.cancel_acked': 'venue', 'order.cancel_rejected': 'venue', 'order.expired': 'venue', 'order.unknown': 'venue',
  'inbox.report_accepted': 'report', 'inbox.duplicate_dropped': 'report',
  'order.fill': 'fill', 'order.fill_covered': 'fill', 'order.synthetic_pending': 'fill', 'order.synthetic_declined': 'fill', 'order.fill_trued_up': 'fill',
  'order.amend_requested': 'amend', 'order.amend_rejected': 'amend', 'order.amended': 'amend', 'order.limit_loosest': 'amend', 'order.amend_failed': 'amend',
  'order.cancel_requested': 'cancel', 'order.canceled': 'cancel',
  'order.reconciled': 'reconcile', 'order.reconcile_deferred': 'reconcile', 'order.overfill_recheck': 'reconcile',
  'order.suspect_marked': 'reconcile', 'order.suspect_cleared': 'reconcile',
  'alert.raised': 'alert', 'order.transition_refused': 'alert',
  'kernel.configured': 'other', 'kernel.retire_rule_adopted': 'other', 'kernel.hold_rule_adopted': 'other', 'mode.changed': 'other', 'switch.changed': 'other', 'account.funded': 'other', 'account.flatten_requested': 'other', 'account.switch_changed': 'other',
  'venue.health_changed': 'other', 'venue.override_proposed': 'other', 'venue.override_approved': 'other', 'venue.override_revoked': 'other', 'venue.override_lapsed': 'other',
  'auth.token_revoked': 'other', 'auth.subject_revoked': 'other',
  'order_list.accepted': 'other', 'order_list.triggered': 'other',
}

function storyEntry(lsn: number, event: DomainEvent): OrderExplainBody['story'][number] {
  // The record as logged, minus what the entry already says (type, time, the order it is about).
  const { type, atMs, orderId: _orderId, ...record } = event as DomainEvent & { orderId?: unknown }
  const reasonDescription = descriptionOf('reason' in event ? event.reason : null)
  const venueRejectCode = venueRejectOf(event)?.code ?? null
  return { lsn, at_ms: atMs, stage: STAGES[type], type, summary: summaryOf(event), reason_description: reasonDescription, venue_reject_code: venueRejectCode, record: apiJson(record) as Record<string, unknown> }
}

const d = formatDecimal

/**
 * How a market order goes to the venue (src/kernel/venue-form.ts): as a limit at its protection price, or, without one
 * (its instrument cannot take the limit, or it was accepted before protection existed), as a plain market order.
 */
function protectionText(event: EventOf<'order.accepted'>): string {
  if (event.orderType !== 'market') return ''
  if (event.protectionPrice === undefined) return ', sent as a plain market order (no protection price)'
  const form = venueFormOf({ type: event.orderType, price: event.price, protectionPrice: event.protectionPrice, tif: event.tif })
  return `, protected at ${d(event.protectionPrice)}: sent as a limit at it (${form.tif}), never filled worse`
}

/** One line a person can read without the record beside it; the record is there for everything else. */
export function summaryOf(event: DomainEvent): string {
  switch (event.type) {
    case 'order.accepted': {
      const price = event.price === null ? '' : ` @ ${d(event.price)}`
      const ttl = event.ttlMs === undefined ? '' : ` with a time-to-live of ${event.ttlMs} ms (ends at ${event.atMs + event.ttlMs})`
      return `accepted ${event.side} ${d(event.qty)} ${event.symbol} ${event.orderType}${price} ${event.tif} in lane ${event.lane}${ttl}${protectionText(event)}; ` +
        `reserves ${d(event.reservationAmount)} ${event.reservationAsset}; ${guardList(event.decision)}`
    }
    case 'order.rejected': return `rejected ${event.reason} by the ${event.guard} guard; ${guardList(event.decision)}`
    case 'order.send_blocked': return `${event.action} held back (${event.reason}); ${gateText(event.gate)}`
    case 'order.send_requested': return `place sent to the venue, attempt ${event.attempt}; ${gateText(event.gate)}`
    case 'order.cancel_send_requested': return `cancel sent to the venue, attempt ${event.attempt}; ${gateText(event.gate)}`
    case 'order.amend_send_requested': return `amend #${event.amendId} sent to the venue, attempt ${event.attempt}; ${gateText(event.gate)}`
    case 'order.resend_requested': return `resend requested by ${event.principalId}; reserves ${d(event.reservationAmount)} again`
    case 'order.resend_refused': return `resend by ${event.principalId} refused ${event.reason}: ${event.detail}`
    case 'order.call_completed':
      // A call held before the venue (call-holds.ts heldBeforeVenue) was answered by the executor, never made.
      return event.outcome === 'retryable' && heldBeforeVenue(event.detail)
        ? `${event.action} not called, answered retryable on the venue's behalf: ${event.detail}`
        : `${event.action} call returned ${event.outcome}${event.detail === '' ? '' : `: ${event.detail}`}`
    case 'order.send_acked': return `venue acknowledged the order as ${event.venueOrderId}`
    case 'order.send_retry':
      // The HA send gate, a kill switch or a mode change holds a call before it reaches the venue (call-holds.ts
      // heldBeforeVenue); every other retry is the venue's own answer.
      return heldBeforeVenue(event.venueReason)
        ? `${event.action} held before the venue, to be retried: ${event.venueReason}`
        : `${event.action} to be retried: the venue said ${event.venueReason}`
    case 'order.venue_rejected': return `venue rejected the order (${venueRejectCodeOf(event.venueReason)}): ${event.venueReason}`
    case 'order.cancel_acked': return 'venue acknowledged the cancel'
    case 'order.cancel_rejected': return `venue refused the cancel (${venueRejectCodeOf(event.venueReason)}): ${event.venueReason}`
    case 'order.expired': return 'expired at the venue'
    case 'order.unknown': return `state unknown (${event.reason}): ${event.detail}`
    case 'inbox.report_accepted': return `venue report ${event.report.kind}, cumulative ${d(event.report.cumQty)}${reportFill(event.report)}`
    case 'inbox.duplicate_dropped': return `duplicate venue report ${event.execId} dropped`
    case 'order.fill': {
      const origin = event.synthetic ? ' (synthetic: inferred by reconciliation)' : ''
      return `filled ${d(event.lastQty)} @ ${d(event.lastPrice)}, fee ${d(event.fee)} ${event.feeAsset}; cumulative ${d(event.cumQty)}${origin}`
    }
    case 'order.fill_covered':
      return `fill ${event.execId} of ${d(event.lastQty)} @ ${d(event.lastPrice)} (venue cumulative ${d(event.venueCumQty)}): ` +
        `${d(event.coveredQty)} already booked by a synthetic fill up to ${d(event.syntheticCumQty)}, not booked again`
    case 'order.synthetic_pending': return `synthetic fill ${event.execId} of ${d(event.qty)} @ ${d(event.price)} to be trued up by the real fills it stands for`
    case 'order.synthetic_declined':
      return `venue reports cumulative ${d(event.venueCumQty)}, more than its trades explain: not booked at ${d(event.price)} (the synthetic cash pending would pass what a record holds)`
    case 'order.fill_trued_up':
      return `synthetic quantity ${d(event.qty)} trued up by fill ${event.execId} @ ${d(event.lastPrice)}: ${d(event.cash)} instead of ${d(event.syntheticCash)}` +
        `, fee ${d(event.fee)} ${event.feeAsset}`
    case 'order.amend_requested': return `amend #${event.amendId} accepted: qty ${d(event.qty)}${priceText(event.price)}; reservation now ${d(event.reservationTotal)}`
    case 'order.amend_rejected': return `amend rejected ${event.reason} by the ${event.guard} guard`
    case 'order.amended': return `amend #${event.amendId} applied (${event.source}): qty ${d(event.qty)}${priceText(event.price)}`
    case 'order.limit_loosest': return `loosest limit of every version so far: ${d(event.limit)}`
    case 'order.amend_failed': return `amend #${event.amendId} failed (${event.reason}): ${event.detail}`
    case 'order.cancel_requested':
      // kernel/inbox.ts resumeCancel: a cancel wanted while the order was Unknown, asked for again once the venue shows
      // it open. Its record names the gateway and USER_CANCEL whoever first asked: that request is earlier in the story.
      // No token subject is the gateway's name (http/auth/principal.ts), so no caller's cancel reads as this one.
      // kernel/results.ts: a place answered retryable under a kill switch that holds it is read back and canceled, a
      // first request by the gateway, the switch's.
      if (event.principalId !== GATEWAY_PRINCIPAL_ID) return `cancel requested by ${event.principalId} (${event.reason})`
      if (event.reason === 'ACCOUNT_HALTED' || event.reason === 'ACCOUNT_CANCEL_ONLY') {
        return `cancel requested by the gateway (${event.reason}): the account's own switch holds the order's place, which is not sent again; the order is read back and canceled where the venue has it`
      }
      return event.reason === 'KILL_SWITCH_HALT' || event.reason === 'KILL_SWITCH_CANCEL_ONLY'
        ? `cancel requested by the gateway (${event.reason}): the trading switch holds the order's place, which is not sent again; the order is read back and canceled where the venue has it`
        : `cancel requested again by the gateway (${event.reason}): a cancel was wanted while the order's state was unknown, and the venue now shows it open; the first cancel request says who asked and why`
    case 'order.canceled':
      // An order never sent, ended on the spot, names who ended it (payload version 11; absent in older records).
      return `canceled${event.principalId === undefined ? '' : ` by ${event.principalId}`} (${event.reason}, ${event.source})`
    case 'order.reconciled': return `reconciled to ${event.to}: venue status ${event.venueStatus}${event.notAtVenue ? ', not at the venue' : ''} (${event.reason})`
    case 'order.reconcile_deferred': return 'reconciliation deferred'
    case 'order.overfill_recheck': return `venue reports cumulative ${d(event.venueCumQty)}, past the order: asked again at ${event.retryAtMs}`
    case 'order.suspect_marked': return 'unknown at start: resent by a start if the venue proves it never had it'
    case 'order.suspect_cleared': return 'no longer resent at start if found absent (the start that marked it is done with it)'
    case 'order.transition_refused': return `${event.transition} refused in ${event.from}: ${event.detail}`
    case 'alert.raised': return `alert ${event.reason}: ${event.detail}`
    default: return event.type
  }
}

function guardList(decision: DecisionRecord): string {
  return `guards ${decision.guards.map((guard) => `${guard.guard} ${guard.outcome}`).join(', ')}`
}

type GateVerdict = EventOf<'order.send_requested'>['gate']

/**
 * The verdict as it is, not as one would hope: in paper and shadow the live-only checks fail and the send is still
 * allowed (to the simulated venue), so "passed" and "send allowed" are said separately.
 */
function gateText(gate: GateVerdict): string {
  const failed = gate.checks.filter((check) => check.applies && !check.pass).map((check) => check.check)
  const verdict = gate.pass ? 'gate passed' : `gate failed ${failed.join(', ')}`
  // Venue health that is not OK says which record set it (kernel/venue-health.ts puts it in check 8's detail).
  const health = gate.checks.find((check) => check.check === 'health_not_critical' && !check.detail.startsWith('health=OK,'))
  return `${verdict}; send ${gate.sendAllowed ? 'allowed' : 'refused'} in ${gate.mode}${health === undefined ? '' : `; ${health.detail}`}`
}

function reportFill(report: { lastQty?: bigint; lastPrice?: bigint }): string {
  return report.lastQty === undefined || report.lastPrice === undefined ? '' : `, last ${d(report.lastQty)} @ ${d(report.lastPrice)}`
}

function priceText(price: bigint | null): string {
  return price === null ? '' : ` @ ${d(price)}`
}
