/**
 * A venue's ids and texts in a report are bounded on the way in (src/domain/venue-report-schema.ts): execId, the ids
 * it echoes, account, symbol and fee asset 1–256 characters without control characters (a venue order id, account and
 * symbol may also be empty: a reject of an order the venue never created names none, a FIX report without Account
 * states none; specs/runtime/report-empty-account.test.ts), a reason at most 1,024 characters. Before, the
 * schema took any string, so a venue (or a JSONL line up to its byte limit) could have a megabyte id or a line break
 * recorded as is (found by the JSONL adversarial review). The log's own schema is unchanged: logs written before
 * stay readable.
 */

import { describe, expect, test } from 'bun:test'
import { VENUE_ID_CHARS_MAX, VENUE_REASON_CHARS_MAX } from '../../src/domain/venue-report-schema.ts'
import { invalidReportOf } from '../../src/runtime/report-check.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { readVenueMessage } from '../../src/venues/jsonl/messages.ts'

const FILL: ExecutionReport = {
  venue: 'sim', execId: 'x-1', kind: 'fill', clientOrderId: 'c-1', venueOrderId: 'v-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy',
  cumQty: 1_000_000n, lastQty: 1_000_000n, lastPrice: 5_000_000_000_000n, venueTimeMs: 1,
}
const { lastQty: _lastQty, lastPrice: _lastPrice, ...UNFILLED } = FILL
const REJECTED: ExecutionReport = { ...UNFILLED, kind: 'rejected', cumQty: 0n, reason: 'price_band' }

describe('a venue report’s ids and texts are bounded', () => {
  test('ids at the bound, an empty venue order id and a reason at the bound are taken', () => {
    expect(invalidReportOf({ ...FILL, execId: 'e'.repeat(VENUE_ID_CHARS_MAX), venueOrderId: 'v'.repeat(VENUE_ID_CHARS_MAX) })).toBeNull()
    expect(invalidReportOf({ ...REJECTED, venueOrderId: '', reason: 'r'.repeat(VENUE_REASON_CHARS_MAX) })).toBeNull()
    // Venue ids are not ours: spaces and non-ASCII letters are theirs to use.
    expect(invalidReportOf({ ...FILL, execId: 'exec 1 — ü' })).toBeNull()
  })

  const refusals: [string, Partial<ExecutionReport>, string][] = [
    ['an execId past the bound', { execId: 'e'.repeat(VENUE_ID_CHARS_MAX + 1) }, 'report.execId'],
    ['an empty execId', { execId: '' }, 'report.execId'],
    ['a venue order id with a line break', { venueOrderId: 'v-1\nforged' }, 'report.venueOrderId'],
    ['a client order id with a NUL', { clientOrderId: 'c-1\u0000' }, 'report.clientOrderId'],
    ['an account past the bound', { account: 'a'.repeat(VENUE_ID_CHARS_MAX + 1) }, 'report.account'],
    ['a symbol with DEL', { symbol: 'BTC\u007f' }, 'report.symbol'],
    ['a venue order id that is not a string', { venueOrderId: 5 as unknown as string }, 'report.venueOrderId: expected an empty id or 1–256 characters'],
    ['an account past the bound (the empty-or-id form)', { account: 'a'.repeat(VENUE_ID_CHARS_MAX + 1) }, 'report.account: expected an empty id or 1–256 characters'],
    ['a fee asset past the bound', { feeAsset: 'U'.repeat(VENUE_ID_CHARS_MAX + 1), fee: 1n }, 'report.feeAsset'],
  ]
  for (const [name, change, path] of refusals) {
    test(`${name} is refused (VENUE_REPORT_INVALID at ${path})`, () => {
      const refused = invalidReportOf({ ...FILL, ...change })
      expect(refused).toMatchObject({ code: 'VENUE_REPORT_INVALID' })
      expect(refused?.message).toContain(path)
    })
  }

  test('a reason past the bound is refused, by the gateway check and by the JSONL client', () => {
    const long = { ...REJECTED, reason: 'r'.repeat(VENUE_REASON_CHARS_MAX + 1) }
    expect(invalidReportOf(long)?.message).toContain('report.reason')
    expect(readVenueMessage({ report: long })).toEqual({ kind: 'invalid', problem: `report.reason: expected at most ${VENUE_REASON_CHARS_MAX} characters` })
  })
})
