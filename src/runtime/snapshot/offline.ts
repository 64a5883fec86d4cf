/**
 * Offline operations on a stopped data directory (`<dir>/log`, `<dir>/snapshots`): take a snapshot without starting
 * the gateway, and compact. Neither may run while a gateway writes the directory: the gateway's own snapshotter (the
 * admin endpoint) is the way to snapshot a running one.
 */

import { join } from 'node:path'
import { LOG_LOCK_FILE, LogDirLock, nodeIo, openReadOnly, tailTruncationNotice, Wal, type ReadOnlyLog, type TailCutGuard, type WalIo } from '../../../wal/index.ts'
import {
  BACKOFFICE_SECTION, decodedSectionModelVersion, decodeSection, QUERY_MODEL_VERSION, QueryModelRebuild, type BackOfficeSection, type DecodeSectionOptions,
  type SectionDecodeObserver,
} from '../../backoffice/index.ts'
import { compactLog, planCompaction, type CompactResult, type CompactionMode } from './compact.ts'
import { encodeSnapshot, KERNEL_SECTION } from './file.ts'
import { chainHeadAt, isUsableAt, loadNewestValid } from './load.ts'
import { rebuildState } from './rebuild.ts'
import { refuseSnapshotBeyondLog } from './restore.ts'
import { RestoreError } from './restore-error.ts'
import { KERNEL_STATE_SCHEMA, kernelStateBytes } from './state-codec.ts'
import { SnapshotStore, type ManifestEntry, type RejectedSnapshot } from './store.ts'
import type { SnapshotSealVerdicts } from './seal-file.ts'
import type { SnapshotSealer } from './take.ts'
import { refuseStoredQueryModel } from './stored-query-model.ts'

export function logDirOf(dataDir: string): string {
  return join(dataDir, 'log')
}

export function snapshotDirOf(dataDir: string): string {
  return join(dataDir, 'snapshots')
}

export interface OfflineSnapshotResult {
  /** The snapshot written, or null when the newest one is already at the log's last state. */
  written: ManifestEntry | null
  lsn: number
  /** Where the rebuild started: a snapshot's LSN, or 0 for genesis. */
  baseLsn: number
  replayedRecords: number
  rejected: RejectedSnapshot[]
  /** The back-office section written with it (its LSN), or why there is none. */
  backOffice: { lsn: number } | { missing: string }
  elapsedMs: number
}

/** What an offline command makes of the data dir's stored query model (stored-query-model.ts). */
export interface OfflineQueryModelOptions {
  /**
   * Refuse a stored query model beyond the log's end (QUERY_MODEL_BEYOND_LOG), as a start refuses it: true for a log
   * written with durability fsync (the config's wal.durability; the default), false under durability none, where it
   * proves nothing. An unreadable one (QUERY_MODEL_UNREADABLE) is refused either way.
   */
  refuseQueryModelBeyondLog?: boolean
}

export interface OfflineSnapshotOptions extends OfflineQueryModelOptions {
  keep: number
  nowMs: number
  io?: WalIo
  /** The snapshots' seals (load.ts sealVerdicts): one that does not hold refuses its snapshot, as at a start. */
  seals?: SnapshotSealVerdicts
  /** Told every `progressEveryRecords` (100,000) records replayed: the LSN reached, the log's last LSN, the records. */
  onProgress?: (lsn: number, lastLsn: number, records: number) => void
  progressEveryRecords?: number
  /** Told of every back-office section decode (the base snapshot's section is decoded once). */
  onSectionDecoded?: SectionDecodeObserver
}

/**
 * Holds the log directory's writer lock (wal/dir-lock.ts) throughout, so a gateway writing the log refuses it
 * (WalLockedError): read while a writer runs, the log may end in a batch written but not yet synced — a snapshot of it
 * would lie beyond the log a crash leaves — and the store's temp-file removal and pruning would race the gateway's.
 */
export function snapshotOffline(dataDir: string, options: OfflineSnapshotOptions): OfflineSnapshotResult {
  const lock = LogDirLock.acquire(logDirOf(dataDir))
  try {
    const prepared = snapshotPrepared(dataDir, options)
    return 'result' in prepared ? prepared.result : prepared.write(undefined)
  } finally {
    lock.release()
  }
}

/**
 * snapshotOffline with the snapshot sealed (seal-file.ts) by `sealWith` before it is written: `egress snapshot` of a
 * data directory whose config names the audit seal key. The lock is held throughout, the signing included.
 */
export async function snapshotOfflineSealed(dataDir: string, options: OfflineSnapshotOptions & { sealWith: SnapshotSealer }): Promise<OfflineSnapshotResult> {
  const lock = LogDirLock.acquire(logDirOf(dataDir))
  try {
    const prepared = snapshotPrepared(dataDir, options)
    return 'result' in prepared ? prepared.result : prepared.write(await options.sealWith(prepared.sealed))
  } finally {
    lock.release()
  }
}

