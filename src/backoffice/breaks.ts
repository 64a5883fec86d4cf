/**
 * Reconcile breaks as first-class log records. Type codes 0xB000–0xBFFF belong to the back office (above the audit
 * range's start, so the kernel skips them like audit records). Payloads are JSON, validated with valibot on read.
 *
 *   0xB001 backoffice.break_opened   v2  a difference a reconcile found: what, key, expected, actual, first seen, and
 *                                        the account a venue check found it for (v1: without)
 *   0xB002 backoffice.break_cleared  v2  a break closed: a later reconcile found the same key matching again, or (v2:
 *                                        `outcome` "venue_retired") its venue is no longer configured, so no run asks it
 *   0xB003 backoffice.reconciled     v2  one reconcile run: which checks ran, how many breaks it saw, as of which LSN,
 *                                        and the venue checks' suspects after it (v1: without them)
 *
 * A break stays open until a reconcile that ran the same check finds it matching, or a reconcile runs without its venue
 * configured (a venue check's break: reconcile-records.ts); nothing else closes it.
 */

import * as v from 'valibot'
import { SchemaError } from '../domain/events/schema-error.ts'
import type { RecordInput } from '../../wal/index.ts'

export const BACKOFFICE_RECORD_TYPE_MIN = 0xb000
export const BACKOFFICE_RECORD_TYPE_MAX = 0xbfff
export const BREAK_OPENED = { type: 0xb001, version: 2, name: 'backoffice.break_opened' } as const
export const BREAK_CLEARED = { type: 0xb002, version: 2, name: 'backoffice.break_cleared' } as const
export const RECONCILED = { type: 0xb003, version: 2, name: 'backoffice.reconciled' } as const
/**
 * Every back-office record type, each at the version this build writes (and reads up to): what the decoder knows, and
 * what a standby of this build says it reads (src/runtime/ha/log-reads.ts).
 */
export const BACKOFFICE_RECORDS = [BREAK_OPENED, BREAK_CLEARED, RECONCILED] as const

/** The checks a reconcile runs; a break belongs to one, and only a run of that check can clear it. */
export const RECONCILE_CHECKS = [
  'ledger_vs_kernel',
  'ledger_vs_store',
  'ledger_vs_replay',
  'ledger_balanced',
  'venue_balances',
  'venue_open_orders',
  'venue_trades',
] as const
export type ReconcileCheck = (typeof RECONCILE_CHECKS)[number]

/** The longest text a back-office record holds (reads refuse a longer one: boundedText cuts to it before writing). */
export const RECORD_TEXT_CHARS_MAX = 1_024
const TEXT = v.pipe(v.string(), v.maxLength(RECORD_TEXT_CHARS_MAX))

/**
 * `text` cut to what a record holds, marked with `…`. A venue's error text reached a run's skipped-check detail whole:
 * its record, over the bound, was written, and every later read of the log (the back office's start, a standby's)
 * failed on it, so serve no longer started.
 */
export function boundedText(text: string): string {
  return text.length <= RECORD_TEXT_CHARS_MAX ? text : `${text.slice(0, RECORD_TEXT_CHARS_MAX - 1)}…`
}
/**
 * A break's key as a record holds it: the key whole when it fits, else cut and followed by a digest of the whole, so
 * keys that differ past the cut stay apart and the same key is the same from run to run. A key is made of what the
 * venue names (an asset, an exec id, a client order id), which its answers do not bound: a key past the bound made
 * the run's records refused ("would not read back"), and every run failed from then on, no break opened or cleared.
 */
export function breakKey(key: string): string {
  if (key.length <= RECORD_TEXT_CHARS_MAX) return key
  const digest = new Bun.CryptoHasher('sha256').update(key).digest('hex')
  let end = RECORD_TEXT_CHARS_MAX - digest.length - 2
  // Not between the two halves of a surrogate pair: a lone half is not what the log would read back.
  if (/[\ud800-\udbff]/.test(key.charAt(end - 1))) end--
  return `${key.slice(0, end)}…#${digest}`
}

/**
 * One free-form segment of a break key (an account id, an asset a venue named): ':' (the keys' separator) and '%' (the
 * escape) percent-encoded, so that a key is made of one pair only. Joined raw, account `a` in asset `X:Y` (a fee asset
 * is the venue's text) and account `a:X` in `Y` were both `…:a:X:Y`: one break for two differences, shown to the
 * wrong account's readers (break-account.ts). A segment without either character is as it was, so are the keys of
 * every break recorded before; one that changes (an id holding ':' or '%') is cleared by the first run of its check
 * that sees the difference under its new key, and opened again under it (reconcile-records.ts).
 */
