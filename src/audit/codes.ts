/**
 * What an audit can find, defined once. The log-structure codes are the log engine's own (wal/errors.ts), so the
 * verifier and the gateway's refusal to open name the same damage the same way; the rest are audit's.
 */

import type { WalCorruptionCode } from '../../wal/index.ts'

export const AUDIT_PROBLEM_CODES = [
  'LOG_MISSING', // no segment files in the directory
  'SEAL_MALFORMED', // a seal record whose payload or JWS does not parse
  'SEAL_SIGNATURE_INVALID', // the JWS does not verify with the given key(s), or its kid is unknown
  'SEAL_HEAD_MISMATCH', // the signed chain head differs from the chain head the log has at that LSN
  'SEAL_LSN_INVALID', // the seal claims an LSN at or after its own record, or one the verifier cannot place
  'SEAL_SEQUENCE_BROKEN', // prevSealLsn does not name the previous seal record (a seal was removed or reordered)
  'SEAL_EPOCH_MISMATCH', // the signed epoch differs from the epoch of the frame that carries the seal
  'ANCHOR_MISMATCH', // an external anchor's chain head differs from the log's at that LSN
  'ANCHOR_BEYOND_END', // an external anchor names an LSN the log does not reach (truncated, or an older copy)
  'ANCHOR_SEAL_INVALID', // an anchor carries a seal that does not verify or does not match the anchor
  'ANCHORS_ALL_BEFORE_LOG', // anchors were given and every one names an LSN before the log's first: none vouches for it
  // A snapshot's seal (DIR/snapshots/snapshot-N.snap.seal, src/audit/snapshot-seal.ts), when verify is given the snapshots:
  'SNAPSHOT_SEAL_INVALID', // the seal file or its JWS does not parse, or its signature does not verify with the given key(s)
  'SNAPSHOT_SEAL_MISMATCH', // the sealed snapshot file is not the one signed (state edited, digest recomputed) or not intact
  'SNAPSHOT_SEAL_HEAD_MISMATCH', // the signed chain head differs from the log's at that LSN (a compacted log's base forged)
  // A backup's own record of where it ends (DIR/BACKUP.json, src/runtime/backup/manifest.ts) against its log:
  'BACKUP_TRUNCATED', // the log ends before the backup's end (a copy of the backup cut short)
  'BACKUP_HEAD_MISMATCH', // the log's chain head at the backup's end is not the one the backup recorded
  'BACKUP_MANIFEST_INVALID', // BACKUP.json is not a manifest egress wrote: where the backup ends cannot be checked
] as const

export type AuditOnlyCode = (typeof AUDIT_PROBLEM_CODES)[number]
export type AuditProblemCode = WalCorruptionCode | AuditOnlyCode

/** One problem, located so an operator can go straight to it. `offsetBytes` is within `file`. */
export interface AuditProblem {
  code: AuditProblemCode
  file: string
  offsetBytes: number
  lsn: number
  detail: string
}

export function describeProblem(problem: AuditProblem): string {
  return `${problem.code} at ${problem.file} offset ${problem.offsetBytes} (LSN ${problem.lsn}): ${problem.detail}`
}
