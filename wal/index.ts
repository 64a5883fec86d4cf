/**
 * wal/ — the log engine: an append-only, segmented write-ahead log with CRC-checked frames, a SHA-256 hash chain,
 * group commit with fdatasync, crash recovery that truncates only a torn tail, readers and tail-followers, and a file
 * lease with fencing epochs. It knows frames, segments, LSNs, hashes and leases — nothing about orders. wal/ never
 * imports src/.
 */

export { Wal } from './log.ts'
export { type AppendWaiter, type CommitListener, type CommittedBatch, type PendingAppend } from './group-commit.ts'
export { type WalStats } from './stats.ts'
export { checkReplicatedFrames, rawFrameBytes, type EpochCeiling, type ReplicatedFrame } from './replicate.ts'
export { defaultWalOptions, leaseStillHeld, type Durability, type LeaseGuard, type WalOptions } from './options.ts'
export { copyFrame, recordProblem, type Frame, type OwnedFrame, type RecordInput, PAYLOAD_BYTES_MAX, FRAME_HEADER_BYTES, FRAME_FORMAT_VERSION } from './frame.ts'
export { FrameView, frameContinues } from './frame-check.ts'
export { GENESIS_HASH, chainHashInPlace, chainHashReference, hashesEqual, toHex, fromHex } from './chain.ts'
export { nodeIo, readFully, type FileIdentity, type WalIo } from './io.ts'
export { syncFailuresMarked, type SyncFailureContext } from './sync-failures.ts'
export { makeDirDurable } from './durable-dir.ts'
export { Lease, readCurrentLease, sameLeaseRecord, type LeaseRecord } from './lease.ts'
export { type LeaseOptions } from './lease-options.ts'
export { holderNodeIdOf, IN_SYNC_MEMBERS_MAX, NODE_ID_CHARS_MAX, NODE_ID_PATTERN, UNNAMED_STANDBY, type LeaseInSyncMember } from './lease-in-sync.ts'
export { type DataLossAccepted } from './lease-floor.ts'
export { openReadOnly, type ReadOnlyLog } from './read-only.ts'
export { LOG_LOCK_FILE, LogDirLock } from './dir-lock.ts'
export { FS_REFUSAL_MEANINGS } from './fs-refusals.ts'
export { openSlice, type LogSlice, type SliceLog } from './slice.ts'
export { copyLogPrefix, linkOrCopyFile, type LogPrefixReport, type LogPrefixOptions } from './prefix.ts'
export { type RecoveryReport } from './recover.ts'
export { lostWriteAt, SECTOR_BYTES, type LostWrite } from './lost-write.ts'
export { FRAME_SEARCH_BASE_CRC_BYTES, FrameSearchBudget, frameSearchWork, lsnCanLieAt, SEARCH_GAVE_UP, type FrameSearch } from './frame-search.ts'
export { tailTruncationNotice, TAIL_TRUNCATED_CODE } from './tail-notice.ts'
export { parseSegmentName } from './segment.ts'
export { indexPointAtOrBefore } from './catalog.ts'
export { diagnoseTail, HOLE_PAGE_BYTES, type FramesBeyond, type TailDiagnosis, type TailHole } from './tail-diagnosis.ts'
export { checkCut, checkCutLsn, quarantineFileOf, repairTail, type CutPlan, type TailRepairOptions, type TailRepairResult } from './tail-repair.ts'
export type { TailCut, TailCutGuard } from './tail-cut.ts'
export { quarantineUsage, type QuarantineUsage } from './quarantine.ts'
export {
  WalCorruptionError,
  WalSegmentUnreadableError,
  WalCompactedError,
  WalFullError,
  WalFatalError,
  DirectoryOpenError,
  NotADirectoryError,
  isSyncFailure,
  SyncFailedError,
  WalClosedError,
  WalRecordError,
  LeaseError,
  LeaseEpochUsedError,
  LeaseLogBehindError,
  LeaseNotInSyncError,
  WalReplicationError,
  LockFailedError,
  ArchiveDirIsLogDirError,
  ArchiveSegmentExistsError,
  LockFileError,
  WalLockedError,
  WalPrefixError,
  WalRepairError,
  type WalRepairCode,
  type WalPrefixCode,
  type WalReplicationCode,
  type WalCorruptionCode,
  type WalLocation,
} from './errors.ts'
export { AssertionError, assert } from './assert.ts'
