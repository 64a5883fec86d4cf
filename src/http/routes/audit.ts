/**
 * The audit trail over HTTP (DESIGN §7, issue 6), for the auditor and admin roles only:
 *
 * - `GET /v1/audit/verify` — the independent verification of the live log directory (`verifyLogDirectory`: every CRC,
 *   the whole chain re-derived with the reference hash, every seal signature), the same report `egress audit verify
 *   --json` prints, plus the runtime self-check's state.
 * - `GET /v1/audit/seals` — the seal records in the log, oldest first, cursor-paginated; signatures are not checked
 *   here (verify does that).
 * - `POST /v1/audit/anchor` — seal the chain head now and return the anchor to store outside the gateway, in the shape
 *   `egress audit anchor DIR` prints (`--anchors` takes it back). It takes no options: no body or `{}`, anything else
 *   is refused (ANCHOR_BODY_SCHEMA), as cancel, flatten and the kill switches refuse what they do not take.
 *
 * Why verify runs the full check rather than the self-check: the self-check's tail check reads each record once, when
 * it is appended, and its sweep re-reads what it passed only a stretch per check (a pass over a long log takes many
 * checks), so an auditor asking "is this log intact now" must not be answered from memory. The full check reads every byte again
 * with audit's independent reader. Its price is the event loop: the scan is synchronous per segment (~90 MB/s measured
 * by scripts/bench-audit.ts), so on a log above `liveVerifyBytesMax` the route does not stall the gateway and answers
 * with the self-check brought up to the head instead, saying so (`method`) and naming the CLI for the full check on a
 * copy of the directory.
 */

import { Hono, type Context } from 'hono'
import * as v from 'valibot'
import {
  AUDIT_SEAL, decodeSealRecord, describeProblem, heldSegmentDamage, readSealUnverified, verifyLogDirectory, type AuditProblem,
  type VerifyReport,
} from '../../audit/index.ts'
import { WalCorruptionError, WalSegmentUnreadableError } from '../../../wal/index.ts'
import { requireRole, type AuthEnv } from '../auth/index.ts'
import { readJson } from '../body.ts'
import { ApiError, parseOrThrow } from '../errors.ts'
import { NO_QUERY, queryOf } from '../query.ts'
import type { Services } from '../services.ts'
import { requireReady, runCommand } from './support.ts'

/** Above this many log bytes a live full verification would stall the gateway too long (~0.7 s at 90 MB/s). */
export const LIVE_VERIFY_BYTES_MAX_DEFAULT = 64 * 1024 * 1024
/** Records one seals page may read: a page ends early (with a cursor) rather than scan an unbounded log. */
export const SEALS_SCAN_RECORDS_MAX_DEFAULT = 100_000
export const SEALS_PAGE_MAX = 1_000

/**
 * Event-loop time full verifications may take at once (ms), refilled at VERIFY_LOOP_SHARE of the time passing
 * (VerifyTime): one run of a log near liveVerifyBytesMax takes most of it.
 */
export const VERIFY_MS_BURST_DEFAULT = 2_000
/** The share of the event loop back-to-back full verifications may hold over time. */
export const VERIFY_LOOP_SHARE = 0.1

export interface AuditRoutesOptions {
  liveVerifyBytesMax: number
  sealsScanRecordsMax: number
  verifyMsBurst: number
}

const AUDIT_ROLES = ['auditor', 'admin'] as const

export const SEALS_QUERY = v.strictObject({
  limit: v.exactOptional(v.pipe(v.string(), v.regex(/^\d{1,4}$/, 'expected an integer 1–1000'), v.transform(Number), v.minValue(1, 'expected an integer 1–1000'), v.maxValue(SEALS_PAGE_MAX, 'expected an integer 1–1000'))),
  cursor: v.exactOptional(v.pipe(v.string(), v.regex(/^\d{1,16}$/, 'expected a cursor from next_cursor'), v.transform(Number))),
})

/**
 * An anchor takes no options: no body, or `{}`. A body was ignored before, so a client sending options it thought the
 * route took (`{"lsn": 500}` to anchor an earlier head, say) got an anchor of something else with a 200.
 */
export const ANCHOR_BODY_SCHEMA = v.strictObject({})

