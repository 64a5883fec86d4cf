/**
 * Compaction of the writable log (Wal.removeSegmentsBelow): whole sealed segments below an LSN leave the log — deleted,
 * or moved to an archive directory — and the directories are fsynced so the removal survives a crash. A segment is
 * never cut, and the last (open) segment never goes: the catalog decides which ones (SegmentCatalog.removableBelow).
 * They go oldest first, and each leaves the catalog only once its file is gone, so a removal that fails part-way (or a
 * crash) leaves a contiguous log whose catalog is what the disk holds; a later compaction removes the rest.
 *
 * An archive directory on another file system (rename fails EXDEV) gets a copy instead: written beside its name,
 * fsynced, renamed into place and the archive directory fsynced, and only then is the segment unlinked from the log.
 *
 * A failed fsync (of a directory, or of an archive copy) is a SyncFailedError: what reached the disk is unknown and
 * a second fsync proves nothing (the kernel may report success the next time), so the log that owns the directory
 * dies of it (Wal.removeSegmentsBelow), as it does of a failed fsync of its own (DESIGN §3), and is never retried.
 * A directory that could not be opened for its fsync (DirectoryOpenError: EMFILE, say) fails the compaction only:
 * no fsync was attempted, the segments it removed are gone from the catalog (their removal not known durable: after a
 * crash they may be back, a longer prefix of the same log), and the log goes on.
 */

import { join } from 'node:path'
import type { SegmentCatalog, SegmentInfo } from './catalog.ts'
import type { WalIo } from './io.ts'
import { linkOrCopyFile } from './prefix.ts'
import { SEGMENT_TEMP_SUFFIX } from './segment.ts'
import { syncFailuresMarked } from './sync-failures.ts'

/**
 * Removes whole segments whose every LSN is below `lsn` (never the last segment) from `catalog` and from `dir`. With
 * `archiveDir` they are moved there instead of deleted. Returns the removed segment names; throws the file system's
 * error when a removal fails (the segments removed before it are gone from the catalog, the others stay).
 */
export function removeSegmentsBelow(catalog: SegmentCatalog, lsn: number, options: { dir: string; io: WalIo; archiveDir?: string }): string[] {
  const { dir, archiveDir } = options
  const io = syncFailuresMarked(options.io, { during: 'while compacting' })
  const removable = catalog.removableBelow(lsn)
  if (removable.length === 0) return []
  if (archiveDir !== undefined) io.mkdirp(archiveDir)
  const removed: string[] = []
  try {
    for (const segment of removable) {
      if (archiveDir === undefined) io.unlink(segment.path)
      else archiveSegment(io, segment, archiveDir)
      catalog.dropFirst(segment)
      removed.push(segment.name)
    }
  } finally {
    if (removed.length > 0) {
      io.fsyncDirectory(dir)
      if (archiveDir !== undefined) io.fsyncDirectory(archiveDir)
    }
  }
  return removed
}

/** Moves `segment` into `archiveDir`: a rename, or across file systems a synced copy and then the unlink. */
function archiveSegment(io: WalIo, segment: SegmentInfo, archiveDir: string): void {
  const target = join(archiveDir, segment.name)
  try {
    io.rename(segment.path, target)
    return
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error
  }
  const temp = target + SEGMENT_TEMP_SUFFIX
  if (io.exists(temp)) io.unlink(temp) // a copy a crash interrupted
  linkOrCopyFile(io, segment.path, temp)
  io.rename(temp, target)
  io.fsyncDirectory(archiveDir)
  io.unlink(segment.path)
}
