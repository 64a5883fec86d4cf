/**
 * What a data directory holds that proves how far its log was durable, for a cut of the log's tail to be judged by:
 * a snapshot (taken of durable state only), the anchors file (each line names an LSN that was durable: anchors-behind.ts),
 * the back office's query model (it writes only durable records) and a backup's manifest (`egress backup` writes it
 * once the copy through its LSN is fsynced and verified: backup/manifest.ts). A cut below any of them removes records that
 * were durable — damage, not a write torn by a crash — so it is refused: by `egress repair-tail` (its own codes), and
 * by a gateway's or an offline command's open of the log (tailCutGuardOf), which otherwise cut it as never acknowledged.
 * Witnesses are proof for a log written with durability `fsync` only (nothing else was synced).
 */

import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { TailCut, TailCutGuard } from '../../wal/index.ts'
import { anchoredLsnOf, anchorsFileLines, judgeAnchorLines } from '../audit/index.ts'
import { anchorsPathOf } from './anchors-behind.ts'
import { BACKUP_MANIFEST_FILE, backupManifestEnd } from './backup/manifest.ts'
import { parseSnapshotFileName, RestoreError, snapshotDirOf, storedQueryModelLastLsn, STORED_QUERY_MODEL } from './snapshot/index.ts'

export type DurableWitness =
  | { kind: 'snapshot'; files: string[]; dir: string }
  | { kind: 'anchors'; file: string; lsn: number }
  | { kind: 'query_model'; file: string; lsn: number }
  | { kind: 'backup'; file: string; lsn: number }

/** The first witness (snapshots, anchors file, query model, backup manifest) that the log was durable past `lastGoodLsn`; null when none. */
export function durableWitnessBeyond(dataDir: string, lastGoodLsn: number, anchorsFile?: string): DurableWitness | null {
  const snapshots = snapshotsBeyond(dataDir, lastGoodLsn)
  if (snapshots.length > 0) return { kind: 'snapshot', files: snapshots, dir: snapshotDirOf(dataDir) }
  const anchored = judgedAnchorsEnd(dataDir, anchorsFile)
  if (anchored !== null && anchored.lsn > lastGoodLsn) return { kind: 'anchors', ...anchored }
  const queryModelLsn = storedQueryModelLsn(dataDir)
  if (queryModelLsn !== null && queryModelLsn > lastGoodLsn) return { kind: 'query_model', file: join(dataDir, STORED_QUERY_MODEL), lsn: queryModelLsn }
  const backupLsn = backupManifestEnd(dataDir)
  if (backupLsn !== null && backupLsn > lastGoodLsn) return { kind: 'backup', file: join(dataDir, BACKUP_MANIFEST_FILE), lsn: backupLsn }
  return null
}

/**
 * The highest LSN the anchors file vouches for, and its file: only lines a single node wrote under fsync count
 * (anchors-judged.ts) — an HA node's log follows the leader's and drops a diverged tail by design, and nothing was
 * synced under `none`. Null when no line counts.
 */
export function judgedAnchorsEnd(dataDir: string, anchorsFile?: string): { file: string; lsn: number } | null {
  const { judged } = judgeAnchorLines(anchorsFileLines(anchorsPathOf(dataDir, anchorsFile)))
  return judged === null ? null : { file: judged.file, lsn: anchoredLsnOf(judged) }
}

/** Snapshot files (by name) of state beyond `lsn`. */
export function snapshotsBeyond(dataDir: string, lsn: number): string[] {
  let names: string[]
  try {
    names = readdirSync(snapshotDirOf(dataDir))
  } catch {
    // Missing or unlistable (a file there): no witness here; the restore says SNAPSHOT_DIR_UNUSABLE for the latter.
    return []
  }
  return names.filter((name) => (parseSnapshotFileName(name) ?? 0) > lsn).sort()
}

/**
 * The stored query model's last LSN, read from a copy (its WAL too) so the data dir is never written; null when there
 * is none or it cannot be read (a start rebuilds such a one from the log: it witnesses nothing).
 */
export function storedQueryModelLsn(dataDir: string): number | null {
  try {
    return storedQueryModelLastLsn(dataDir)
  } catch {
    return null
  }
}

/**
 * The guard a writable open of `dataDir`'s log cuts a torn tail under: refused (LOG_TAIL_DURABLE, nothing cut) when a
 * witness shows the frames were durable; else the removed bytes are kept in `<dataDir>/quarantine/` first.
 */
export function tailCutGuardOf(dataDir: string, options: { anchorsFile?: string | undefined; durability: 'fsync' | 'none' }): TailCutGuard {
  const quarantineDir = join(dataDir, 'quarantine')
  if (options.durability !== 'fsync') return { quarantineDir }
  return {
    quarantineDir,
    check: (cut: TailCut) => {
      const witness = durableWitnessBeyond(dataDir, cut.lastGoodLsn, options.anchorsFile)
      if (witness === null) return
      throw new RestoreError(
        'LOG_TAIL_DURABLE',
        `${cut.file} is damaged at offset ${cut.offsetBytes} (${cut.reason}; LSN ${cut.lastGoodLsn + 1} on, ${cut.removedBytes} bytes), and ${describeWitness(witness)}: ` +
          'those records were durable and may have been acknowledged, so this is damage, not a write torn by a crash; nothing was cut and nothing appended. ' +
          `Restore the log from its archive or a standby's copy, or look at the tail with "egress repair-tail ${dataDir}" (it refuses this cut too)`,
        { path: cut.file },
      )
    },
  }
}

function describeWitness(witness: DurableWitness): string {
  switch (witness.kind) {
    case 'snapshot':
      return `${witness.files.join(', ')} in ${witness.dir} hold(s) state beyond it`
    case 'anchors':
      return `the anchors file ${witness.file} names LSN ${witness.lsn}`
    case 'query_model':
      return `the query model ${witness.file} holds the log through LSN ${witness.lsn}`
    case 'backup':
      return `the backup manifest ${witness.file} says the copy holds the log through LSN ${witness.lsn}`
  }
}
