/**
 * The gateway's check of a venue execution report before the kernel records it: it must fit the schema the log reads
 * `inbox.report_accepted` back with, and its amounts must be ones a record can hold. The log encodes what it is given,
 * but a report it cannot decode (a fill at a price of 0 or below, a venue time before 1970) made every later start
 * fail on replay, and an amount past 20 integer digits made the log's writer throw. Adapters check what they parse
 * (the JSONL client with this same schema; the FIX adapter field by field); this is the one check every adapter's
 * reports pass, so a gap in one of them costs a refused report, never an unreadable log.
 *
 * The schema is the domain's (src/domain/venue-report-schema.ts). A report that already passed it there (the JSONL
 * client's: marked and frozen by checkVenueReport) is not parsed again; every other report is (the sim venue's, the
 * FIX adapter's). The amount bound is checked on all of them: the JSONL wire takes more digits than a record holds.
 * So is the bound on a fill's cash (src/domain/recordable-amounts.ts): a fill covering synthetic quantity records the
 * cash of its share (order.fill_trued_up), and a 2 BTC fill at a price of 20 whole digits made the log's writer
 * assert — the report lost, and its order read back into the same assertion.
 */

import * as v from 'valibot'
import { formatDecimal } from '../domain/decimal.ts'
import { fillCashRecordable, isRecordableUnits, RECORD_UNITS_MAX } from '../domain/recordable-amounts.ts'
import { describeIssue, isCheckedVenueReport, PARSE_CONFIG, venueReportSchema } from '../domain/venue-report-schema.ts'
import type { ExecutionReport } from '../venues/adapter.ts'

/** A venue report the log could not read back: refused, passed to onError, and its order (if any) read back. */
export class VenueReportInvalidError extends Error {
  override readonly name = 'VenueReportInvalidError'
  readonly code = 'VENUE_REPORT_INVALID'
}

/** The amounts a report carries: each must be one a record can hold (at most 20 integer digits, as parseDecimal reads). */
const AMOUNT_MEMBERS = ['cumQty', 'lastQty', 'lastPrice', 'fee'] as const

/** Null when `report` fits the log's report schema and amounts; else the error naming the first member that does not. */
export function invalidReportOf(report: ExecutionReport): VenueReportInvalidError | null {
  if (!isCheckedVenueReport(report)) {
    const parsed = v.safeParse(venueReportSchema, report, PARSE_CONFIG)
    if (!parsed.success) return refused(report, describeIssue(parsed.issues[0], 'report'))
  }
  // The JSONL wire takes integers of up to 40 digits; a record holds 28 (the log's writer throws on more).
  const tooLarge = AMOUNT_MEMBERS.find((member) => {
    const amount = report[member]
    return amount !== undefined && !isRecordableUnits(amount)
  })
  if (tooLarge !== undefined) return refused(report, `report.${tooLarge}: beyond the amounts a record can hold`)
  // Each figure fitting is not enough: the kernel records a fill's cash, lastQty × lastPrice (order.fill_trued_up).
  const { lastQty, lastPrice } = report
  if (lastQty !== undefined && lastPrice !== undefined && lastQty > 0n && lastPrice > 0n && !fillCashRecordable(lastQty, lastPrice)) {
    return refused(report, `report.lastPrice: lastQty × lastPrice is beyond the cash a record can hold (at most ${formatDecimal(RECORD_UNITS_MAX)})`)
  }
  return null
}

function refused(report: ExecutionReport, problem: string): VenueReportInvalidError {
  return new VenueReportInvalidError(`${String(report.venue)} report ${String(report.execId)} refused, the log could not hold it (${problem})`)
}
