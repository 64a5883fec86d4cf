/**
 * Compaction: log segments wholly below the oldest retained *valid* snapshot are archived (moved to an archive
 * directory) or deleted. The basis is the oldest snapshot that passes every check, so a fallback at restart always
 * finds the log it needs after its LSN; the segment holding the basis LSN itself is kept, so the chain head the
 * snapshot carries stays checkable against a frame in the log. Chain verification of the compacted log starts from
 * the first remaining segment's header (the chain head before it) and, through the basis frame, meets the snapshot.
 */

import type { Wal } from '../../../wal/index.ts'
import { openSnapshot, rejection } from './load.ts'
import type { RejectedSnapshot, SnapshotStore } from './store.ts'

export type CompactionMode = 'archive' | 'delete'

export interface CompactOptions {
  mode: CompactionMode
  /** Where archived segments go; required for mode `archive`. */
  archiveDir: string | null
  /** Report what would be removed without removing it. */
  dryRun?: boolean
}

export interface CompactResult {
  /** The snapshot compaction is based on, or null when no valid snapshot exists (then nothing is removed). */
  basis: { file: string; lsn: number; chainHead: string } | null
  removed: string[]
  firstLsnBefore: number
  firstLsnAfter: number
  mode: CompactionMode
  archiveDir: string | null
  rejected: RejectedSnapshot[]
}

export function compactLog(wal: Wal, store: SnapshotStore, options: CompactOptions): CompactResult {
  if (options.mode === 'archive' && options.archiveDir === null) throw new RangeError('compaction mode "archive" needs an archive directory')
  const firstLsnBefore = wal.firstLsn
  const rejected: RejectedSnapshot[] = []
  let basis: CompactResult['basis'] = null
  for (const candidate of [...store.candidates()].reverse()) {
    try {
      const loaded = openSnapshot(store, candidate, wal)
      basis = { file: loaded.file, lsn: loaded.lsn, chainHead: loaded.header.chainHead }
      break
    } catch (error) {
      rejected.push(rejection(candidate.file, error))
    }
  }
  const result = { basis, removed: [] as string[], firstLsnBefore, firstLsnAfter: firstLsnBefore, mode: options.mode, archiveDir: options.archiveDir, rejected }
  if (basis === null) return result
  if (options.dryRun === true) {
    // Same rule as removeSegmentsBelow: every LSN of the segment below the basis, never the last segment.
    const segments = wal.segments
    result.removed = segments.filter((segment, index) => index < segments.length - 1 && segment.lastLsn < basis.lsn).map((segment) => segment.name)
    return result
  }
  result.removed = wal.removeSegmentsBelow(basis.lsn, options.mode === 'archive' ? { archiveDir: options.archiveDir as string } : {})
  result.firstLsnAfter = wal.firstLsn
  return result
}