export function keySegment(text: string): string {
  return text.replaceAll('%', '%25').replaceAll(':', '%3A')
}

/** The text keySegment encoded (a key written before the escape: its text as it is, unless it held `%3A` or `%25`). */
export function keySegmentText(segment: string): string {
  return segment.replace(/%(25|3A)/g, (_, code: string) => (code === '25' ? '%' : ':'))
}

/** A venue_balances break's key (the check's, external-checks.ts, and the in-flight trades', in-flight-fills.ts). */
export function venueBalanceKey(venue: string, accountId: string, asset: string): string {
  return breakKey(`venue_balances:${venue}:${keySegment(accountId)}:${keySegment(asset)}`)
}

const MS = v.pipe(v.number(), v.safeInteger(), v.minValue(0))

export const BREAK_OPENED_SCHEMA = v.strictObject({
  key: TEXT,
  check: v.picklist(RECONCILE_CHECKS),
  what: TEXT,
  expected: TEXT,
  actual: TEXT,
  firstSeenMs: MS,
  /** The ledger position the reconcile compared at. */
  asOfLsn: MS,
  runId: TEXT,
  /**
   * The account whose check found it: a venue check runs per account, and some of its keys name none (a venue trade by
   * its exec id), so its owner could not be told it (break-account.ts). Absent in version 1 records and internal breaks.
   */
  accountId: v.optional(TEXT),
})
export type BreakOpened = v.InferOutput<typeof BREAK_OPENED_SCHEMA>

/** Why a break closed other than by matching: `venue_retired`, its venue is no longer configured (none asks it). */
export const BREAK_OUTCOMES = ['venue_retired'] as const
export type BreakOutcome = (typeof BREAK_OUTCOMES)[number]

export const BREAK_CLEARED_SCHEMA = v.strictObject({
  key: TEXT,
  clearedAtMs: MS,
  asOfLsn: MS,
  runId: TEXT,
  /** Absent: the run found the key matching (version 1 records: always). */
  outcome: v.optional(v.picklist(BREAK_OUTCOMES)),
})
export type BreakCleared = v.InferOutput<typeof BREAK_CLEARED_SCHEMA>
/** Version 1: a match, no outcome (a version 1 record naming one is not what version 1 wrote). */
const BREAK_CLEARED_V1_SCHEMA = v.strictObject({ key: TEXT, clearedAtMs: MS, asOfLsn: MS, runId: TEXT })

export const RECONCILED_SCHEMA = v.strictObject({
  runId: TEXT,
  atMs: MS,
  asOfLsn: MS,
  checks: v.array(v.picklist(RECONCILE_CHECKS)),
  /** Checks that could not run (a venue unreachable), with why. */
  skipped: v.array(v.strictObject({ check: v.picklist(RECONCILE_CHECKS), detail: TEXT })),
  /** Every difference the run saw: open breaks, new ones, and venue suspects (venue-suspects.ts). */
  breaksSeen: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  opened: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  cleared: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
})

/**
 * A venue check's difference seen and not (yet) a break, as its last run left it (venue-suspects.ts): recorded with
 * each run so that a start, a takeover or a snapshot's reader goes on from it instead of suspecting it afresh.
 */
export const RECORDED_SUSPECT_SCHEMA = v.strictObject({
  check: v.picklist(RECONCILE_CHECKS),
  key: TEXT,
  firstSeenMs: MS,
  sightings: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  expected: TEXT,
  actual: TEXT,
})
export type RecordedSuspect = v.InferOutput<typeof RECORDED_SUSPECT_SCHEMA>

const RECONCILED_V2_SCHEMA = v.strictObject({ ...RECONCILED_SCHEMA.entries, suspects: v.array(RECORDED_SUSPECT_SCHEMA) })

/** A run; `suspects` absent in a version 1 record (written before they were recorded). */
export type Reconciled = v.InferOutput<typeof RECONCILED_SCHEMA> & { suspects?: RecordedSuspect[] }

export type BackOfficeRecord =
  | { kind: 'break_opened'; value: BreakOpened }
  | { kind: 'break_cleared'; value: BreakCleared }
  | { kind: 'reconciled'; value: Reconciled }

