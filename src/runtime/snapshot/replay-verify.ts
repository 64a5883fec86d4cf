/**
 * replay-verify: rebuild the kernel state from the log alone — from genesis, or from a named (or, for a compacted
 * log, the oldest valid) snapshot — verifying the hash chain of every retained frame on the way, and compare the
 * result with every snapshot in the directory at its LSN (state digests, and where they differ, which entries).
 * Then the back-office query model: the stored one in DIR and each snapshot's section against a rebuild from the log
 * (verify-query-model.ts). Read-only: opens the log without repairing it and writes nothing.
 *
 * Given the snapshots' seals (`seals`: load.ts sealVerdicts, with the caller's keys or without), a snapshot whose seal
 * is present and does not hold (its signature, or another digest, LSN or head) is INVALID, SEAL_INVALID, and never the
 * base: a state edited with its digest recomputed would otherwise be restored and its tail replayed to a MATCH. A
 * snapshot with no seal is reported unsealed (`seals.unsealed`), not a problem.
 */

import { existsSync } from 'node:fs'
import { nodeIo, openReadOnly, toHex, WalCorruptionError, type ReadOnlyLog, type WalIo } from '../../../wal/index.ts'
import type { SectionDecodeObserver } from '../../backoffice/index.ts'
import { stateDigest, type KernelState } from '../../kernel/index.ts'
import { withAmendsAsReadFromOlder } from './amend-request-times.ts'
import { diffStates } from './diff.ts'
import { openSnapshot, rejection, type LoadedSnapshot } from './load.ts'
import type { SnapshotSealVerdicts } from './seal-file.ts'
import { logDirOf, snapshotDirOf } from './offline.ts'
import { rebuildState } from './rebuild.ts'
import { SnapshotStore, type SnapshotCandidate } from './store.ts'
import { queryModelOk, verifyQueryModel, type QueryModelReport } from './verify-query-model.ts'

export interface ReplayVerifyOptions {
  /** `auto`: genesis when the log starts at LSN 1, else the oldest valid snapshot. Or a snapshot file name or LSN. */
  from: 'auto' | 'genesis' | { snapshot: string }
  onProgress?: (progress: { lsn: number; lastLsn: number; records: number }) => void
  io?: WalIo
  /** Compare the back-office query model too (stored and in snapshots; default true). */
  queryModel?: boolean
  /** Told of every back-office section decode the query-model part makes (each section is decoded once). */
  onSectionDecoded?: SectionDecodeObserver
  /** The snapshots' seals (load.ts sealVerdicts); absent: seals are not looked at (`seals` null in the report). */
  seals?: SnapshotSealVerdicts
  /** Whether those verdicts checked signatures (keys given), for the report. */
  sealSignaturesChecked?: boolean
}

export interface SnapshotSealsSeen {
  signaturesChecked: boolean
  /** Valid snapshots whose seal holds. */
  sealed: string[]
  /** Valid snapshots with no seal: nothing vouches for their state but their own digest. */
  unsealed: string[]
}

export interface SnapshotCheck {
  file: string
  lsn: number
  status: 'match' | 'mismatch' | 'invalid' | 'base' | 'not-reached'
  snapshotDigest: string | null
  rebuiltDigest: string | null
  problem: string | null
  differences: string[]
}

export interface ReplayVerifyReport {
  ok: boolean
  dir: string
  log: { firstLsn: number; lastLsn: number; tornTail: string | null }
  base: { kind: 'genesis' | 'snapshot'; file: string | null; lsn: number; sealed: boolean | null }
  replay: { records: number; elapsedMs: number; recordsPerSec: number }
  chain: { verifiedFromLsn: number; verifiedToLsn: number; head: string; ok: boolean }
  finalDigest: string | null
  snapshots: SnapshotCheck[]
  queryModel: QueryModelReport | null
  /** What the snapshots' seals said (null: not looked at). */
  seals: SnapshotSealsSeen | null
  problems: string[]
  elapsedMs: number
}