export function auditRoutes(services: Services, options: Partial<AuditRoutesOptions> = {}): Hono<AuthEnv> {
  const bounds: AuditRoutesOptions = {
    liveVerifyBytesMax: options.liveVerifyBytesMax ?? LIVE_VERIFY_BYTES_MAX_DEFAULT,
    sealsScanRecordsMax: options.sealsScanRecordsMax ?? SEALS_SCAN_RECORDS_MAX_DEFAULT,
    verifyMsBurst: options.verifyMsBurst ?? VERIFY_MS_BURST_DEFAULT,
  }
  // One full verification at a time: concurrent callers share the run in progress instead of multiplying the stall.
  let running: Promise<VerifyReport> | null = null
  const time = new VerifyTime(bounds.verifyMsBurst)
  const verifyOnce = (): Promise<VerifyReport> => {
    if (running === null) {
      time.admit()
      const startedMs = performance.now()
      running = runVerify(services).finally(() => {
        running = null
        time.spend(performance.now() - startedMs)
      })
    }
    return running
  }
  const app = new Hono<AuthEnv>()
  app.use('/v1/audit/*', requireRole(...AUDIT_ROLES))
  app.get('/v1/audit/verify', (c) => verifyRoute(c, services, bounds, verifyOnce))
  app.get('/v1/audit/seals', (c) => sealsRoute(c, services, bounds))
  app.post('/v1/audit/anchor', (c) => anchorRoute(c, services))
  return app
}

async function verifyRoute(c: Context<AuthEnv>, services: Services, bounds: AuditRoutesOptions, verifyOnce: () => Promise<VerifyReport>): Promise<Response> {
  queryOf(c, NO_QUERY)
  const logBytes = services.gateway.engine.wal.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0)
  if (logBytes <= bounds.liveVerifyBytesMax) {
    const report = await verifyOnce().catch(unreadableAsUnavailable)
    // Damage found by the full verification gets the same response as the self-check's (kill switch, finding
    // record, forensics bundle): the self-check never re-reads bytes it already passed, so this may be the only witness.
    if (report.firstProblem !== null && report.firstProblem !== undefined) await services.gateway.audit?.respond(report.firstProblem)
    return c.json({ method: 'full', report, runtime: runtimeState(services, null) })
  }
  const finding = await selfCheckThroughHead(services)
  return c.json({
    method: 'self-check',
    note: `the log holds ${logBytes} bytes, above the ${bounds.liveVerifyBytesMax} a live full verification may read; ` +
      `this is the runtime self-check brought up to the head — for the full check run "egress audit verify" on a copy of ${services.gateway.engine.wal.dir}`,
    report: null,
    runtime: runtimeState(services, finding),
  })
}

/**
 * The event-loop time left to full verifications: `burstMs`, refilled at VERIFY_LOOP_SHARE of the time passing, each
 * run's time taken once it ends. A run holds the loop while it scans a segment (~0.7 s for 64 MiB) yet costs one read
 * of its caller's budget (200/s), so one auditor's or admin's loop of them, back to back, held the gateway's event
 * loop nearly all the time: every order's answer waited behind it. A run that would start with the time spent is
 * refused 429 RATE_LIMITED (scope audit_verify, Retry-After); callers joining a run under way are not.
 */
class VerifyTime {
  private readonly burstMs: number
  private creditMs: number
  private updatedMs = performance.now()

  constructor(burstMs: number) {
    this.burstMs = burstMs
    this.creditMs = burstMs
  }

  admit(): void {
    this.refill()
    if (this.creditMs > 0) return
    const retryAfterSec = Math.max(1, Math.ceil(-this.creditMs / VERIFY_LOOP_SHARE / 1000))
    throw new ApiError('RATE_LIMITED', 'full verifications have taken their share of the event loop; retry later', {
      headers: { 'Retry-After': String(retryAfterSec) },
      details: { scope: 'audit_verify', retry_after_sec: retryAfterSec },
    })
  }

  spend(ms: number): void {
    this.refill()
    this.creditMs -= ms
  }

  private refill(): void {
    const nowMs = performance.now()
    this.creditMs = Math.min(this.burstMs, this.creditMs + (nowMs - this.updatedMs) * VERIFY_LOOP_SHARE)
    this.updatedMs = nowMs
  }
}

