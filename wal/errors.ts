/**
 * Typed errors of the log engine. Every refusal names where it happened (file, byte offset, LSN) so an operator can
 * go straight to the damage. Codes are stable strings; messages are for humans.
 */

export type WalCorruptionCode =
  | 'FRAME_CORRUPT' // a bad frame with valid frames after it: not a torn tail
  | 'SEGMENT_HEADER_CORRUPT'
  | 'SEGMENT_MISSING' // an LSN gap between segments
  | 'SEGMENT_TRAILING_BYTES' // a sealed (non-last) segment ends mid-frame
  | 'LSN_GAP' // a frame's LSN is not the previous one plus one
  | 'CHAIN_BREAK' // a frame's hash does not follow from its predecessor
  | 'EPOCH_REGRESSION' // a frame's epoch is lower than one already in the log
  | 'LOG_EMPTY_WITH_SEGMENTS'
  | 'APPEND_SPLIT' // the log ends inside an append begun in an earlier segment (writers roll only between appends)

export interface WalLocation {
  file: string
  offsetBytes: number
  lsn: number
}

/** The log is damaged in a way that must not be skipped or guessed around: refuse to open. */
export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError'
  readonly code: WalCorruptionCode
  readonly location: WalLocation

  constructor(code: WalCorruptionCode, location: WalLocation, detail: string) {
    super(`${code} at ${location.file} offset ${location.offsetBytes} (LSN ${location.lsn}): ${detail}`)
    this.code = code
    this.location = location
  }
}

/**
 * A segment file could not be read while the log was opened or verified (EIO from a bad sector, EACCES, EISDIR for a
 * directory under a segment's name): not damage the log can judge, but the open refuses all the same, naming the file —
 * node's own message names no file for a failed read.
 */
export class WalSegmentUnreadableError extends Error {
  override readonly name = 'WalSegmentUnreadableError'
  readonly code = 'SEGMENT_UNREADABLE'
  readonly file: string

  constructor(file: string, cause: unknown) {
    super(`SEGMENT_UNREADABLE: ${file} cannot be read (${cause instanceof Error ? cause.message : String(cause)}); the log refuses to open without it`, { cause })
    this.file = file
  }
}

/**
 * A reader of the writable log (Wal.read) was left behind by a compaction: the segment holding the next LSN it was to
 * yield was removed while it was paused between frames. It ended quietly there, as if the log did, and its caller took
 * the frames it had for all there were; now it says so. `lsn` is the first LSN not read, `firstLsn` where the log now
 * begins: the caller starts over from a snapshot or asks for a resync, never reads on across the gap.
 */
export class WalCompactedError extends Error {
  override readonly name = 'WalCompactedError'
  readonly code = 'LOG_COMPACTED'

  constructor(
    readonly lsn: number,
    readonly firstLsn: number,
  ) {
    super(`LOG_COMPACTED: LSN ${lsn} was removed by a compaction while it was being read; the log now begins at LSN ${firstLsn}`)
  }
}

/** The append queue is at its bound: the caller must shed load; nothing was written. */
export class WalFullError extends Error {
  override readonly name = 'WalFullError'
  readonly code = 'WAL_QUEUE_FULL'
}

/** A write or fsync failed (EIO, ENOSPC, ...). The writer is dead; the process must exit and recover by reopening. */
export class WalFatalError extends Error {
  override readonly name = 'WalFatalError'
  readonly code = 'WAL_FATAL'
}

/**
 * An fsync (of a file or a directory) failed: what reached the disk is unknown, and a second fsync proves nothing (the
 * kernel may drop the dirty state and report success the next time). Fatal to whoever owns what was synced, never
 * retried (DESIGN §3): the log dies of it (its own batch, a compaction: Wal.removeSegmentsBelow, a snapshot:
 * Snapshotter), as does an HA node swapping a data dir's log (src/runtime/ha/durable-fs.ts). One class with the stable
 * code FSYNC_FAILED for all of them; `target` names what was synced, `during` what was being done, `then` what follows.
 */
