/**
 * Compaction: log segments wholly below the oldest retained *valid* snapshot are archived (moved to an archive
 * directory) or deleted. The basis is the oldest snapshot that passes every check, so a fallback at restart always
 * finds the log it needs after its LSN; the segment holding the basis LSN itself is kept, so the chain head the
 * snapshot carries stays checkable against a frame in the log. Chain verification of the compacted log starts from
 * the first remaining segment's header (the chain head before it) and, through the basis frame, meets the snapshot.
 *
 * A running gateway also holds compaction back to what its audit self-check has verified (`keepFromLsn`): a segment
 * removed before the check re-derived its chain could never be checked again, and every later check would fail on the
 * missing file. Such a compaction removes less now and the rest after a later snapshot.
 */

import type { Wal } from '../../../wal/index.ts'
import { openSnapshot, rejection, type LogView } from './load.ts'
import type { SnapshotSealVerdicts } from './seal-file.ts'
import type { RejectedSnapshot, SnapshotCandidate, SnapshotStore } from './store.ts'

export type CompactionMode = 'archive' | 'delete'

export interface CompactOptions {
  mode: CompactionMode
  /** Where archived segments go; required for mode `archive`. */
  archiveDir: string | null
  /** Report what would be removed without removing it. */
  dryRun?: boolean
  /** Keep every segment holding this LSN or a later one, whatever the basis (a reader has not reached it yet). */
  keepFromLsn?: number
  /** Remove the oldest this many segments at most (the rest: Wal.removeSegmentsBelow with `boundLsn`); unset: all. */
  segmentsMax?: number
  /**
   * The snapshots' seals (load.ts sealVerdicts), as a start checks them: a snapshot whose seal does not hold is no
   * basis. Taken for one, the log was compacted below a snapshot the next start refuses (SEAL_INVALID), and a start
   * that replayed the whole log before found neither (COMPACTED_NO_SNAPSHOT).
   */
  seals?: SnapshotSealVerdicts
}

export interface CompactResult {
  /**
   * The snapshot compaction is based on, or null when no valid snapshot exists, or a stop came while a running
   * gateway's compaction checked one (compact-turns.ts); then nothing is removed.
   */
  basis: { file: string; lsn: number; chainHead: string } | null
  removed: string[]
  /** The LSN compaction stopped below: the basis's, or keepFromLsn when that is lower (then `heldBack`). */
  boundLsn: number | null
  /** keepFromLsn kept a segment the basis alone would have removed. */
  heldBack: boolean
  firstLsnBefore: number
  firstLsnAfter: number
  mode: CompactionMode
  archiveDir: string | null
  rejected: RejectedSnapshot[]
}

/** What planning a compaction reads of a log: a writable Wal, or a read-only open (a dry run, which cuts no tail). */
export interface CompactionView extends LogView {
  /** Oldest first: the segment file names and the last LSN each holds. */
  readonly segments: readonly { readonly name: string; readonly lastLsn: number }[]
}

export function compactLog(wal: Wal, store: SnapshotStore, options: CompactOptions): CompactResult {
  const result = planCompaction(wal, store, options)
  if (result.boundLsn === null || options.dryRun === true) return result
  const limit = options.segmentsMax === undefined ? {} : { segmentsMax: options.segmentsMax }
  result.removed = wal.removeSegmentsBelow(result.boundLsn, options.mode === 'archive' ? { archiveDir: options.archiveDir as string, ...limit } : limit)
  result.firstLsnAfter = wal.firstLsn
  return result
}

/** compactLog without removing anything: the basis, the bound, and in `removed` the segments a run would remove. */
export function planCompaction(log: CompactionView, store: SnapshotStore, options: Omit<CompactOptions, 'dryRun' | 'segmentsMax'>): CompactResult {
  checkCompactOptions(options)
  const rejected: RejectedSnapshot[] = []
  let basis: CompactResult['basis'] = null
  const seals = options.seals === undefined ? {} : { seals: options.seals }
  for (const candidate of basisCandidates(store)) {
    try {
      const loaded = openSnapshot(store, candidate, log, seals)
      basis = { file: loaded.file, lsn: loaded.lsn, chainHead: loaded.header.chainHead }
      break
    } catch (error) {
      rejected.push(rejection(candidate.file, error))
    }
  }
  return planOnBasis(log, basis, rejected, options)
}

export function checkCompactOptions(options: Pick<CompactOptions, 'mode' | 'archiveDir'>): void {
  if (options.mode === 'archive' && options.archiveDir === null) throw new RangeError('compaction mode "archive" needs an archive directory')
}

/** The snapshots a basis is looked for in, in the order they are tried: the oldest first. */
export function basisCandidates(store: SnapshotStore): SnapshotCandidate[] {
  return [...store.candidates()].reverse()
}

/** planCompaction once its basis is chosen (null: none passed; `rejected`: the candidates refused before it). */
export function planOnBasis(log: CompactionView, basis: CompactResult['basis'], rejected: RejectedSnapshot[], options: Omit<CompactOptions, 'dryRun' | 'segmentsMax'>): CompactResult {
  const firstLsnBefore = log.firstLsn
  const result: CompactResult = { basis, removed: [], boundLsn: null, heldBack: false, firstLsnBefore, firstLsnAfter: firstLsnBefore, mode: options.mode, archiveDir: options.archiveDir, rejected }
  if (basis === null) return result
  const keepFromLsn = options.keepFromLsn ?? Number.POSITIVE_INFINITY
  const boundLsn = Math.min(basis.lsn, keepFromLsn)
  result.boundLsn = boundLsn
  // Same rule as removeSegmentsBelow: every LSN of the segment below the bound, never the last segment.
  const segments = log.segments
  const removableBelow = (lsn: number) => segments.filter((segment, index) => index < segments.length - 1 && segment.lastLsn < lsn)
  result.heldBack = removableBelow(basis.lsn).length > removableBelow(boundLsn).length
  const removable = removableBelow(boundLsn)
  result.removed = removable.map((segment) => segment.name)
  // Where the log starts once they are gone (a dry run reported the first LSN it had, as if nothing would move).
  const lastRemoved = removable[removable.length - 1]
  if (lastRemoved !== undefined) result.firstLsnAfter = lastRemoved.lastLsn + 1
  return result
}
