/**
 * The writer's counters (Wal.stats): batches, records and fsyncs, and how long the fsyncs took. Both the group commit
 * (a batch's fdatasync) and the segment writer (a part synced before a roll) count their syncs here.
 */

export interface WalStats {
  batchCount: number
  recordCount: number
  fsyncCount: number
  lastFsyncMs: number
  fsyncMsTotal: number
}

export function emptyWalStats(): WalStats {
  return { batchCount: 0, recordCount: 0, fsyncCount: 0, lastFsyncMs: 0, fsyncMsTotal: 0 }
}

export function noteFsync(stats: WalStats, elapsedMs: number): void {
  stats.fsyncCount++
  stats.lastFsyncMs = elapsedMs
  stats.fsyncMsTotal += elapsedMs
}
