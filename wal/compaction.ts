/**
 * Compaction of the writable log (Wal.removeSegmentsBelow): whole sealed segments below an LSN leave the log — deleted,
 * or moved to an archive directory. A segment is never cut, and the last (open) segment never goes: the catalog
 * decides which ones (SegmentCatalog.removableBelow).
 *
 * Crash safety, power cuts included: the segments go oldest first, ONE AT A TIME, and each removal is made durable
 * (the log directory fsynced) before the next begins. A directory's entry changes that were not fsynced may reach the
 * disk in any subset and any order, so with one fsync at the end a power cut could keep the unlink of a later segment
 * and lose an earlier one's: a hole in the middle of the log, which the next start refuses (SEGMENT_MISSING). With a
 * fsync per step, at most one removal is in doubt at any time, always of the oldest segment left: the log after a
 * crash is a suffix of the log before, contiguous whatever reached the disk (specs/wal/power-cut.test.ts checks every
 * subset at every step). Each segment leaves the catalog only once its file is gone, so a removal that fails part-way
 * leaves a catalog that is what the disk holds; a later compaction removes the rest.
 *
 * Archiving: the archive directory is created durably (durable-dir.ts), and a segment's new name there is made
 * durable (the archive directory fsynced) before its old name's removal (the log directory fsynced), so a power cut
 * leaves it in the log, in the archive or in both, never in neither. On another file system (rename fails EXDEV) it is
 * copied instead: written beside its name, fsynced, renamed into place and the archive directory fsynced, and only
 * then unlinked from the log. A name the archive already holds is never replaced: with the same bytes it is this
 * segment, archived by a run a crash stopped before the log's name went (that name is then removed); with other bytes
 * it is another log's, and the compaction stops there (ArchiveSegmentExistsError), the segment left in the log.
 *
 * A failed fsync (of a directory, or of an archive copy) is a SyncFailedError: what reached the disk is unknown and
 * a second fsync proves nothing (the kernel may report success the next time), so the log that owns the directory
 * dies of it (Wal.removeSegmentsBelow), as it does of a failed fsync of its own (DESIGN §3), and is never retried.
 * A directory that could not be opened for its fsync (DirectoryOpenError: EMFILE, say) fails the compaction only:
 * no fsync was attempted, the segment just removed is gone from the catalog (its removal not known durable: after a
 * crash it may be back, a longer suffix of the same log), nothing after it is touched, and the log goes on.
 */

import { realpathSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { SegmentCatalog, SegmentInfo } from './catalog.ts'
import { makeDirDurable } from './durable-dir.ts'
import { ArchiveDirIsLogDirError, ArchiveSegmentExistsError } from './errors.ts'
import { readFully, type WalIo } from './io.ts'
import { linkOrCopyFile } from './prefix.ts'
import { SEGMENT_TEMP_SUFFIX } from './segment.ts'
import { syncFailuresMarked } from './sync-failures.ts'

/**
 * Removes whole segments whose every LSN is below `lsn` (never the last segment) from `catalog` and from `dir`, the
 * oldest `segmentsMax` of them at most (unset: all). With `archiveDir` they are moved there instead of deleted. Returns
 * the removed segment names; throws the file system's error when a removal fails (the segments removed before it are
 * gone from the catalog, the others stay).
 */
export function removeSegmentsBelow(catalog: SegmentCatalog, lsn: number, options: { dir: string; io: WalIo; archiveDir?: string; segmentsMax?: number }): string[] {
  const { dir, archiveDir } = options
  const io = syncFailuresMarked(options.io, { during: 'while compacting' })
  const removable = catalog.removableBelow(lsn).slice(0, options.segmentsMax ?? Number.POSITIVE_INFINITY)
  if (removable.length === 0) return []
  // Archived into the log directory itself (by its path or a link), a segment would be "moved" onto its own name (and,
  // being the same bytes, taken for one archived already and unlinked).
  if (archiveDir !== undefined && sameDirectory(archiveDir, dir)) throw new ArchiveDirIsLogDirError(archiveDir)
  if (archiveDir !== undefined) makeDirDurable(io, archiveDir)
  const removed: string[] = []
  for (const segment of removable) {
    if (archiveDir === undefined) io.unlink(segment.path)
    else archiveSegment(io, segment, archiveDir)
    catalog.dropFirst(segment)
    removed.push(segment.name)
    // The archived name durable before the log's removal of it, and both before the next removal begins: see the file
    // comment (a segment in neither place, or a hole, otherwise).
    if (archiveDir !== undefined) io.fsyncDirectory(archiveDir)
    io.fsyncDirectory(dir)
  }
  return removed
}

/**
 * Moves `segment` into `archiveDir`: a rename, or across file systems a synced copy and then the unlink. When it
 * returns the file is gone from the log directory; the caller fsyncs both directories.
 */
function archiveSegment(io: WalIo, segment: SegmentInfo, archiveDir: string): void {
  const target = join(archiveDir, segment.name)
  if (io.exists(target)) {
    if (!sameBytes(io, segment.path, target)) throw new ArchiveSegmentExistsError(target, segment.path)
    io.unlink(segment.path)
    return
  }
  try {
    io.rename(segment.path, target)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error
    copySegment(io, segment, target)
  }
}

/** Across file systems: a synced copy under a temp name, renamed into place, the archive fsynced, then the unlink. */
function copySegment(io: WalIo, segment: SegmentInfo, target: string): void {
  const archiveDir = dirname(target)
  const temp = target + SEGMENT_TEMP_SUFFIX
  if (io.exists(temp)) io.unlink(temp) // a copy a crash interrupted
  linkOrCopyFile(io, segment.path, temp)
  io.rename(temp, target)
  io.fsyncDirectory(archiveDir)
  io.unlink(segment.path)
}

/** How much of each file `sameBytes` reads at a time. */
const COMPARE_CHUNK_BYTES = 1024 * 1024

/** Whether the files at `a` and `b` hold the same bytes. */
function sameBytes(io: WalIo, a: string, b: string): boolean {
  const fdA = io.openRead(a)
  try {
    const fdB = io.openRead(b)
    try {
      const sizeBytes = io.sizeBytes(fdA)
      if (io.sizeBytes(fdB) !== sizeBytes) return false
      for (let position = 0; position < sizeBytes; position += COMPARE_CHUNK_BYTES) {
        const length = Math.min(COMPARE_CHUNK_BYTES, sizeBytes - position)
        if (Buffer.compare(readFully(io, fdA, position, length), readFully(io, fdB, position, length)) !== 0) return false
      }
      return true
    } finally {
      io.close(fdB)
    }
  } finally {
    io.close(fdA)
  }
}

/** Whether `a` and `b` name one directory, through links too (a path that does not exist yet is compared as given). */
function sameDirectory(a: string, b: string): boolean {
  const real = (path: string): string => {
    try {
      return realpathSync(path)
    } catch {
      return resolve(path)
    }
  }
  return real(a) === real(b)
}
