/**
 * Compaction of the writable log (Wal.removeSegmentsBelow): whole sealed segments below an LSN leave the log — deleted,
 * or moved to an archive directory — and the directories are fsynced so the removal survives a crash. A segment is
 * never cut, and the last (open) segment never goes: the catalog decides which ones (SegmentCatalog.dropBelow).
 */

import { join } from 'node:path'
import type { SegmentCatalog } from './catalog.ts'
import type { WalIo } from './io.ts'

/**
 * Removes whole segments whose every LSN is below `lsn` (never the last segment) from `catalog` and from `dir`. With
 * `archiveDir` they are moved there instead of deleted. Returns the removed segment names.
 */
export function removeSegmentsBelow(catalog: SegmentCatalog, lsn: number, options: { dir: string; io: WalIo; archiveDir?: string }): string[] {
  const { io, dir, archiveDir } = options
  const dropped = catalog.dropBelow(lsn)
  if (dropped.length === 0) return []
  if (archiveDir !== undefined) io.mkdirp(archiveDir)
  for (const segment of dropped) {
    if (archiveDir === undefined) io.unlink(segment.path)
    else io.rename(segment.path, join(archiveDir, segment.name))
  }
  io.fsyncDirectory(dir)
  if (archiveDir !== undefined) io.fsyncDirectory(archiveDir)
  return dropped.map((segment) => segment.name)
}
