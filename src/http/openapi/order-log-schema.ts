/**
 * The bodies of `GET /v1/orders/{id}/events` and `GET /v1/orders/{id}/explain` (routes/order-log.ts), field by field.
 * The routes build their answers as OrderEventsBody and OrderExplainBody, so tsc holds them to these schemas; the
 * document's answers are generated from them, and specs/http/openapi-shapes.test.ts holds real answers to the document.
 *
 * A logged record is shown as logged (its fields differ by type, and the log's schemas say them: domain/events), so
 * an event and a story entry's `record` name the keys every record has and let the rest through.
 */

import * as v from 'valibot'
import { EVENT_SCHEMAS, type EventType } from '../../domain/events/index.ts'
import { GUARD_NAMES } from '../../domain/guards.ts'
import { TRADING_SWITCHES } from '../../domain/modes.ts'
import { VENUE_REJECT_CODE_NAMES } from '../../domain/venue-reject-codes.ts'
import { DECISIONS_RECENT_MAX, STORY_RECENT_MAX } from '../routes/explain-excerpt.ts'
import { EVENTS_PAGE_DEFAULT } from '../routes/events-page.ts'
import { count, integer, orNull, text } from './answer-fields.ts'

const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as [EventType, ...EventType[]]

/** Where a record belongs in an order's story. */
export const STORY_STAGES = ['intent', 'gate', 'send', 'venue', 'report', 'fill', 'amend', 'cancel', 'reconcile', 'alert', 'other'] as const

const eventType = v.pipe(v.picklist(EVENT_TYPES), v.description('The record type'))

/** A logged value as API JSON: amounts are decimal strings, never JSON numbers. */
const logged = v.unknown()

const ORDER_EVENT = v.pipe(
  v.objectWithRest({ lsn: count('The record'), type: eventType, atMs: integer('When it was decided (ms since the epoch)') }, logged),
  v.description(
    "One of the order's records as logged (camelCase fields, amounts as decimal strings): the fields besides lsn, type and atMs are its type's; a venue's refusal (order.venue_rejected, order.cancel_rejected, an order.amend_failed VENUE_AMEND_REJECTED) also has venueRejectCode, the venue reject code derived from its reason text (not in the log)",
  ),
)

export const ORDER_EVENTS = v.strictObject({
  order_id: text('The order'),
  history_compacted: v.pipe(
    v.boolean(),
    v.description(
      "On every page: true when the log no longer holds the order's first records (its acceptance or rejection among them): compaction removed them, so the order's history before this page is not whole — a first page starts after them, and a later one follows records that may since be gone (compacted while the client paged, or before a cursor below the retained log). False when the log holds the order's history from its start",
    ),
  ),
  events: v.pipe(v.array(ORDER_EVENT), v.description(`The records about the order after the cursor, in log order: \`limit\` at most (${EVENTS_PAGE_DEFAULT} when not given)`)),
  next_cursor: orNull(
    text('cursor'),
    'Pass as `cursor` for the next page (the LSN of the last record this page covered); null when no record of the order follows. A record logged while a client pages comes in a later page, once; after the end, the LSN of the last event as `cursor` reads on from there',
  ),
})

export type OrderEventsBody = v.InferOutput<typeof ORDER_EVENTS>

const GUARD_NAME = v.picklist(GUARD_NAMES)
const GUARD_INPUT = v.nullable(v.union([v.string(), v.number(), v.boolean()]))

/**
 * A decision about the order. Accepts, rejects and amends carry their decision record (guards, roles, config digest,
 * build). A resend, allowed (`order.resend_requested`) or refused (`order.resend_refused`), carries who asked, the config
 * digest and build it was decided under (null in records written before payload version 12: the config or build running
 * now may not be the one it was decided under) and what its record says — for an allowed one the amount reserved again,
 * for a refused one the reason code and what the refusing check saw — in `detail`: its roles are null and its guards
 * are empty. A cancel is no decision here: its record in the story (order.cancel_requested, or order.canceled for an
 * order never sent) carries principalId, configDigest and buildCommit.
 */
const DECISION = v.strictObject({
  lsn: count('The record that carries the decision'),
  outcome: v.pipe(
    v.picklist(['accepted', 'rejected', 'amend_accepted', 'amend_rejected', 'resend_accepted', 'resend_refused']),
    v.description('What was decided: the order, one of its amends, or a resend (allowed or refused)'),
  ),
  trace_id: orNull(
    text('W3C trace id, 32 lowercase hex digits'),
    'The trace of the request that asked for it (its traceparent, or the one egress started): the order create (accepted or rejected) or amend; null for a resend (egress resends on its own, after a restart) and records written before traces were recorded',
  ),
  reason: orNull(text('reason code'), 'Why it was rejected or refused; null when accepted or allowed'),
  reason_description: orNull(text('what the reason code means'), "The reason code's one line from the reason dictionary; null when reason is null"),
  failed_guard: orNull(text('guard name'), 'The guard that refused it; null when accepted, and for a resend (its checks are not recorded as guards: see detail)'),
  detail: orNull(
    text('what the check saw'),
    'A resend: what its record says (refused: what the refusing check saw; allowed: the checks it passed and what it reserves again); null for the others, whose guards say it',
  ),
  principal: text('Who asked'),
  roles: orNull(v.array(v.string()), "The principal's roles; null for a resend (its record names the principal only)"),
  config_digest: orNull(
    text('config digest'),
    'The digest of the config it was decided under; null for a resend recorded before payload version 12 (its record holds none, and the running config may not be the one it was decided under)',
  ),
  build_commit: orNull(text('build commit'), 'The build that decided it; null for a resend recorded before payload version 12, or decided by a command that named no build'),
  decided_at_ms: integer('When it was decided (ms since the epoch)'),
  guards: v.pipe(
    v.array(
      v.strictObject({
        guard: GUARD_NAME,
        outcome: v.picklist(['pass', 'fail']),
        reason: orNull(text('reason code'), 'Why it failed; null when it passed'),
        inputs: v.pipe(v.record(v.string(), GUARD_INPUT), v.description('What the guard looked at (amounts as decimal strings)')),
      }),
    ),
    v.description('Every guard that ran, in the fixed order; those after the first failure did not run. Empty for a resend (see detail)'),
  ),
})

