/**
 * The schema of a venue execution report as egress holds it (ExecutionReport, src/venues/adapter.ts): the inbox's
 * event schema (events/common.ts) with its amounts as bigint units, the way adapters hand reports over. It belongs to
 * the domain, not to one venue: the JSONL client reads its wire reports with it, and the gateway's report check
 * (src/runtime/report-check.ts) holds every adapter's reports to it before the kernel records them.
 *
 * A report that passed `checkVenueReport` is marked (and frozen, so the mark stays true of it): the gateway does not
 * parse it a second time. Reports built any other way (the sim venue's, the FIX adapter's, a spec's) carry no mark
 * and are parsed there.
 */

import * as v from 'valibot'
import { executionReportSchema } from './events/common.ts'

/** Only the first issue is ever reported, so validation stops there (cheaper on bad input too). */
export const PARSE_CONFIG = { abortEarly: true } as const

/** Longest detail (issue text, line preview) put in a log line or a reason: venue text is never logged whole. */
export const DETAIL_CHARS_MAX = 200

/** Amounts as adapters hold them: bigint units (schema-kit's unit schemas read the log's decimal strings). */
export const bigUnitsSchema = v.bigint()
export const positiveBigUnitsSchema = v.pipe(v.bigint(), v.minValue(1n, 'expected a positive amount'))
export const nonNegativeBigUnitsSchema = v.pipe(v.bigint(), v.minValue(0n, 'expected a non-negative amount'))

/** Longest id a venue may give (execId, venueOrderId, its echo of our client order id, account, symbol). */
export const VENUE_ID_CHARS_MAX = 256
/** Longest reason text a venue may give: it is recorded with the report, so it is bounded like every input. */
export const VENUE_REASON_CHARS_MAX = 1_024

/** No control characters (C0, DEL): an id is a token, never text with line breaks or NULs. */
const ID_PATTERN = new RegExp(`^[^\\x00-\\x1f\\x7f]{1,${VENUE_ID_CHARS_MAX}}$`)
/**
 * No lone surrogate (a JSON escape such as "\ud800"): UTF-8 cannot hold one, so the engine makes commands well-formed
 * (src/domain/well-formed.ts) and every lone surrogate became U+FFFD. Two exec ids differing only there became one,
 * and the second fill was dropped as a duplicate of the first (inbox.duplicate_dropped) until a read-back. Refused
 * here, an id is kept exactly as the venue gave it or not at all.
 */
const WELL_FORMED = v.check((id: string) => id.isWellFormed(), 'expected well-formed Unicode (no unpaired surrogate such as \\ud800)')
const venueIdSchema = v.pipe(v.string(), v.regex(ID_PATTERN, `expected 1–${VENUE_ID_CHARS_MAX} characters, no control characters`), WELL_FORMED)
/**
 * Ids a venue may leave empty: a venue order id (a reject of an order the venue never created names none: FIX OrderID
 * absent), and the account and symbol (a FIX report without Account, about an order the adapter has no facts of,
 * states ''). The kernel reads an empty account or symbol as not stated (inbox.ts mismatchOf): refused here, a stray
 * order at such a venue raised no REPORT_ORPHANED.
 */
const ID_OR_EMPTY_PATTERN = new RegExp(`^[^\\x00-\\x1f\\x7f]{0,${VENUE_ID_CHARS_MAX}}$`)
const ID_OR_EMPTY_EXPECTED = `expected an empty id or 1–${VENUE_ID_CHARS_MAX} characters, no control characters`
// One pattern, not a union of '' and venueIdSchema: a union tries '' first and builds an issue for every non-empty id
// (three per report, about 1 % of the event loop in the bench's profile).
const venueIdOrEmptySchema = v.pipe(v.string(ID_OR_EMPTY_EXPECTED), v.regex(ID_OR_EMPTY_PATTERN, ID_OR_EMPTY_EXPECTED), WELL_FORMED)
/** Null when `text` is a venue id as venueReportSchema bounds it (empty too, when `emptyAllowed`); else the problem. */
export function venueIdProblem(text: unknown, emptyAllowed = false): string | null {
  const parsed = v.safeParse(emptyAllowed ? venueIdOrEmptySchema : venueIdSchema, text, PARSE_CONFIG)
  return parsed.success ? null : parsed.issues[0].message
}