/**
 * A segment file the scan could not read (EIO, EISDIR: WalSegmentUnreadableError) is 503 SEGMENT_UNREADABLE naming it:
 * nothing was verified, and it was an opaque 500.
 */
function unreadableAsUnavailable(error: unknown): never {
  if (!(error instanceof WalSegmentUnreadableError)) throw error
  throw new ApiError('UNAVAILABLE', `the log could not be verified: ${error.message}`, { details: { reason: 'SEGMENT_UNREADABLE', file: error.file } })
}

/**
 * The self-check brought through the durable head; a check that could not run (its thread lost, a read failing) is 503
 * AUDIT_SELF_CHECK_FAILED: nothing is known about the log's bytes, and it was an opaque 500.
 */
async function selfCheckThroughHead(services: Services): Promise<AuditProblem | null> {
  const audit = services.gateway.audit
  if (audit === null) return null
  try {
    return await audit.selfCheckThroughHead()
  } catch (error) {
    throw new ApiError('UNAVAILABLE', `the audit self-check could not run: ${error instanceof Error ? error.message : String(error)}`, {
      details: { reason: 'AUDIT_SELF_CHECK_FAILED' },
    })
  }
}

function runtimeState(services: Services, finding: AuditProblem | null): Record<string, unknown> {
  const audit = services.gateway.audit
  const wal = services.gateway.engine.wal
  return {
    selfCheckEnabled: audit !== null,
    verified: audit?.verified ?? null,
    lastFinding: audit?.lastFinding ?? finding,
    lastLsn: wal.lastLsn,
  }
}

async function runVerify(services: Services): Promise<VerifyReport> {
  const { gateway } = services
  // The scan lists the directory and reads each segment file itself: compaction leaves them until it ends.
  const release = gateway.logHolds.hold(gateway.engine.wal.firstLsn)
  try {
    // The keys read at start, as the self-check's: the key file is not read again per request.
    const keys = (await gateway.audit?.verifyingKeys()) ?? null
    // What the log holds, read in one synchronous step before the scan: the directory must hold all of it (verify.ts).
    const wal = gateway.engine.wal
    const held = { firstLsn: wal.firstLsn, lastLsn: wal.lastLsn, chainHead: wal.chainHead }
    return await verifyLogDirectory(wal.dir, { held, ...(keys === null ? {} : { keys }) })
  } finally {
    release()
  }
}

/**
 * Seal records after `cursor` (an LSN), oldest first; a page ends at `limit` seals or after sealsScanRecordsMax records.
 * Damage met on the way (a frame failing its CRC, a segment file gone) is 409 LOG_DAMAGED naming it, and gets the
 * self-check's response, as verify's findings do: it was an opaque 500, and this read may be its only witness.
 */
async function sealsRoute(c: Context<AuthEnv>, services: Services, bounds: AuditRoutesOptions): Promise<Response> {
  try {
    return sealsPage(c, services, bounds)
  } catch (error) {
    const problem = damageOf(error, services)
    if (problem === null) throw error
    await services.gateway.audit?.respond(problem)
    throw new ApiError('CONFLICT', `the log is damaged: ${describeProblem(problem)}`, { details: { reason: 'LOG_DAMAGED', problem } })
  }
}

/** What a read of the live log met: a WalCorruptionError, or a file missing of a segment the log holds; else null. */
function damageOf(error: unknown, services: Services): AuditProblem | null {
  if (error instanceof WalCorruptionError) {
    return { code: error.code, file: error.location.file, offsetBytes: error.location.offsetBytes, lsn: error.location.lsn, detail: error.message }
  }
  return (error as { code?: unknown }).code === 'ENOENT' ? heldSegmentDamage(services.gateway.engine.wal) : null
}