const STORY_ENTRY = v.strictObject({
  lsn: count('The record'),
  at_ms: integer('When it was decided (ms since the epoch)'),
  stage: v.pipe(v.picklist(STORY_STAGES), v.description('The part of the story it belongs to')),
  type: eventType,
  summary: text('One line a person can read without the record beside it'),
  reason_description: orNull(
    text('what the reason code means'),
    "The meaning of the reason code the record carries (its `reason`: a rejection, cancel, block, failure, reconcile result, alert…), from the reason dictionary; null when it carries none (a venue's own reason text is in the record and the summary)",
  ),
  venue_reject_code: orNull(
    v.picklist(VENUE_REJECT_CODE_NAMES),
    "A venue's refusal (order.venue_rejected, order.cancel_rejected, an order.amend_failed VENUE_AMEND_REJECTED): the venue reject code its reason text gives (OTHER for a text without a code egress knows); null for every other record",
  ),
  record: v.pipe(
    v.record(v.string(), logged),
    v.description(
      'The record as logged, minus type, atMs and orderId (camelCase fields, amounts as decimal strings). A cancel (order.cancel_requested, order.canceled ended locally) and a resend carry principalId, configDigest and buildCommit: who decided it under which config and build (§9; configDigest and buildCommit absent in records written before payload version 12, and buildCommit in a cancel a venue\'s answer caused)',
    ),
  ),
})

/** The members of `held` that name a switch (held_by names the one holding the order). */
const HOLDING_SWITCHES = ['trading_switch', 'account_switch'] as const

const HELD = v.strictObject({
  action: v.pipe(v.picklist(['place', 'amend']), v.description('What is held: the queued place, or the queued amend')),
  reason: text('The reason code of the hold'),
  held_by: v.pipe(
    v.picklist(HOLDING_SWITCHES),
    v.description("The switch holding it: the gateway's trading switch (reason KILL_SWITCH_*), or the order's account's own (ACCOUNT_HALTED, ACCOUNT_CANCEL_ONLY: an auto-stop on its order rate, or an operator's POST /v1/accounts/{id}/halt | cancel-only)"),
  ),
  trading_switch: v.pipe(v.picklist(TRADING_SWITCHES), v.description("The gateway's trading switch now (normal, or engaged too when the account's own switch holds the order: under the trading switch's HALT an account's own CANCEL_ONLY still holds a flatten's close)")),
  account_switch: v.pipe(v.picklist(TRADING_SWITCHES), v.description("The order's account's own switch now (normal when that account is not stopped on its own)")),
  description: text('What the reason means'),
})

export const ORDER_EXPLAIN = v.strictObject({
  order_id: text('The order'),
  account: orNull(text('account id'), 'Its account; null for a rejected order whose body named none the kernel could use'),
  trace_id: orNull(
    text('W3C trace id, 32 lowercase hex digits'),
    "The trace the order was accepted or rejected under (the create request's traceparent, or the one egress started); null when decided before traces were recorded for it (acceptances before payload version 4, rejections before 6), or its acceptance is not among the records read",
  ),
  decisions: v.pipe(
    v.array(DECISION),
    v.description(
      `Why the order, and each of its amends, was accepted or rejected, and each resend allowed or refused, in log order: the first decision (and the acceptance, if rejections of a retried key came first) and the ${DECISIONS_RECENT_MAX} most recent; decisions_omitted says how many between them are left out`,
    ),
  ),
  decisions_omitted: count('Decisions left out of decisions (read them in full_history)'),
  story: v.pipe(v.array(STORY_ENTRY), v.description(`The order's story: one entry per record, in log order: its first record and the ${STORY_RECENT_MAX} most recent; story_omitted says how many between them are left out`)),
  story_omitted: count('Records left out of story (read them in full_history)'),
  history_compacted: v.pipe(
    v.boolean(),
    v.description("True when the log no longer holds the order's first records (its acceptance or rejection among them): compaction removed them, and decisions, story and full_history start after them"),
  ),
  full_history: text('The path of the order\'s whole history, page by page (GET /v1/orders/{id}/events)'),
  held: orNull(HELD, 'The kill switch holding its queued place or amend now (never logged: a held item is not picked); null when none is'),
  ttl: orNull(
    v.strictObject({
      ttl_ms: integer('The time-to-live the order was accepted with (the body\'s ttl_ms)'),
      expires_at_ms: integer('When it ends (accepted at + ttl_ms): past it the order is never sent; queued, it ends Canceled (TTL_EXPIRED); resting at the venue, it is canceled through Lane0'),
    }),
    "The order's time-to-live, from its acceptance record (compacted away: from the order the kernel holds); null when it has none, or neither is at hand",
  ),
})

export type OrderExplainBody = v.InferOutput<typeof ORDER_EXPLAIN>
export type StoryStage = (typeof STORY_STAGES)[number]