export function replayVerify(dir: string, options: ReplayVerifyOptions): ReplayVerifyReport {
  const started = performance.now()
  const io = options.io ?? nodeIo
  const logDir = existsSync(logDirOf(dir)) ? logDirOf(dir) : dir
  const report: ReplayVerifyReport = {
    ok: false,
    dir,
    log: { firstLsn: 0, lastLsn: 0, tornTail: null },
    base: { kind: 'genesis', file: null, lsn: 0, sealed: null },
    replay: { records: 0, elapsedMs: 0, recordsPerSec: 0 },
    chain: { verifiedFromLsn: 0, verifiedToLsn: 0, head: '', ok: false },
    finalDigest: null,
    snapshots: [],
    queryModel: null,
    seals: options.seals === undefined ? null : { signaturesChecked: options.sealSignaturesChecked === true, sealed: [], unsealed: [] },
    problems: [],
    elapsedMs: 0,
  }
  const finish = (): ReplayVerifyReport => {
    report.elapsedMs = performance.now() - started
    report.ok =
      report.problems.length === 0 && report.snapshots.every((check) => check.status !== 'mismatch' && check.status !== 'invalid') &&
      (report.queryModel === null || queryModelOk(report.queryModel))
    return report
  }
  let log: ReadOnlyLog
  try {
    log = openReadOnly(logDir, { io, verifyChain: false })
  } catch (error) {
    report.problems.push(describe(error))
    return finish()
  }
  report.log = { firstLsn: log.firstLsn, lastLsn: log.lastLsn, tornTail: tornTailOf(log) }
  if (log.lastLsn === 0) report.problems.push(`${logDir}: the log is empty`)

  const store = new SnapshotStore(snapshotDirOf(dir), { io, keep: 100 })
  const valid = new Map<string, LoadedSnapshot>()
  let candidates: SnapshotCandidate[]
  let missing: ReturnType<SnapshotStore['missing']>
  try {
    candidates = store.candidates()
    missing = store.missing()
  } catch (error) {
    report.problems.push(`${snapshotDirOf(dir)}: cannot list snapshots: ${describe(error)}`)
    return finish()
  }
  const seals = options.seals === undefined ? {} : { seals: options.seals }
  for (const candidate of candidates) {
    try {
      valid.set(candidate.file, openSnapshot(store, candidate, log, seals))
      report.seals?.[options.seals?.has(candidate.file) === true ? 'sealed' : 'unsealed'].push(candidate.file)
      report.snapshots.push({ file: candidate.file, lsn: candidate.lsn, status: 'not-reached', snapshotDigest: null, rebuiltDigest: null, problem: null, differences: [] })
    } catch (error) {
      const rejected = rejection(candidate.file, error)
      report.snapshots.push({ file: candidate.file, lsn: candidate.lsn, status: 'invalid', snapshotDigest: null, rebuiltDigest: null, problem: `${rejected.code}: ${rejected.message}`, differences: [] })
    }
  }
  // Not there to read (store.ts missing): invalid, UNREADABLE, as a snapshot that is a directory. Before, left out: a
  // data dir whose every snapshot was gone printed "snapshots none" and MATCH.
  for (const gone of missing) report.snapshots.push({ file: gone.file, lsn: gone.lsn, status: 'invalid', snapshotDigest: null, rebuiltDigest: null, problem: `UNREADABLE: ${gone.why}`, differences: [] })
  report.snapshots.sort((a, b) => b.lsn - a.lsn)
  const base = chooseBase(options.from, log, valid, report)
  if (base === undefined) return finish()
  runReplay(log, base, valid, report, options)
  if (options.queryModel !== false && report.problems.length === 0) {
    try {
      const decodes = options.onSectionDecoded === undefined ? {} : { onSectionDecoded: options.onSectionDecoded }
      report.queryModel = verifyQueryModel(dir, log, [...valid.values()], base, decodes)
    } catch (error) {
      report.problems.push(`query model: ${describe(error)}`)
    }
  }
  return finish()
}

function chooseBase(from: ReplayVerifyOptions['from'], log: ReadOnlyLog, valid: Map<string, LoadedSnapshot>, report: ReplayVerifyReport): LoadedSnapshot | null | undefined {
  if (from === 'genesis' || (from === 'auto' && log.firstLsn <= 1)) {
    if (log.firstLsn > 1) {
      report.problems.push(`the log starts at LSN ${log.firstLsn} (compacted): genesis is not available; rebuild from a snapshot`)
      return undefined
    }
    return null
  }
  if (from === 'auto') {
    const oldest = [...valid.values()].sort((a, b) => a.lsn - b.lsn)[0]
    if (oldest === undefined) report.problems.push(`the log starts at LSN ${log.firstLsn} (compacted) and no valid snapshot covers it`)
    return oldest
  }
  const named = [...valid.values()].find((loaded) => loaded.file === from.snapshot || String(loaded.lsn) === from.snapshot || loaded.path === from.snapshot)
  if (named === undefined) report.problems.push(`snapshot ${from.snapshot}: not found or not valid`)
  return named
}