export class SyncFailedError extends Error {
  override readonly name = 'SyncFailedError'
  readonly code = 'FSYNC_FAILED'
  readonly target: string
  /** What was being done (`while compacting`), as given; null when not said. */
  readonly during: string | null

  constructor(target: string, cause: unknown, context: { during?: string; then?: string } = {}) {
    const during = context.during === undefined ? '' : ` ${context.during}`
    const then = context.then === undefined ? '' : `; ${context.then}`
    super(`FSYNC_FAILED: fsync of ${target} failed${during} (${cause instanceof Error ? cause.message : String(cause)})${then}`, { cause })
    this.target = target
    this.during = context.during ?? null
  }
}

/**
 * A directory could not be opened to fsync it (EMFILE or ENFILE: too many open files; EACCES; ENOENT), so no fsync
 * was attempted: nothing is known to be lost, unlike a failed fsync (SyncFailedError), and a later fsync of the same
 * directory is not a retry of a failed one. What the caller was doing has failed all the same: the entries it created,
 * renamed or removed there are not known to be durable. A snapshot or a compaction fails with it and the log goes on;
 * the log's own segment creation dies of it like of any failed write (the batch is never acknowledged).
 */
export class DirectoryOpenError extends Error {
  override readonly name = 'DirectoryOpenError'
  readonly code = 'DIRECTORY_OPEN_FAILED'
  readonly path: string

  constructor(path: string, cause: unknown) {
    const said = cause instanceof Error ? cause.message : String(cause)
    super(`DIRECTORY_OPEN_FAILED: ${path} could not be opened to fsync it (${said}); no fsync was attempted`, { cause })
    this.path = path
  }
}

/**
 * Whether `error` is a failed fsync by its stable code (FSYNC_FAILED: SyncFailedError), itself or as a cause
 * (through at most 8): such a failure is fatal.
 */
export function isSyncFailure(error: unknown): boolean {
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 8; at = at.cause, depth++) {
    if ((at as { code?: unknown }).code === 'FSYNC_FAILED') return true
  }
  return false
}

/** A directory the log or the lease needs cannot be made: `path`, or a directory above it, is a file. */
export class NotADirectoryError extends Error {
  override readonly name = 'NotADirectoryError'
  readonly code = 'NOT_A_DIRECTORY'
  readonly path: string

  constructor(path: string, cause: unknown) {
    super(`NOT_A_DIRECTORY: ${path}, or a directory above it, exists and is not a directory; give a directory (or a path that does not exist yet)`, { cause })
    this.path = path
  }
}

/** The log is closed or was opened read-only. */
export class WalClosedError extends Error {
  override readonly name = 'WalClosedError'
  readonly code = 'WAL_CLOSED'
}

/** A record is malformed (too large, bad type or version): refused before anything is written. */
export class WalRecordError extends Error {
  override readonly name = 'WalRecordError'
  readonly code = 'WAL_RECORD_INVALID'
}

export type LeaseErrorCode = 'LEASE_HELD' | 'LEASE_LOST' | 'LEASE_RACE_LOST' | 'LEASE_FILE_INVALID' | 'LEASE_LOG_BEHIND' | 'LEASE_NOT_IN_SYNC'

/** The lease could not be acquired, or is no longer held (a newer epoch exists or it expired). */
export class LeaseError extends Error {
  override readonly name = 'LeaseError'
  readonly code: LeaseErrorCode

  constructor(code: LeaseErrorCode, message: string) {
    super(`${code}: ${message}`)
    this.code = code
  }
}

/**
 * LEASE_LOST at a writable open (Wal.open): the log already holds frames of the writer's own lease epoch. A lease is
 * taken once per epoch and its holder opens the log once, so another holder wrote at that epoch: its epoch file was
 * lost (a lease directory emptied by hand, a damaged disk) and the epoch linked again. That holder reads the new file
 * as its own until its next renewal, so leading here made two leaders of one epoch. The lease is still held, but no
 * writer may lead at it: the taker gives it up and takes the next epoch, which fences the other holder at its next
 * write (wal/lease.ts).
 */
