/**
 * A writable open makes the last segment durable before the log says its end. The group commit acknowledges a batch
 * only after its fdatasync, but a process killed between a batch's write and that sync (kill -9, an OOM kill) leaves
 * the batch in the page cache: the next open reads it as valid frames and reports them as the log's end (`lastLsn`,
 * "the last durable LSN"), and what this run then derives from that end — a snapshot at it, the audit's start line in
 * the anchors file, the back office's stored LSN — names frames no sync ever covered. A power cut before this run's
 * first batch sync would take them again (lost-write.ts cuts the hole), and that evidence would then lie beyond the
 * log's end, which the start refuses (LOG_BEHIND_SNAPSHOT, LOG_BEHIND_ANCHOR). One fdatasync at open closes the gap:
 * everything an open reports is on disk. Under durability `none` nothing is synced, here as anywhere.
 *
 * The log's directory is fsynced too: a process killed between a new segment's rename into place and the directory
 * fsync that follows it (createSegment: a roll, or a first open) leaves the segment's name in the page cache only.
 * This run writes its batches into that segment and acknowledges them after their fdatasync, which makes the file's
 * bytes durable, not its name: a power cut then took the segment, acknowledged records and all (review).
 */

import { dirname } from 'node:path'
import { SyncFailedError } from './errors.ts'
import type { WalIo } from './io.ts'
import type { Durability } from './options.ts'
import { syncFailuresMarked } from './sync-failures.ts'

export function syncLastSegmentAtOpen(io: WalIo, path: string | undefined, durability: Durability): void {
  if (path === undefined || durability !== 'fsync') return
  // Never retried and trusted (DESIGN §3): the open fails and the process recovers by opening again. A directory that
  // cannot be opened fails the open too (DIRECTORY_OPEN_FAILED): nothing was attempted, so a later open tries afresh.
  syncFailuresMarked(io, { during: 'at open, before the log reports its end' }).fsyncDirectory(dirname(path))
  const fd = io.openAppend(path)
  try {
    io.fdatasync(fd)
  } catch (error) {
    throw new SyncFailedError(path, error, { during: 'at open, before the log reports its end' })
  } finally {
    io.close(fd)
  }
}