function runReplay(log: ReadOnlyLog, base: LoadedSnapshot | null, valid: Map<string, LoadedSnapshot>, report: ReplayVerifyReport, options: ReplayVerifyOptions): void {
  const baseLsn = base?.lsn ?? 0
  const sealed = base === null || report.seals === null ? null : report.seals.sealed.includes(base.file)
  report.base = base === null ? { kind: 'genesis', file: null, lsn: 0, sealed } : { kind: 'snapshot', file: base.file, lsn: base.lsn, sealed }
  const checks = new Map(report.snapshots.map((check) => [check.file, check]))
  const checkpoints = new Map<number, (state: KernelState) => void>()
  for (const loaded of valid.values()) {
    const check = checks.get(loaded.file) as SnapshotCheck
    check.snapshotDigest = stateDigest(loaded.state)
    if (loaded === base) {
      check.status = 'base'
      continue
    }
    if (loaded.lsn < baseLsn) continue
    checkpoints.set(loaded.lsn, (state) => {
      check.rebuiltDigest = stateDigest(state)
      // An amend a format 23 or older section held is read as asked at its order's acceptance (amend-request-times.ts).
      const asRead = check.rebuiltDigest === check.snapshotDigest ? null : withAmendsAsReadFromOlder(state, loaded.state)
      const compared = asRead?.state ?? state
      if (asRead !== null) {
        check.rebuiltDigest = stateDigest(asRead.state)
        check.differences = [`orders: ${asRead.orders} hold an amend asked at the order's acceptance (read from a kernel-state format 23 or older, which holds no request time): compared with the rebuilt amends so`]
      }
      check.status = check.rebuiltDigest === check.snapshotDigest ? 'match' : 'mismatch'
      if (check.status === 'mismatch') check.differences = diffStates(compared, loaded.state)
    })
  }
  try {
    // The chain before the base (a snapshot start) is verified too, so every retained frame is covered.
    if (baseLsn >= log.firstLsn) for (const frame of log.read(log.firstLsn, { toLsn: baseLsn, verifyChain: true })) void frame
    const rebuilt = rebuildState(log, {
      ...(base === null ? {} : { from: { state: base.state, lsn: base.lsn } }),
      verifyChain: true,
      checkpoints,
      ...(options.onProgress === undefined ? {} : { onProgress: (lsn: number, records: number) => options.onProgress?.({ lsn, lastLsn: log.lastLsn, records }) }),
    })
    report.replay = { records: rebuilt.records, elapsedMs: rebuilt.elapsedMs, recordsPerSec: Math.round(rebuilt.records / Math.max(rebuilt.elapsedMs / 1000, 1e-9)) }
    report.chain = { verifiedFromLsn: log.firstLsn, verifiedToLsn: log.lastLsn, head: toHex(log.chainHead), ok: true }
    report.finalDigest = stateDigest(rebuilt.state)
  } catch (error) {
    report.problems.push(describe(error))
  }
}

function tornTailOf(log: ReadOnlyLog): string | null {
  const torn = log.report.tornTail
  if (torn === null) return null
  // A hole a power cut left in the batch in flight is cut with the valid frames past it (wal/lost-write.ts), as the
  // gateway's open cuts it: the state verified is the one a gateway would start from.
  const hole = torn.validFramesRemoved > 0 ? `, with ${torn.validFramesRemoved} CRC-valid frame(s) past a hole (a power cut's lost write of the batch in flight)` : ''
  const append = torn.appendFramesRemoved > 0 ? `, with ${torn.appendFramesRemoved} whole frame(s) of an append whose last frame never reached the disk` : ''
  return `${torn.file} offset ${torn.offsetBytes}: LSN ${torn.lsn} on, ${torn.removedBytes} bytes, ${torn.reason}${hole}${append}`
}

function describe(error: unknown): string {
  if (error instanceof WalCorruptionError) return error.message
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