/** The snapshot to write, encoded, and what a seal of it signs; or the result when none is to be written. */
type PreparedSnapshot =
  | { result: OfflineSnapshotResult }
  | { sealed: Parameters<SnapshotSealer>[0]; write: (seal: string | undefined) => OfflineSnapshotResult }

function snapshotPrepared(dataDir: string, options: OfflineSnapshotOptions): PreparedSnapshot {
  const started = performance.now()
  const io = options.io ?? nodeIo
  const log = openReadOnly(logDirOf(dataDir), { io })
  const store = new SnapshotStore(snapshotDirOf(dataDir), { io, keep: options.keep })
  // As a start would: a snapshot beyond the log's end means the log lost durable records, and a snapshot of what is
  // left would be one more file built on the gap.
  refuseSnapshotBeyondLog(log, store)
  // As a start would too: a query model beyond the log is the same witness of lost durable records, and one that is
  // no usable store refuses the start that would follow.
  refuseStoredQueryModel(dataDir, log.lastLsn, { refuseBeyondLog: options.refuseQueryModelBeyondLog ?? true })
  const { loaded, rejected } = loadNewestValid(store, log, options.seals === undefined ? {} : { seals: options.seals })
  // As a start refuses it (restore.ts), with the same stable code: a rebuild from the middle of the log would be wrong.
  if (loaded === null && log.firstLsn > 1) {
    const why = rejected.length === 0 ? 'there is no snapshot' : `no snapshot passed verification (${rejected.map((r) => `${r.file}: ${r.code}`).join('; ')})`
    throw new RestoreError('COMPACTED_NO_SNAPSHOT', `the log starts at LSN ${log.firstLsn} (compacted) and ${why}; restore a snapshot or the archived segments`)
  }
  const rebuilt = rebuildState(log, {
    ...(loaded === null ? {} : { from: { state: loaded.state, lsn: loaded.lsn } }),
    ...(options.onProgress === undefined ? {} : { onProgress: (lsn: number, records: number) => options.onProgress?.(lsn, log.lastLsn, records) }),
    ...(options.progressEveryRecords === undefined ? {} : { progressEveryRecords: options.progressEveryRecords }),
  })
  const lsn = rebuilt.state.lastLsn
  const base = { lsn, baseLsn: loaded?.lsn ?? 0, replayedRecords: rebuilt.records, rejected }
  // Current only when the newest snapshot at this LSN is one a start uses: a damaged or unusable one there (reported
  // above) is replaced.
  const newest = store.candidates()[0]
  if (lsn === 0 || (newest?.lsn === lsn && isUsableAt(store, newest, log))) return { result: { written: null, ...base, backOffice: { missing: 'no snapshot written' }, elapsedMs: performance.now() - started } }
  store.removeTempFiles()
  const sections = new Map([[KERNEL_SECTION, kernelStateBytes(rebuilt.state)]])
  const decodeOptions: DecodeSectionOptions = options.onSectionDecoded === undefined ? {} : { onDecoded: options.onSectionDecoded }
  const backOffice = backOfficeSection(log, loaded?.sections.get(BACKOFFICE_SECTION), decodeOptions)
  if ('bytes' in backOffice) sections.set(BACKOFFICE_SECTION, backOffice.bytes)
  const chainHead = chainHeadAt(log, lsn)
  const encoded = encodeSnapshot({ lsn, chainHead, createdAtMs: options.nowMs, kernelSchema: KERNEL_STATE_SCHEMA }, sections)
  return {
    sealed: { lsn, chainHead, digest: encoded.digest, epoch: log.lastEpoch },
    write: (seal) => ({
      written: store.write(seal === undefined ? encoded : { ...encoded, seal }),
      ...base,
      backOffice: 'bytes' in backOffice ? { lsn: backOffice.lsn } : backOffice,
      elapsedMs: performance.now() - started,
    }),
  }
}

/**
 * The back office at the log's end, from the base snapshot's section (or genesis): a snapshot written offline carries
 * it like a running gateway's, so compacting below it never loses the back office's history. A section whose query
 * model is of an older version is passed over for genesis while the log is whole (as a start does:
 * src/backoffice/projector-start.ts), keeping the lots rule of its ledger; on a compacted log it is upgraded in place.
 */
function backOfficeSection(log: ReadOnlyLog, from: Uint8Array | undefined, decodeOptions: DecodeSectionOptions): { bytes: Uint8Array; lsn: number } | { missing: string } {
  let rebuild: QueryModelRebuild
  if (from !== undefined) {
    try {
      // Decoded once: for the lots rule of an older query model, else as where the rebuild starts.
      const section = decodeSection(from, decodeOptions)
      const older = log.firstLsn <= 1 ? olderSectionLots(section) : null
      rebuild = older === null ? QueryModelRebuild.fromSection(section) : QueryModelRebuild.fromGenesis(older)
    } catch (error) {
      if (log.firstLsn > 1) return { missing: `the base snapshot's back-office section is not usable: ${error instanceof Error ? error.message : String(error)}` }
      rebuild = QueryModelRebuild.fromGenesis()
    }
  } else if (log.firstLsn <= 1) rebuild = QueryModelRebuild.fromGenesis()
  else return { missing: `the log starts at LSN ${log.firstLsn} and the base snapshot has no back-office section` }
  try {
    for (const frame of log.read(Math.max(log.firstLsn, rebuild.lsn + 1))) rebuild.apply(frame)
    return { bytes: rebuild.section(), lsn: rebuild.lsn }
  } finally {
    rebuild.close()
  }
}

