/**
 * What one reconcile run writes to the log: breaks opened, breaks cleared and the run itself, worked out from what the
 * run observed and the breaks open before it. A venue check's difference opens a break only once confirmed
 * (venue-suspects.ts); `inFlight` names those that venue trades the ledger lacks, all recent, may explain, and
 * `explained` those of them the trades account for exactly (in-flight-fills.ts). A break clears only if its check ran
 * and, for a windowed check, the run looked at its key (`coveredKeys`, venue-trades.ts). A venue check's break of a
 * venue the run's config does not name is closed by the run as `venue_retired` (see `venues`).
 *
 * Pure: the caller appends the records and only then adopts `suspectsAfter` (a run whose records the log refused
 * confirms nothing for the next one).
 */

import { boundedText, type BackOfficeRecord, type OpenBreak, type ReconcileCheck } from './breaks.ts'
import type { CoveredKeys } from './covered-keys.ts'
import type { Observation } from './internal-checks.ts'
import type { VenueSuspects } from './venue-suspects.ts'

/**
 * The suspects a run's record carries at most, the longest-seen first (~170 bytes each). With every one, a venue
 * answer of ~6,300 differences made the record larger than the log takes (1 MiB): refused, every run failed from then on
 * and no break was recorded or cleared. A suspect past the bound is suspected afresh after a restart.
 */
export const SUSPECTS_RECORDED_MAX = 2_000

/** Break records (opened, cleared, retired) one run writes at most, whatever the log's queue takes. */
export const BREAK_RECORDS_PER_RUN_MAX = 4_096

/**
 * The break records one run writes for a log whose queue takes `queueRecordsMax` records: a quarter of it, so that the
 * run's one append is never refused as overloaded (its records past the queue were, at every run from then on: no break
 * recorded or cleared again) and leaves the queue to new orders. A difference past it stays a suspect and opens at a later
 * run; a break past it clears at a later run.
 */
export function breakRecordsMax(queueRecordsMax: number): number {
  return Math.max(1, Math.min(BREAK_RECORDS_PER_RUN_MAX, Math.floor(queueRecordsMax / 4)))
}

export interface ReconcileRun {
  runId: string
  checks: ReconcileCheck[]
  skipped: { check: ReconcileCheck; detail: string }[]
  observations: Observation[]
  coveredKeys: Map<ReconcileCheck, CoveredKeys>
  inFlight: ReadonlySet<string>
  explained: ReadonlySet<string>
  /** The account each venue check's observation was found for: recorded with the break (break-account.ts). */
  accountOf: ReadonlyMap<string, string>
  /** Per venue check skipped for some venues: those venues (the check ran for the others: venue-suspects.ts noteRun). */
  skippedVenues: ReadonlyMap<ReconcileCheck, ReadonlySet<string>>
  /**
   * The venues the run's venue checks asked (every one configured). A venue check's break clears only in a run that
   * asked its venue: one no longer configured had its breaks cleared by another venue's run, which never looked. Its
   * breaks were then open for good, as no run asks it again: the run closes them with outcome `venue_retired`, a
   * decision of its own in the log (not a match, not counted as cleared). Configured again and still differing, the
   * difference opens a break anew.
   */
  venues: ReadonlySet<string>
}

export interface ReconcileRecords {
  records: BackOfficeRecord[]
  /** Every distinct difference the run saw, by key. */
  seen: Map<string, Observation>
  /** Keys seen but not opened: not confirmed yet (venue checks' suspects), or confirmed past the run's `recordsMax`. */
  suspected: string[]
  opened: string[]
  /** Breaks found matching. */
  cleared: string[]
  /** Breaks of a venue no longer configured, closed as `venue_retired`. */
  retired: string[]
  /** The suspects as the next run must weigh them, once these records are in the log. */
  suspectsAfter: VenueSuspects
}

/**
 * `recordsMax` (breakRecordsMax): the break records the run writes at most; the breaks that clear or retire go first
 * (they only shrink what is held), then the ones that open, in the order the run saw them.
 */
