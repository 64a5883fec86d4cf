/**
 * Why a data directory cannot be started from (or worked on offline) as it is: the gateway's start, `egress snapshot`
 * and `egress compact` refuse it with one of these codes, stable for operators and scripts to match on.
 *
 * - COMPACTED_NO_SNAPSHOT: the log no longer begins at LSN 1 and no snapshot passes verification.
 * - LOG_BEHIND_SNAPSHOT: an intact snapshot lies beyond the log's end; durable records are missing from the log.
 * - LOG_BEHIND_ANCHOR: the data directory's anchors file names an LSN beyond the log's end (runtime/anchors-behind.ts);
 *   durable records are missing from the log. `path` names the anchors file.
 * - LOG_TAIL_DURABLE: the log's last segment is damaged past its last whole frame, and a snapshot, the anchors file or
 *   the query model shows those records were durable (runtime/durable-witnesses.ts): not cut; `path` names the segment.
 * - BACKUP_TRUNCATED, BACKUP_HEAD_MISMATCH, BACKUP_MANIFEST_INVALID: the data directory is a backup (`egress backup`,
 *   DIR/BACKUP.json) whose log ends before the backup's end, holds another chain head there, or whose manifest cannot
 *   be read (backup/manifest.ts): a copy of the backup cut short; a single node's start refuses it. `path` names the file.
 * - SNAPSHOT_DIR_UNUSABLE: `<dataDir>/snapshots` exists but cannot be listed (a regular file there, no permission);
 *   `path` names it.
 */

export type RestoreProblemCode =
  | 'COMPACTED_NO_SNAPSHOT'
  | 'LOG_BEHIND_SNAPSHOT'
  | 'LOG_BEHIND_ANCHOR'
  | 'LOG_TAIL_DURABLE'
  | 'BACKUP_TRUNCATED'
  | 'BACKUP_HEAD_MISMATCH'
  | 'BACKUP_MANIFEST_INVALID'
  | 'SNAPSHOT_DIR_UNUSABLE'

export class RestoreError extends Error {
  override readonly name = 'RestoreError'
  /** The file or directory the problem is about, when it is one path. */
  readonly path: string | null
  constructor(
    readonly code: RestoreProblemCode,
    message: string,
    options: { path?: string } = {},
  ) {
    super(`${code}: ${message}`)
    this.path = options.path ?? null
  }
}