/**
 * A venue's free text as a report's reason: cut to VENUE_REASON_CHARS_MAX with an ellipsis. Adapters that read a
 * third party's text (FIX Text) pass it through this, so a long text shortens the reason instead of refusing a reject
 * or cancel-reject report whole.
 */
export function venueReasonText(text: string): string {
  return text.length <= VENUE_REASON_CHARS_MAX ? text : `${text.slice(0, VENUE_REASON_CHARS_MAX - 1)}…`
}

const venueReasonSchema = v.pipe(v.string(), v.maxLength(VENUE_REASON_CHARS_MAX, `expected at most ${VENUE_REASON_CHARS_MAX} characters`))

/**
 * The inbox's ExecutionReport schema with bigint amounts: the same members, kinds and rules, so a report that fits it
 * is one the inbox can record. An amount member added there must be overridden here as well. Its output is the
 * adapters' ExecutionReport (src/venues/jsonl/messages.ts types it so; tsc fails when the two drift apart). The venue's
 * ids and texts are bounded here, on the way in, not in the log's schema (a log written before stays readable).
 */
export const venueReportSchema = v.strictObject({
  ...executionReportSchema.entries,
  execId: venueIdSchema,
  clientOrderId: venueIdSchema,
  origClientOrderId: v.exactOptional(venueIdSchema),
  venueOrderId: venueIdOrEmptySchema,
  account: venueIdOrEmptySchema,
  symbol: venueIdOrEmptySchema,
  feeAsset: v.exactOptional(venueIdSchema),
  reason: v.exactOptional(venueReasonSchema),
  cumQty: nonNegativeBigUnitsSchema,
  lastQty: v.exactOptional(positiveBigUnitsSchema),
  lastPrice: v.exactOptional(positiveBigUnitsSchema),
  fee: v.exactOptional(bigUnitsSchema),
})

export type VenueReport = v.InferOutput<typeof venueReportSchema>

/** Reports that passed checkVenueReport (frozen when marked). Weak: a report forgotten by everyone else is gone here too. */
const checked = new WeakSet<object>()

/**
 * Checks `value` against venueReportSchema: the report (a new object, frozen and marked as checked), or the first
 * issue as `path: message` with its path under `prefix`.
 */
export function checkVenueReport(value: unknown, prefix: string): { ok: true; report: Readonly<VenueReport> } | { ok: false; problem: string } {
  const parsed = v.safeParse(venueReportSchema, value, PARSE_CONFIG)
  if (!parsed.success) return { ok: false, problem: describeIssue(parsed.issues[0], prefix) }
  const report = Object.freeze(parsed.output)
  checked.add(report)
  return { ok: true, report }
}

/** Did `report` come out of checkVenueReport (so it fits venueReportSchema and cannot have changed since)? */
export function isCheckedVenueReport(report: object): boolean {
  return checked.has(report)
}

/** `path: message` of one issue, the path prefixed by where the validated value sits. */
export function describeIssue(issue: v.BaseIssue<unknown>, prefix: string): string {
  const path = [prefix, v.getDotPath(issue) ?? ''].filter((part) => part !== '').join('.')
  return truncateDetail(`${path === '' ? '(the line)' : path}: ${issue.message}`)
}

/** `text`, cut to DETAIL_CHARS_MAX with its full length said. */
export function truncateDetail(text: string): string {
  return text.length <= DETAIL_CHARS_MAX ? text : `${text.slice(0, DETAIL_CHARS_MAX)}… (${text.length} characters)`
}
