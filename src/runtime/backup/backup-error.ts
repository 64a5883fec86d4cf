/**
 * Why `egress backup` failed, as a stable code (the CLI prints `CODE: message` and, on stdout, a JSON object naming
 * it). Whatever the code, nothing is left at the output directory: the copy is built beside it and removed on failure.
 */

export type BackupErrorCode =
  /** --out names something that is not an empty directory, or whose parent is missing: nothing was written. */
  | 'BACKUP_OUT_NOT_EMPTY'
  | 'BACKUP_OUT_UNUSABLE'
  /** The source answered 401: the replication token (EGRESS_REPLICATION_TOKEN) is not the nodes'. */
  | 'BACKUP_AUTH_REFUSED'
  /** The source is not the leader and names none, or refused this build (STANDBY_TOO_OLD), or answered otherwise. */
  | 'BACKUP_SOURCE_REFUSED'
  /** The source could not be reached, stopped answering, or ended the stream before the backup's end. */
  | 'BACKUP_SOURCE_FAILED'
  /** The leader no longer holds the records asked for (compacted below them, no snapshot at or before the end). */
  | 'BACKUP_RANGE_UNAVAILABLE'
  /**
   * The leader compacted its log past the backup's snapshot while the backup ran, again after one fresh start
   * (take-backup.ts): nothing is corrupt; run it again, or with the leader's compaction paused.
   */
  | 'BACKUP_SOURCE_COMPACTING'
  /** --to-lsn is beyond the leader's log end, or the leader's log is empty. */
  | 'BACKUP_TO_LSN_BEYOND_LOG'
  /** The leader's snapshot failed its checks (digest, framing, chain head) or exceeds the bound. */
  | 'BACKUP_SNAPSHOT_INVALID'
  /** A received frame failed its CRC, LSN, epoch or chain check (Wal.appendFrames): nothing of it was kept. */
  | 'BACKUP_FRAME_REFUSED'
  /** The finished copy did not pass replay-verify's checks. */
  | 'BACKUP_VERIFY_FAILED'
  /** A local write, fsync or rename failed. */
  | 'BACKUP_WRITE_FAILED'
  /** Stopped by a signal before it was done. */
  | 'BACKUP_INTERRUPTED'

export class BackupError extends Error {
  override readonly name = 'BackupError'
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message)
  }
}
