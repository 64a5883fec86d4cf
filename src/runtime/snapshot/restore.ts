/**
 * Restart: the engine from the newest valid snapshot plus the log after it, or from the log alone. Refuses to start
 * from a compacted log without a valid snapshot — replaying a log that no longer begins at LSN 1 from an empty state
 * would build a wrong state without a word. Refuses too when an intact snapshot lies beyond the log's end: a snapshot
 * is written only once its LSN is durable (take.ts), so the log has lost records that were acknowledged, and starting
 * would hand their LSNs (and idempotency keys) to new records.
 */

import type { Wal } from '../../../wal/index.ts'
import { Engine } from '../engine.ts'
import { KERNEL_SECTION } from './file.ts'
import { loadNewestValid, type SealCheck } from './load.ts'
import { RestoreError } from './restore-error.ts'
import type { RejectedSnapshot, SnapshotStore } from './store.ts'

export interface RestoreReport {
  /** The snapshot started from, or null for a replay from genesis. */
  snapshot: { file: string; lsn: number; digest: string; loadMs: number; chainHead: string } | null
  rejected: RejectedSnapshot[]
  /** Records replayed after the snapshot (or from genesis). */
  replayedRecords: number
  replayMs: number
  totalMs: number
  removedTempFiles: string[]
}

export { RestoreError, type RestoreProblemCode } from './restore-error.ts'

export interface Restored {
  engine: Engine
  report: RestoreReport
  /** The loaded snapshot's sections other than `kernel`, by name, for projections that restore themselves from it. */
  sections: Map<string, Uint8Array>
}

/**
 * The chain anchor for opening the log before a restore (WalOptions.chainAnchorLsn): the newest snapshot's LSN when
 * snapshots are loaded, else 0 (verify every frame). Only names are read here; the snapshot is verified by the restore.
 */
export function chainAnchorFor(store: SnapshotStore, load: boolean): number {
  if (!load) return 0
  return store.candidates()[0]?.lsn ?? 0
}

/** `seals`: the candidates' seals (load.ts sealVerdicts): one present that does not hold refuses its snapshot (SEAL_INVALID). */
export function restoreEngine(wal: Wal, store: SnapshotStore, options: { load: boolean; onProgress?: (lsn: number) => void } & SealCheck): Restored {
  const started = performance.now()
  const removedTempFiles = store.removeTempFiles()
  refuseSnapshotBeyondLog(wal, store)
  const seals = options.seals === undefined ? {} : { seals: options.seals }
  const { loaded, rejected } = options.load || wal.firstLsn > 1 ? loadNewestValid(store, wal, seals) : { loaded: null, rejected: [] }
  // An anchored open trusted the stored hash at the newest snapshot's LSN. Starting from it, that hash has just been
  // compared with the snapshot's; starting from anything older, the skipped frames are checked first (throws on damage).
  if (wal.chainAnchorLsn > 0 && loaded?.lsn !== wal.chainAnchorLsn) wal.verifyChainBelowAnchor()
  if (loaded === null && wal.firstLsn > 1) {
    const why = rejected.length === 0 ? 'there is no snapshot' : `no snapshot passed verification (${rejected.map((r) => `${r.file}: ${r.code}`).join('; ')})`
    // Refused for its seal alone, a snapshot may be whole (a seal file damaged, a key left out of a rotation's JWKS): the
    // start fails closed on it, and says how an operator who has checked the file goes on.
    const sealOnly = rejected.some((r) => r.code === 'SEAL_INVALID')
      ? '; a snapshot refused SEAL_INVALID alone: check it with "egress replay-verify DIR" (and "egress audit verify DIR"), then either give the key that sealed it (audit.publicKeyFile, a JWKS holding it) or move its .seal file aside, which starts from it unsealed'
      : ''
    throw new RestoreError('COMPACTED_NO_SNAPSHOT', `the log starts at LSN ${wal.firstLsn} (compacted) and ${why}; restore a snapshot or the archived segments${sealOnly}`)
  }
  const replayStarted = performance.now()
  const progress = options.onProgress === undefined ? {} : { onProgress: options.onProgress }
  const engine = loaded === null ? Engine.replay(wal, progress) : Engine.fromSnapshot(wal, { state: loaded.state, lsn: loaded.lsn }, progress)
  const replayMs = performance.now() - replayStarted
  const fromLsn = loaded === null ? wal.firstLsn : loaded.lsn + 1
  const sections = new Map(loaded === null ? [] : [...loaded.sections].filter(([name]) => name !== KERNEL_SECTION))
  return {
    engine,
    sections,
    report: {
      snapshot: loaded === null ? null : { file: loaded.file, lsn: loaded.lsn, digest: loaded.digest, loadMs: loaded.loadMs, chainHead: loaded.header.chainHead },
      rejected,
      replayedRecords: Math.max(0, wal.lastLsn - fromLsn + 1),
      replayMs,
      totalMs: performance.now() - started,
      removedTempFiles,
    },
  }
}

/**
 * Throws LOG_BEHIND_SNAPSHOT when a snapshot file named beyond the log's last LSN is intact (digest and framing hold;
 * its chain head cannot be checked, the frame is gone). A damaged file named so proves nothing and is left to load.
 * The gateway's start and the offline commands (`egress snapshot`, `egress compact`: offline.ts) refuse alike.
 */
export function refuseSnapshotBeyondLog(wal: { readonly lastLsn: number }, store: SnapshotStore): void {
  for (const candidate of store.candidates()) {
    if (candidate.lsn <= wal.lastLsn) return
    try {
      store.read(candidate)
    } catch {
      continue
    }
    throw new RestoreError(
      'LOG_BEHIND_SNAPSHOT',
      `snapshot ${candidate.file} is intact and at LSN ${candidate.lsn}, the log ends at ${wal.lastLsn}: records that were durable are missing ` +
        '(a lost or renamed segment, a log restored from an older copy; under wal.durability "none", a power loss alone, since nothing was synced); ' +
        'restore the missing segments, or move the snapshot aside if it is not of this log or the loss is accepted',
    )
  }
}
