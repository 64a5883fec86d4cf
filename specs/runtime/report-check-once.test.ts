/**
 * A venue report is held to the domain's report schema (src/domain/venue-report-schema.ts) once. Before, a JSONL
 * venue's report was parsed by the client (readVenueMessage) and again by the gateway's check (invalidReportOf) with
 * the same schema, imported from venues/jsonl. Now the client's check marks (and freezes) what it returns and the
 * gateway's check skips the schema for it; reports built any other way (the sim venue's, the FIX adapter's) are still
 * parsed there, and refused when they do not fit.
 */

import { describe, expect, test } from 'bun:test'
import { venueReportSchema } from '../../src/domain/venue-report-schema.ts'
import { invalidReportOf } from '../../src/runtime/report-check.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { readVenueMessage } from '../../src/venues/jsonl/messages.ts'

function fill(execId: string): ExecutionReport {
  return {
    venue: 'sim', execId, kind: 'fill', clientOrderId: 'c-1', venueOrderId: 'v-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy',
    cumQty: 1_000_000n, lastQty: 1_000_000n, lastPrice: 5_000_000_000_000n, venueTimeMs: 1,
  }
}

/** Runs `body` counting how often venueReportSchema is run (valibot's safeParse calls the schema's `~run`). */
function countingSchemaRuns(body: () => void): number {
  const schema = venueReportSchema as unknown as { '~run': (...args: unknown[]) => unknown }
  const run = schema['~run']
  let runs = 0
  schema['~run'] = (...args: unknown[]) => {
    runs++
    return run.apply(schema, args)
  }
  try {
    body()
  } finally {
    schema['~run'] = run
  }
  return runs
}

describe('a venue report is checked against the report schema once', () => {
  test('a JSONL report: the client parses it, the gateway check does not parse it again', () => {
    let refused: Error | null = new Error('not checked')
    const runs = countingSchemaRuns(() => {
      const read = readVenueMessage({ report: fill('x-1') })
      if (read.kind !== 'report') throw new Error(`not a report: ${JSON.stringify(read)}`)
      refused = invalidReportOf(read.report)
    })
    expect(refused).toBeNull()
    // Before: 2 (the client's parse, then report-check's).
    expect(runs).toBe(1)
  })

  test("the client's checked report is frozen: what was checked is what the gateway records", () => {
    const read = readVenueMessage({ report: fill('x-2') })
    if (read.kind !== 'report') throw new Error('not a report')
    expect(Object.isFrozen(read.report)).toBe(true)
    expect(() => {
      ;(read.report as { lastPrice?: bigint }).lastPrice = 0n
    }).toThrow(TypeError)
    expect(invalidReportOf(read.report)).toBeNull()
  })

  test('a report not from the client (sim, FIX) is still parsed by the gateway check and refused when it does not fit', () => {
    let refused: { code?: string; message: string } | null = null
    const runs = countingSchemaRuns(() => {
      refused = invalidReportOf({ ...fill('x-3'), lastPrice: 0n })
    })
    expect(runs).toBe(1)
    expect(refused).not.toBeNull()
    expect(refused!).toMatchObject({ code: 'VENUE_REPORT_INVALID' })
    expect(refused!.message).toContain('report.lastPrice')
    // A copy of a checked report is a new object, not marked: parsed again.
    const read = readVenueMessage({ report: fill('x-4') })
    if (read.kind !== 'report') throw new Error('not a report')
    expect(countingSchemaRuns(() => void invalidReportOf({ ...read.report }))).toBe(1)
  })

  test('an invalid JSONL report is refused by the client with the path of its first issue', () => {
    const read = readVenueMessage({ report: { ...fill('x-5'), lastQty: 0n } })
    expect(read).toEqual({ kind: 'invalid', problem: 'report.lastQty: expected a positive amount' })
  })
})
