/**
 * `verifyLogDirectory`: the independent audit of a log directory, read-only, usable on a copy while the gateway
 * writes the original. Every CRC, the whole chain (recomputed with the reference hash), every seal (structure, head,
 * sequence, signature) and optional external anchors. Structural damage stops the scan (nothing after a break can
 * be trusted); seal and anchor problems are collected and the scan goes on, up to PROBLEMS_MAX.
 */

import { hashesEqual, toHex } from '../../wal/index.ts'
import { AnchorChecker, type Anchor } from './anchors.ts'
import type { AuditProblem } from './codes.ts'
import { HeadHistory } from './head-history.ts'
import { keyResolverFromJwk, keyResolverFromJwks, type SealKeyResolver } from './keys.ts'
import { scanLogIndependently, type LogScanProgress, type TornTail } from './log-scan.ts'
import { isAuditRecordType, type SealClaims } from './records.ts'
import { SealChecker, type SealEntry } from './seal-check.ts'
import { SnapshotSealsCheck, type SnapshotSealsReport } from './snapshot-seals-check.ts'
import type { JSONWebKeySet, JWK } from 'jose'

export const PROBLEMS_MAX = 100

export interface VerifyOptions {
  /** The seal verifying key: a public JWK. */
  publicKey?: JWK
  /** Or a JWKS (keys chosen by kid). */
  jwks?: JSONWebKeySet
  /** Or a ready resolver (keys.ts). Without any of the three, seal signatures are not checked (reported as such). */
  keys?: SealKeyResolver
  anchors?: readonly Anchor[]
  /** Where the anchors came from, for problem locations. */
  anchorsSource?: string
  /**
   * Anchors that all lie before the log's first LSN are ANCHORS_ALL_BEFORE_LOG (the default: anchors the operator
   * gave must vouch for something), or only counted as skipped (`'skipped'`: a data directory's own anchors file,
   * read unasked, which a compaction may pass in full).
   */
  anchorsAllBeforeLog?: 'problem' | 'skipped'
  onProgress?: (progress: LogScanProgress) => void
  /**
   * The live log's own account of itself, for a verification of the directory a running gateway writes (GET
   * /v1/audit/verify): its first held LSN, its last durable LSN and the writer's chain head there, read just before
   * the scan. The directory must hold all of it, and re-derive to that head. Without it, a log missing its first
   * segment read as a compacted one, and durable records zeroed or cut at the tail as preallocated space or a torn
   * tail: CLEAN, for records the gateway had acknowledged.
   */
  held?: HeldLog
  /**
   * The data directory's snapshots directory: each snapshot's seal is checked (snapshot-seals-check.ts), and a
   * compacted log's chain base against the oldest sealed snapshot's signed head. Absent: snapshots are not looked at.
   */
  snapshotsDir?: string
}

export interface HeldLog {
  firstLsn: number
  lastLsn: number
  chainHead: Uint8Array
}

export interface VerifyReport {
  ok: boolean
  dir: string
  segments: number
  records: number
  bytes: number
  firstLsn: number
  lastLsn: number
  /** Hex chain head at lastLsn, recomputed. */
  chainHead: string
  seals: {
    checked: number
    signaturesChecked: boolean
    /** Seals that sign an LSN compacted out of this log (signature checked, head not). */
    headUnchecked: number
    last: { recordLsn: number; claims: SealClaims; kid: string | undefined; jws: string } | null
    /** Records after the last sealed LSN (not counting that seal's own record): their integrity rests on the chain alone. */
    unsealedRecords: number
  }
  anchors: { checked: number; skipped: number }
  /** What the snapshots' seals said (null: no snapshots directory given). */
  snapshots: SnapshotSealsReport | null
  tornTail: TornTail | null
  preallocatedBytes: number
  problems: AuditProblem[]
  firstProblem: AuditProblem | null
  elapsedMs: number
}