function sealsPage(c: Context<AuthEnv>, services: Services, bounds: AuditRoutesOptions): Response {
  const query = queryOf(c, SEALS_QUERY)
  const limit = query.limit ?? 100
  const wal = services.gateway.engine.wal
  const fromLsn = Math.max(wal.firstLsn, (query.cursor ?? 0) + 1)
  const toLsn = Math.min(wal.lastLsn, fromLsn + bounds.sealsScanRecordsMax - 1)
  const seals: Record<string, unknown>[] = []
  let scannedTo = fromLsn - 1
  if (fromLsn <= toLsn) {
    try {
      for (const frame of wal.read(fromLsn, { toLsn, verifyChain: false })) {
        scannedTo = frame.lsn
        if (frame.type === AUDIT_SEAL.type) seals.push(sealView(frame.lsn, frame.version, frame.payload))
        if (seals.length === limit) break
      }
    } catch (error) {
      unreadableSegmentAt(error, wal, scannedTo + 1)
    }
  }
  return c.json({ seals, next_cursor: scannedTo < wal.lastLsn ? String(scannedTo) : null })
}

/** The system calls whose failure means a segment file cannot be read (as the log's open judges: wal/recover.ts). */
const READ_SYSCALLS: ReadonlySet<string> = new Set(['open', 'read', 'fstat', 'stat'])

/**
 * A read of the segment holding `lsn` that failed (EIO, EACCES, EISDIR for a directory under its name; a file gone is
 * damageOf's) is 503 SEGMENT_UNREADABLE naming it, as verify answers it: node's error names no file, and it was an
 * opaque 500. Anything else is thrown on.
 */
function unreadableSegmentAt(error: unknown, wal: Services['gateway']['engine']['wal'], lsn: number): never {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown }
  const segment = wal.segments.find((candidate) => candidate.firstLsn <= lsn && lsn <= candidate.lastLsn)
  if (code === 'ENOENT' || typeof syscall !== 'string' || !READ_SYSCALLS.has(syscall) || segment === undefined) throw error
  unreadableAsUnavailable(new WalSegmentUnreadableError(segment.path, error))
}

/** A seal as recorded; one that does not parse is listed with why (a malformed seal is a finding, never skipped). */
function sealView(recordLsn: number, version: number, payload: Uint8Array): Record<string, unknown> {
  const record = decodeSealRecord(version, payload)
  if (!record.ok) return { record_lsn: recordLsn, malformed: record.reason }
  const read = readSealUnverified(record.value.jws)
  if (!read.ok) return { record_lsn: recordLsn, malformed: read.reason, jws: record.value.jws }
  const { claims, kid } = read.value
  return {
    record_lsn: recordLsn,
    sealed_lsn: claims.lsn,
    chain_head: claims.chainHead,
    epoch: claims.epoch,
    kid: kid ?? null,
    sealed_at_ms: claims.sealedAtMs,
    prev_seal_lsn: claims.prevSealLsn,
    jws: record.value.jws,
  }
}

async function anchorRoute(c: Context<AuthEnv>, services: Services): Promise<Response> {
  queryOf(c, NO_QUERY)
  parseOrThrow(ANCHOR_BODY_SCHEMA, await readJson(c, { bodyBytesMax: services.limits.bodyBytesMax, emptyAsObject: true }))
  const { gateway } = services
  const signingKeyFile = gateway.options.audit?.signingKeyFile
  if (gateway.audit === null || signingKeyFile === undefined) {
    // 409, not 503: retrying does not help; the gateway's configuration has to change.
    throw new ApiError('CONFLICT', 'no seal signing key is configured (audit.signingKeyFile; "egress keygen" creates one)', {
      details: { reason: 'AUDIT_SIGNING_KEY_MISSING' },
    })
  }
  requireReady(services)
  const audit = gateway.audit
  const sealed = await runCommand(c, () => audit.sealNow())
  if (sealed === null) throw new ApiError('CONFLICT', 'the log is empty: there is no chain head to seal', { details: { reason: 'AUDIT_LOG_EMPTY' } })
  // The shape "egress audit anchor DIR" prints, so anchors from either source go in one file for --anchors; plus when
  // the seal was signed and whether it was signed before this call (an idle log: the last seal is the answer), so the
  // seal's time is not taken for the answer's.
  return c.json({
    lsn: sealed.claims.lsn,
    chainHead: sealed.claims.chainHead,
    seal: sealed.jws,
    sealRecordLsn: sealed.recordLsn,
    sealedAtMs: sealed.claims.sealedAtMs,
    reused: sealed.reused,
  })
}
