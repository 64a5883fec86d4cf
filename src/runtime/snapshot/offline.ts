/**
 * Offline operations on a stopped data directory (`<dir>/log`, `<dir>/snapshots`): take a snapshot without starting
 * the gateway, and compact. Neither may run while a gateway writes the directory: the gateway's own snapshotter (the
 * admin endpoint) is the way to snapshot a running one.
 */

import { join } from 'node:path'
import { nodeIo, openReadOnly, Wal, type WalIo } from '../../../wal/index.ts'
import { compactLog, type CompactResult, type CompactionMode } from './compact.ts'
import { encodeSnapshot, KERNEL_SECTION } from './file.ts'
import { chainHeadAt, loadNewestValid } from './load.ts'
import { rebuildState } from './rebuild.ts'
import { KERNEL_STATE_SCHEMA, kernelStateBytes } from './state-codec.ts'
import { SnapshotStore, type ManifestEntry, type RejectedSnapshot } from './store.ts'

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
  elapsedMs: number
}

export function snapshotOffline(dataDir: string, options: { keep: number; nowMs: number; io?: WalIo; onProgress?: (lsn: number, records: number) => void }): OfflineSnapshotResult {
  const started = performance.now()
  const io = options.io ?? nodeIo
  const log = openReadOnly(logDirOf(dataDir), { io })
  const store = new SnapshotStore(snapshotDirOf(dataDir), { io, keep: options.keep })
  const { loaded, rejected } = loadNewestValid(store, log)
  if (loaded === null && log.firstLsn > 1) throw new Error(`the log starts at LSN ${log.firstLsn} (compacted) and no valid snapshot covers it`)
  const rebuilt = rebuildState(log, {
    ...(loaded === null ? {} : { from: { state: loaded.state, lsn: loaded.lsn } }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  })
  const lsn = rebuilt.state.lastLsn
  const base = { lsn, baseLsn: loaded?.lsn ?? 0, replayedRecords: rebuilt.records, rejected }
  if (lsn === 0 || store.candidates()[0]?.lsn === lsn) return { written: null, ...base, elapsedMs: performance.now() - started }
  store.removeTempFiles()
  const encoded = encodeSnapshot(
    { lsn, chainHead: chainHeadAt(log, lsn), createdAtMs: options.nowMs, kernelSchema: KERNEL_STATE_SCHEMA },
    new Map([[KERNEL_SECTION, kernelStateBytes(rebuilt.state)]]),
  )
  return { written: store.write(encoded), ...base, elapsedMs: performance.now() - started }
}

export async function compactOffline(dataDir: string, options: { mode: CompactionMode; archiveDir: string | null; keep: number; dryRun: boolean; io?: WalIo }): Promise<CompactResult> {
  const io = options.io ?? nodeIo
  const wal = Wal.open(logDirOf(dataDir), { io, durability: 'fsync', preallocateBytes: 0 })
  try {
    const store = new SnapshotStore(snapshotDirOf(dataDir), { io, keep: options.keep })
    return compactLog(wal, store, { mode: options.mode, archiveDir: options.archiveDir, dryRun: options.dryRun })
  } finally {
    await wal.close()
  }
}