export async function verifyLogDirectory(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const started = performance.now()
  const keys = await resolveKeys(options)
  const heads = new HeadHistory()
  const anchors = new AnchorChecker(options.anchors ?? [])
  const problems: AuditProblem[] = []
  const note = (problem: AuditProblem | null): void => {
    if (problem !== null && problems.length < PROBLEMS_MAX) problems.push(problem)
  }
  let seals: SealChecker | null = null
  let heldHead: Uint8Array | null = null
  let baseLsn = 0
  const snapshots = options.snapshotsDir === undefined ? null : await SnapshotSealsCheck.read(options.snapshotsDir, keys, note)
  const scan = await scanLogIndependently(dir, {
    onBase: (lsn, head) => {
      // A compacted log's base: a seal signing it is checked against it (as the self-check does), and so is a snapshot's.
      baseLsn = lsn
      if (lsn >= 1) heads.push(lsn, head)
      if (lsn >= 1) snapshots?.observeHead(lsn, head, dir)
    },
    onFrame: (frame) => {
      seals ??= new SealChecker({ keys, headsFromLsn: Math.max(1, baseLsn) })
      heads.push(frame.lsn, frame.hash)
      snapshots?.observeHead(frame.lsn, frame.hash, frame.file)
      if (frame.lsn === options.held?.lastLsn) heldHead = frame.hash.slice()
      note(anchors.observe(frame.lsn, frame.hash, frame))
      note(anchors.observeRecord(frame))
      if (isAuditRecordType(frame.type)) note(seals.observe(frame, heads))
    },
    afterSegment: async () => {
      if (seals !== null && seals.pendingCount > 0) note(await seals.settle())
    },
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  })
  const checker = seals as SealChecker | null
  if (checker !== null) note(await checker.settle())
  note(scan.problem)
  // No frame at held.lastLsn but the directory ends there: it is the chain base the first segment's header carries (a
  // log holding no record past it, as one anchored at a snapshot's LSN before its first frame), the head the scan holds.
  const headAtHeld = heldHead ?? (scan.lastLsn === options.held?.lastLsn ? scan.chainHead : null)
  if (scan.problem === null && options.held !== undefined) note(notHeld(options.held, scan, headAtHeld, dir))
  note(beyondEnd(anchors, scan.lastLsn, dir))
  if (options.anchorsAllBeforeLog !== 'skipped') note(noneInLog(anchors, scan.firstLsn, dir))
  if (keys !== null && options.anchors !== undefined) note(await AnchorChecker.checkSeals(options.anchors, keys, options.anchorsSource ?? 'anchors'))
  problems.sort((a, b) => a.lsn - b.lsn)
  const last = checker?.last ?? null
  return {
    ok: problems.length === 0,
    dir,
    segments: scan.segments,
    records: scan.records,
    bytes: scan.bytes,
    firstLsn: scan.firstLsn,
    lastLsn: scan.lastLsn,
    chainHead: toHex(scan.chainHead),
    seals: {
      checked: checker?.checked ?? 0,
      signaturesChecked: keys !== null,
      headUnchecked: checker?.headUnchecked ?? 0,
      last: last === null ? null : summary(last),
      unsealedRecords: unsealed(scan.lastLsn, scan.firstLsn, last),
    },
    anchors: { checked: anchors.checked, skipped: anchors.skipped },
    snapshots: snapshots?.finish(scan.firstLsn) ?? null,
    tornTail: scan.tornTail,
    preallocatedBytes: scan.preallocatedBytes,
    problems,
    firstProblem: problems[0] ?? null,
    elapsedMs: performance.now() - started,
  }
}

async function resolveKeys(options: VerifyOptions): Promise<SealKeyResolver | null> {
  if (options.keys !== undefined) return options.keys
  if (options.publicKey !== undefined) return keyResolverFromJwk(options.publicKey)
  if (options.jwks !== undefined) return keyResolverFromJwks(options.jwks)
  return null
}

/** An anchor that names an LSN past the log's end: its own, or its seal record's (the record after it, review). */
function beyondEnd(anchors: AnchorChecker, lastLsn: number, dir: string): AuditProblem | null {
  const first = anchors.remaining()[0]
  const lsn = first?.lsn ?? (anchors.endLsn > lastLsn ? anchors.endLsn : null)
  if (lsn === null) return null
  return {
    code: 'ANCHOR_BEYOND_END', file: dir, offsetBytes: 0, lsn,
    detail: `an anchor names LSN ${lsn}, the verified log ends at LSN ${lastLsn} (truncated, or a copy older than the anchor)`,
  }
}