export function reconcileRecords(
  run: ReconcileRun,
  state: { atMs: number; asOfLsn: number; open: ReadonlyMap<string, OpenBreak>; suspects: VenueSuspects; recordsMax: number },
): ReconcileRecords {
  const { atMs, asOfLsn, open, suspects } = state
  const seen = new Map(run.observations.map((observation) => [observation.key, observation]))
  const records: BackOfficeRecord[] = []
  const { cleared, retired } = closedBreaks(run, { atMs, asOfLsn, open, seen, recordsMax: state.recordsMax }, records)
  const suspected: string[] = []
  for (const observation of seen.values()) {
    if (open.has(observation.key)) continue
    const firstSeenMs = suspects.confirmedSinceMs(observation, atMs, { inFlight: run.inFlight.has(observation.key), explained: run.explained.has(observation.key) })
    if (firstSeenMs === null || records.length >= state.recordsMax) {
      suspected.push(observation.key)
      continue
    }
    const accountId = run.accountOf.get(observation.key)
    const { what, expected, actual } = observation
    const texts = { what: boundedText(what), expected: boundedText(expected), actual: boundedText(actual) }
    records.push({ kind: 'break_opened', value: { ...observation, ...texts, firstSeenMs, asOfLsn, runId: run.runId, ...(accountId === undefined ? {} : { accountId }) } })
  }
  const opened = records.filter((record) => record.kind === 'break_opened').map((record) => record.value.key)
  const suspectsAfter = suspects.clone()
  suspectsAfter.noteRun({ atMs, ran: run.checks, observations: run.observations, skippedVenues: run.skippedVenues })
  const clearedKeys = new Set([...cleared, ...retired])
  const openAfter = new Set([...open.keys(), ...opened].filter((key) => !clearedKeys.has(key)))
  records.push({
    kind: 'reconciled',
    value: {
      runId: run.runId, atMs, asOfLsn, checks: run.checks, skipped: run.skipped.map(({ check, detail }) => ({ check, detail: boundedText(detail) })),
      breaksSeen: seen.size, opened: opened.length, cleared: cleared.length,
      suspects: suspectsAfter.recorded((key) => openAfter.has(key), SUSPECTS_RECORDED_MAX),
    },
  })
  return { records, seen, suspected, opened, cleared, retired, suspectsAfter }
}

/** The open breaks the run closes (up to `recordsMax` records): cleared by a match, or retired with their venue. */
function closedBreaks(
  run: ReconcileRun,
  state: { atMs: number; asOfLsn: number; open: ReadonlyMap<string, OpenBreak>; seen: ReadonlyMap<string, Observation>; recordsMax: number },
  records: BackOfficeRecord[],
): { cleared: string[]; retired: string[] } {
  const { atMs, asOfLsn, seen } = state
  const ran = new Set(run.checks)
  const retired: string[] = []
  const cleared: string[] = []
  for (const existing of state.open.values()) {
    if (records.length >= state.recordsMax) break
    if (!configuredVenueOf(existing, run.venues)) {
      retired.push(existing.key)
      records.push({ kind: 'break_cleared', value: { key: existing.key, clearedAtMs: atMs, asOfLsn, runId: run.runId, outcome: 'venue_retired' } })
      continue
    }
    const looked = run.coveredKeys.get(existing.check)?.has(existing.key) ?? true
    if (ran.has(existing.check) && !seen.has(existing.key) && looked) {
      cleared.push(existing.key)
      records.push({ kind: 'break_cleared', value: { key: existing.key, clearedAtMs: atMs, asOfLsn, runId: run.runId } })
    }
  }
  return { cleared, retired }
}

/** Whether the venue of a venue check's break (its key's second segment: venues hold no ':') is configured; other checks': yes. */
function configuredVenueOf(item: OpenBreak, venues: ReadonlySet<string>): boolean {
  return !item.check.startsWith('venue_') || venues.has(item.key.split(':', 2)[1] ?? '')
}