export interface OpenBreak extends BreakOpened {
  /** The LSN of the record that opened it. */
  lsn: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function isBackOfficeRecord(type: number): boolean {
  return type >= BACKOFFICE_RECORD_TYPE_MIN && type <= BACKOFFICE_RECORD_TYPE_MAX
}

export function encodeBackOfficeRecord(record: BackOfficeRecord): RecordInput {
  // Checked as it will be read back (decodeBackOfficeRecord): a record no read could take is never written.
  const schema = record.kind === 'break_opened' ? BREAK_OPENED_SCHEMA : record.kind === 'break_cleared' ? BREAK_CLEARED_SCHEMA : record.value.suspects === undefined ? RECONCILED_SCHEMA : RECONCILED_V2_SCHEMA
  const problem = v.safeParse(schema, record.value)
  if (!problem.success) throw new Error(`a ${record.kind} record that would not read back is not written: ${v.getDotPath(problem.issues[0]) ?? ''} ${problem.issues[0].message}`)
  const code = record.kind === 'break_opened' ? BREAK_OPENED : record.kind === 'break_cleared' ? BREAK_CLEARED : RECONCILED
  // A run without its suspects, a break without its account, or one cleared by a match is what version 1 said.
  const version =
    (record.kind === 'reconciled' && record.value.suspects === undefined) || (record.kind === 'break_opened' && record.value.accountId === undefined) || (record.kind === 'break_cleared' && record.value.outcome === undefined)
      ? 1
      : code.version
  return { type: code.type, version, payload: encoder.encode(JSON.stringify(record.value)) }
}

/**
 * Decodes a back-office frame (null: a type of the range this build does not write). A version this build does not
 * read (a newer build's, in a log rolled back to this one or replicated to a standby not upgraded yet) or a payload
 * that does not parse throws SchemaError (`unsupported_version`, `invalid_payload`), naming the record and its LSN, as
 * the kernel's decoder does for its events. Before, a newer version was read with this build's schema: valibot's bare
 * error came out of the back office's start, and on the live path it cut the subscriber's walk of its batch short.
 */
export function decodeBackOfficeRecord(frame: { type: number; version: number; payload: Uint8Array; lsn?: number }): BackOfficeRecord | null {
  const code = BACKOFFICE_RECORDS.find((known) => known.type === frame.type)
  if (code === undefined) return null
  const at = frame.lsn === undefined ? '' : ` at LSN ${frame.lsn}`
  if (!Number.isSafeInteger(frame.version) || frame.version < 1 || frame.version > code.version) {
    throw new SchemaError('unsupported_version', `record type ${code.name}${at} has schema version ${frame.version}; this binary understands versions 1..${code.version}`)
  }
  const what = `record type ${code.name} v${frame.version}${at}`
  let json: unknown
  try {
    json = JSON.parse(decoder.decode(frame.payload))
  } catch {
    throw new SchemaError('invalid_payload', `${what}: not JSON`)
  }
  if (code === BREAK_OPENED) return { kind: 'break_opened', value: payloadOf(BREAK_OPENED_SCHEMA, json, what) }
  if (code === BREAK_CLEARED) return { kind: 'break_cleared', value: payloadOf(frame.version === 1 ? BREAK_CLEARED_V1_SCHEMA : BREAK_CLEARED_SCHEMA, json, what) }
  return { kind: 'reconciled', value: frame.version === 1 ? payloadOf(RECONCILED_SCHEMA, json, what) : payloadOf(RECONCILED_V2_SCHEMA, json, what) }
}

function payloadOf<S extends v.GenericSchema>(schema: S, json: unknown, what: string): v.InferOutput<S> {
  const parsed = v.safeParse(schema, json)
  if (parsed.success) return parsed.output
  const issue = parsed.issues[0]
  throw new SchemaError('invalid_payload', `${what}: ${v.getDotPath(issue) ?? '(root)'}: ${issue.message}`)
}

/** The open breaks and the last run, folded from the records in log order. */
export class BreakBook {
  readonly open = new Map<string, OpenBreak>()
  lastRun: (Reconciled & { lsn: number }) | null = null
  openedTotal = 0
  /** Breaks closed: cleared by a match or retired with their venue. */
  clearedTotal = 0
  /** The LSN of the last record applied (0 before any): a record at or below it is already in. */
  lastLsn = 0

  apply(record: BackOfficeRecord, lsn: number): void {
    if (lsn <= this.lastLsn) return
    this.lastLsn = lsn
    switch (record.kind) {
      case 'break_opened':
        this.open.set(record.value.key, { ...record.value, lsn })
        this.openedTotal++
        return
      case 'break_cleared':
        if (this.open.delete(record.value.key)) this.clearedTotal++
        return
      case 'reconciled':
        this.lastRun = { ...record.value, lsn }
        return
    }
  }
}