export class LeaseEpochUsedError extends LeaseError {
  constructor(readonly epoch: number) {
    super('LEASE_LOST', `the log already holds frames of epoch ${epoch}, this lease's epoch: another holder wrote at it (its epoch file was lost and the epoch taken again); give the lease up and take a higher epoch`)
  }
}

/**
 * LEASE_LOG_BEHIND: the taker's log ends below the LSN the current lease record says a standby of its holder held
 * durably (wal/lease.ts `replicatedLsn`): taking over would lose what that copy holds, acknowledged orders among it.
 */
export class LeaseLogBehindError extends LeaseError {
  constructor(
    readonly record: { holderId: string; epoch: number; replicatedLsn: number },
    readonly logEndLsn: number,
  ) {
    super(
      'LEASE_LOG_BEHIND',
      `this log ends at LSN ${logEndLsn}, below LSN ${record.replicatedLsn}, which a standby of ${record.holderId} (lease epoch ${record.epoch}) held durably: ` +
        'taking the lease would lose the records between them (acknowledged orders among them); not taken',
    )
  }
}

/**
 * LEASE_NOT_IN_SYNC: the current lease record names the nodes whose acknowledgements its holder waited for (wal/lease.ts
 * `inSync`), and the taker is neither one of them nor the holder: its log may end anywhere below what was acknowledged
 * (a second, lagging standby; a node started from an old copy), so taking over could lose acknowledged orders.
 */
export class LeaseNotInSyncError extends LeaseError {
  constructor(
    readonly record: { holderId: string; epoch: number; replicatedLsn: number; inSync: readonly string[] },
    readonly nodeId: string,
    /** Where the taker's log ends, when it said (informational: membership is refused first). */
    readonly logEndLsn: number | null,
  ) {
    super(
      'LEASE_NOT_IN_SYNC',
      `node ${JSON.stringify(nodeId)} is not in the in-sync set of ${record.holderId} (lease epoch ${record.epoch}: ${record.inSync.map((id) => JSON.stringify(id)).join(', ') || 'none'}): ` +
        'its log may lack records that were acknowledged (acknowledged orders among them); not taken',
    )
  }
}

export type WalReplicationCode = 'FRAME_CORRUPT' | 'LSN_GAP' | 'EPOCH_REGRESSION' | 'EPOCH_AHEAD' | 'CHAIN_BREAK' | 'NOT_A_REPLICA'

/**
 * Replicated frames were refused before anything was written: a frame fails its CRC, does not follow the log's last
 * LSN, carries an epoch lower than one already in the log or higher than any lease has had (EPOCH_AHEAD: no lease
 * holder wrote it), or does not chain from the log's head (a fork).
 */
export class WalReplicationError extends Error {
  override readonly name = 'WalReplicationError'
  readonly code: WalReplicationCode
  /** The LSN the log expected next when the frame was refused. */
  readonly expectedLsn: number

  constructor(code: WalReplicationCode, expectedLsn: number, detail: string) {
    super(`${code} (expected LSN ${expectedLsn}): ${detail}`)
    this.code = code
    this.expectedLsn = expectedLsn
  }
}

export type WalPrefixCode =
  | 'PREFIX_NOT_HELD' // the source log does not hold the prefix's last LSN (0, below its first LSN or beyond its end)
  | 'TARGET_NOT_EMPTY' // a prefix is built only in an empty (or absent) directory
  | 'COPY_MISMATCH' // the copied segment read back is not what was read from the source (size, header, end, hash)

/** A log prefix could not be built (prefix.ts); nothing in the source log was changed. */
export class WalPrefixError extends Error {
  override readonly name = 'WalPrefixError'
  readonly code: WalPrefixCode

  constructor(code: WalPrefixCode, message: string) {
    super(`${code}: ${message}`)
    this.code = code
  }
}

/**
 * Another open log holds the directory: a second writer (another `egress serve` on the same data directory, or one
 * still stopping) would interleave its frames with the first's and corrupt the log. Nothing was read or written.
 */
export class WalLockedError extends Error {
  override readonly name = 'WalLockedError'
  readonly code = 'LOG_LOCKED'
}

