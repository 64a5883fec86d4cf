/**
 * The gateway's check of a venue execution report before the kernel records it: it must fit the schema the log reads
 * `inbox.report_accepted` back with. The log encodes what it is given, but a report it cannot decode (a fill at a
 * price of 0 or below, a venue time before 1970) made every later start fail on replay. Adapters check what they
 * parse (the JSONL client with this same schema; the FIX adapter field by field); this is the one check every
 * adapter's reports pass, so a gap in one of them costs a refused report, never an unreadable log.
 */

import * as v from 'valibot'
import type { ExecutionReport } from '../venues/adapter.ts'
import { describeIssue, PARSE_CONFIG, reportSchema } from '../venues/jsonl/messages.ts'

/** A venue report the log could not read back: refused, passed to onError, and its order (if any) read back. */
export class VenueReportInvalidError extends Error {
  override readonly name = 'VenueReportInvalidError'
  readonly code = 'VENUE_REPORT_INVALID'
}

/** Null when `report` fits the log's report schema; else the error naming the first member that does not. */
export function invalidReportOf(report: ExecutionReport): VenueReportInvalidError | null {
  const parsed = v.safeParse(reportSchema, report, PARSE_CONFIG)
  if (parsed.success) return null
  return new VenueReportInvalidError(`${String(report.venue)} report ${String(report.execId)} refused, the log could not read it back (${describeIssue(parsed.issues[0], 'report')})`)
}