/**
 * Anchors were given and every one lies before the log's first LSN. A compaction that moved past every anchor and a
 * copy whose first segments were deleted look the same offline: either way no anchor vouches for any record here, and
 * a verification the operator asked to hold against anchors must not pass on the chain alone. Re-anchor after compacting.
 */
function noneInLog(anchors: AnchorChecker, firstLsn: number, dir: string): AuditProblem | null {
  if (anchors.checked > 0 || anchors.skipped === 0) return null
  return {
    code: 'ANCHORS_ALL_BEFORE_LOG', file: dir, offsetBytes: 0, lsn: firstLsn,
    detail: `all ${anchors.skipped} anchor(s) name LSNs before the log's first (${firstLsn}), so none could be checked (compacted past every anchor, or the first segments are missing); export a new anchor from a verified copy`,
  }
}

/**
 * Where the directory falls short of the live log (`held`): its first held segment gone (SEGMENT_MISSING), its durable
 * tail missing (FRAME_CORRUPT, as the self-check says when the log ends before the durable head), or another head at
 * the durable end (CHAIN_BREAK, as the self-check's comparison with the writer's head). `headAtHeld`: the head the
 * scan re-derived at held.lastLsn, or null if it did not reach it (frames an incomplete append took back were seen,
 * but the scan's lastLsn is before them).
 */
function notHeld(held: HeldLog, scan: { firstLsn: number; lastLsn: number }, headAtHeld: Uint8Array | null, dir: string): AuditProblem | null {
  const at = { file: dir, offsetBytes: 0 }
  if (held.lastLsn >= held.firstLsn && scan.firstLsn > held.firstLsn) {
    return { code: 'SEGMENT_MISSING', ...at, lsn: held.firstLsn, detail: `the log holds LSNs from ${held.firstLsn}, the directory's first segment starts at ${scan.firstLsn}: segments removed outside the gateway` }
  }
  if (held.lastLsn < 1) return null
  if (scan.lastLsn < held.lastLsn || headAtHeld === null) {
    return { code: 'FRAME_CORRUPT', ...at, lsn: scan.lastLsn + 1, detail: `the directory's log ends at LSN ${scan.lastLsn}, the gateway holds durable records through ${held.lastLsn}` }
  }
  if (!hashesEqual(headAtHeld, held.chainHead)) {
    return { code: 'CHAIN_BREAK', ...at, lsn: held.lastLsn, detail: `the chain re-derived from the disk reaches head ${toHex(headAtHeld)} at LSN ${held.lastLsn}, but the writer's head there is ${toHex(held.chainHead)}: records at or before it were rewritten with their chain recomputed` }
  }
  return null
}

/** Records after the last sealed LSN, not counting the seal record itself. */
function unsealed(lastLsn: number, firstLsn: number, last: SealEntry | null): number {
  if (last === null) return lastLsn - firstLsn + 1
  return lastLsn - last.claims.lsn - (last.recordLsn <= lastLsn ? 1 : 0)
}

function summary(entry: SealEntry): NonNullable<VerifyReport['seals']['last']> {
  return { recordLsn: entry.recordLsn, claims: entry.claims, kid: entry.kid, jws: entry.jws }
}

/** The latest seal of a verified log directory as an anchor for external storage; throws if the log has problems. */
export async function exportAnchor(dir: string, options: VerifyOptions = {}): Promise<Anchor & { sealRecordLsn: number }> {
  return anchorOf(await verifyLogDirectory(dir, options))
}

/** The anchor of a verification's latest seal; throws if it found problems or no seal. */
export function anchorOf(report: VerifyReport): Anchor & { sealRecordLsn: number; sealedAtMs: number } {
  if (report.firstProblem !== null) throw new Error(`cannot export an anchor from a log with problems: ${report.firstProblem.code} at LSN ${report.firstProblem.lsn}`)
  const last = report.seals.last
  if (last === null) throw new Error(`${report.dir} holds no seal to anchor; seal it first (POST /v1/audit/anchor on the gateway)`)
  // sealedAtMs: when the seal was signed (its claim), which may be long before this run: an anchor attests a head, not a time.
  return { lsn: last.claims.lsn, chainHead: last.claims.chainHead, seal: last.jws, sealRecordLsn: last.recordLsn, sealedAtMs: last.claims.sealedAtMs }
}