/**
 * A lock file (a log's LOCK, a data dir's DATA_DIR_LOCK) cannot be opened or written as a file: a directory, a file
 * without write permission, a dangling link into a missing directory, or a place that takes no writes (a read-only or
 * full file system). The lock is not taken, so the log is neither read nor written; the operator removes or fixes the
 * path the message names, or the place, as the message says.
 */
export class LockFileError extends Error {
  override readonly name = 'LockFileError'
  readonly code = 'LOCK_FILE_UNUSABLE'
}

/**
 * flock(2) on a lock file failed for another reason than another holder (ENOLCK: a file system without lock support,
 * such as NFS mounted without it): the directory cannot be guarded against a second writer, so it is not opened.
 */
export class LockFailedError extends Error {
  override readonly name = 'LockFailedError'
  readonly code = 'LOCK_FAILED'
}

export type WalRepairCode =
  | 'NOTHING_TO_REPAIR' // the log opens: there is no hole to cut (a plain torn tail is truncated by the open itself)
  | 'NOT_A_TORN_TAIL' // the damage is of another kind (chain break, header, LSN gap, ...): needs a human
  | 'NOT_IN_LAST_SEGMENT' // a bad frame with valid frames after it in a sealed segment: never a tail
  | 'NO_ZERO_PAGE' // the bad stretch holds no zero-filled page: a bit flip or an edit, not a lost write
  | 'LSN_MISMATCH' // the LSN the operator gave is not the first LSN the cut removes
  | 'SNAPSHOT_BEYOND_CUT' // a snapshot names an LSN the cut would remove: those frames were durable
  | 'QUERY_MODEL_BEYOND_CUT' // the back office's query model holds an LSN the cut would remove: durable too
  | 'ANCHOR_BEYOND_CUT' // the data dir's anchors file names an LSN the cut would remove: durable too
  | 'BACKUP_BEYOND_CUT' // the data dir is a backup (BACKUP.json) ending past an LSN the cut would remove: durable too
  | 'QUARANTINE_EXISTS' // the side file for the cut bytes exists already: never overwritten
  | 'QUARANTINE_FAILED' // an open could not set a torn tail's bytes aside (tail-cut.ts): nothing was cut
  | 'REPAIR_UNVERIFIED' // after the cut the log still did not open and verify (nothing more was done)

/**
 * An operator's tail repair (tail-repair.ts) was refused or could not be confirmed. Before any refusal nothing was
 * written; REPAIR_UNVERIFIED says what was done (the cut bytes are in the quarantine file either way).
 */
export class WalRepairError extends Error {
  override readonly name = 'WalRepairError'
  readonly code: WalRepairCode

  constructor(code: WalRepairCode, message: string) {
    super(`${code}: ${message}`)
    this.code = code
  }
}

/**
 * Compaction would archive a segment under a name the archive directory already holds with other bytes: another log's
 * segment of that first LSN (a data dir started afresh, a second gateway sharing the archive directory). The rename
 * replaced it without a word, and that log's archived history was gone. Nothing is overwritten; the segment stays in
 * the log.
 */
export class ArchiveSegmentExistsError extends Error {
  override readonly name = 'ArchiveSegmentExistsError'
  readonly code = 'ARCHIVE_SEGMENT_EXISTS'

  constructor(readonly target: string, source: string) {
    super(`ARCHIVE_SEGMENT_EXISTS: ${target} exists and holds other bytes than ${source} (another log's segment of that name, archived there before); nothing overwritten, the segment stays in the log: give each log its own archive directory (--archive, snapshots.archiveDir) or move that file aside`)
  }
}

/** Compaction was given the log's own directory (by its path or a link) to archive into: nothing is removed. */
export class ArchiveDirIsLogDirError extends Error {
  override readonly name = 'ArchiveDirIsLogDirError'
  readonly code = 'ARCHIVE_DIR_IS_LOG_DIR'

  constructor(readonly archiveDir: string) {
    super(`ARCHIVE_DIR_IS_LOG_DIR: the archive directory ${archiveDir} is the log directory; give one of its own (--archive, snapshots.archiveDir); nothing removed`)
  }
}