/** The lots rule of a section's ledger when its query model is of an older version than this build's, else null. */
function olderSectionLots(section: BackOfficeSection): number | null {
  try {
    return decodedSectionModelVersion(section).version < QUERY_MODEL_VERSION ? section.ledger.lotsUntrackedThroughLsn : null
  } catch {
    return null
  }
}

export interface OfflineCompactOptions extends OfflineQueryModelOptions {
  mode: CompactionMode
  archiveDir: string | null
  keep: number
  dryRun: boolean
  io?: WalIo
  log?: (line: string) => void
  /** What the log's open checks and sets aside before it cuts a torn tail (the data dir's: durable-witnesses.ts). */
  tailCut?: TailCutGuard
  /** The snapshots' seals (load.ts sealVerdicts): one that does not hold is no basis, as a start refuses it. */
  seals?: SnapshotSealVerdicts
}

export async function compactOffline(dataDir: string, options: OfflineCompactOptions): Promise<CompactResult> {
  const io = options.io ?? nodeIo
  // Opening creates a missing log: a mistyped DIR became a new data dir with an empty log, "nothing to compact", even
  // with --dry-run. A data dir without a log has nothing to compact and is not one this command may create.
  if (!io.exists(logDirOf(dataDir))) throw new Error(`no log in ${logDirOf(dataDir)}: not a data directory (nothing created)`)
  if (options.dryRun) return compactionPlanned(dataDir, io, options)
  // Opened as a replica: it appends nothing, and takes its epoch from the log's frames (a writer of epoch 1 is refused
  // a log an HA node wrote at a higher one). The directory lock keeps a running gateway out as any open does.
  const wal = Wal.openReplica(logDirOf(dataDir), { io, durability: 'fsync', preallocateBytes: 0, ...(options.tailCut === undefined ? {} : { tailCut: options.tailCut }) })
  // Its open cuts a torn tail as a gateway's does (never acknowledged records, a power cut's hole included): said.
  const notice = tailTruncationNotice(wal.recovery)
  if (notice !== null) options.log?.(notice)
  try {
    const store = new SnapshotStore(snapshotDirOf(dataDir), { io, keep: options.keep })
    // As a start would: compacting below an older snapshot of a log that lost durable records would delete (or
    // archive) segments of a log no gateway may start from, before anyone looked at the gap.
    refuseSnapshotBeyondLog(wal, store)
    refuseStoredQueryModel(dataDir, wal.lastLsn, { refuseBeyondLog: options.refuseQueryModelBeyondLog ?? true })
    return compactLog(wal, store, { mode: options.mode, archiveDir: options.archiveDir, ...sealsOf(options) })
  } finally {
    await wal.close()
  }
}

/**
 * The dry run: what compactOffline would do, with nothing on disk changed. The log is opened read-only — a writable
 * open cuts a torn tail (a power cut's hole and the valid frames past it included) and trims preallocated zeros, and a
 * dry run did both — and the tail a run would cut is said instead. The log's lock is held when its file is there, so a
 * gateway writing the log refuses the dry run as it refuses the run (its unsynced batch is no torn tail); a log without
 * one is not given one.
 */
function compactionPlanned(dataDir: string, io: WalIo, options: OfflineCompactOptions): CompactResult {
  const logDir = logDirOf(dataDir)
  const lock = io.exists(join(logDir, LOG_LOCK_FILE)) ? LogDirLock.acquire(logDir) : null
  try {
    const log = openReadOnly(logDir, { io })
    // Refused where the run's open would refuse to cut it (LOG_TAIL_DURABLE), not said to be cut.
    const torn = log.report.tornTail
    if (torn !== null) options.tailCut?.check?.({ file: torn.file, offsetBytes: torn.offsetBytes, removedBytes: torn.removedBytes, lastGoodLsn: torn.lsn - 1, reason: torn.reason })
    const notice = tailTruncationNotice(log.report)
    if (notice !== null) options.log?.(notice)
    const store = new SnapshotStore(snapshotDirOf(dataDir), { io, keep: options.keep })
    refuseSnapshotBeyondLog(log, store)
    refuseStoredQueryModel(dataDir, log.lastLsn, { refuseBeyondLog: options.refuseQueryModelBeyondLog ?? true })
    return planCompaction(log, store, { mode: options.mode, archiveDir: options.archiveDir, ...sealsOf(options) })
  } finally {
    lock?.release()
  }
}

function sealsOf(options: OfflineCompactOptions): { seals?: SnapshotSealVerdicts } {
  return options.seals === undefined ? {} : { seals: options.seals }
}
