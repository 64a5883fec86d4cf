/**
 * ha/ — high availability: the replication stream (the leader serves its log as raw frames, stream.ts), the standby's
 * replicator (pulls, appends with Wal.appendFrames, keeps projections hot), and the role of a node (node.ts, with its
 * leader side in leading.ts and its follower side in following.ts): take the lease or follow, fail over on lease
 * expiry, re-sync (resync.ts) after divergence keeping the log shared with the leader (diverged-prefix.ts) or from the
 * leader's snapshot (snapshot-recovery.ts); synchronous replication (sync.ts) and its alert records (records.ts);
 * command records (command-record.ts) and the standby's shadow decisions (shadow.ts); the reports as /health shows
 * them (status-json.ts).
 */

export { ENVELOPE_HEADER_BYTES, EnvelopeReader, encodeEnvelope, type Envelope } from './envelope.ts'
export { LEADER_EPOCH_HEADER, chainHashAt, replicationStream, streamRefusal, type StreamOptions, type StreamRefusal } from './stream.ts'
export { Replicator, type ReplicatorOptions, type ReplicatorStatus } from './replicator.ts'
export { HaNode, type HaNodeOptions, type NodeRole, type RoleChoice } from './node.ts'
export { haStatusCodesOnly, stableCodeOf, type HaNodeStatus, type SyncNotLeading } from './node-status.ts'
export { divergenceJson, shadowJson, snapshotRecoveryJson, type DivergenceJson, type ShadowJson, type SnapshotRecoveryJson } from './status-json.ts'
export type { SnapshotRecoveryFailure, SnapshotRecoveryStatus } from './resync.ts'
export type { DivergenceReport } from './divergence.ts'
export { syncFailureOf } from './durable-fs.ts'
export { FollowFailedError } from './follow-failed.ts'
export { NodeStuckError } from './steady-state.ts'
export { StopTimeoutError, roleChangeWaitMsMax } from './role-changes.ts'
export { LEASE_TROUBLE_REMINDER_MS, LeaseTrouble } from './lease-trouble.ts'
export { teardownBounds } from './teardown.ts'
export { NodeStoppingError } from './stop-signal.ts'
export { DATA_DIR_LOCK_FILE, lockDataDir } from './data-dir-lock.ts'
export { finishInterruptedSwaps, interruptedSwapsIn, InterruptedSwapError, refuseInterruptedSwap, type InterruptedSwap } from './interrupted-swaps.ts'
export {
  DivergedPrefixError, PrefixKeepingHalted, finishKeepingPrefix, keepCommonPrefix, type DivergedPrefixCode, type KeepPrefixOptions, type KeptPrefix,
  type PrefixStep,
} from './diverged-prefix.ts'
export { SYNC_POLICIES, SyncReplication, type SyncOutcome, type SyncPolicy, type SendVerdict, type SyncReplicationOptions, type SyncState, type SyncStatus, type SyncTransition } from './sync.ts'
export { leaderSync, type LeaderSyncOptions } from './leader-sync.ts'
export { HA_RECORD_TYPE_MIN, HA_REPLICATION_DEGRADED, HA_REPLICATION_RESTORED, syncTransitionRecord } from './records.ts'
export { KERNEL_COMMAND, CommandRecordError, decodeCommandRecord, encodeCommandRecord, isCommandRecord, type CommandRecord, type CommandRecordErrorCode } from './command-record.ts'
export { SHADOW_MISMATCHES_KEPT, ShadowDecider, firstDifference, type DecideFunction, type ShadowMismatch, type ShadowStats } from './shadow.ts'
export {
  SNAPSHOT_CONTENT_TYPE, SNAPSHOT_HEADERS, SnapshotRecoveryError, fetchLeaderSnapshot, installLeaderSnapshot, snapshotToWrite, startAnchoredLog, type LeaderAccess,
  type LeaderSnapshot, type SnapshotRecoveryCode, type SnapshotRecoveryReport,
} from './snapshot-recovery.ts'
export { PullEndedError, pullFrames, type PullOptions } from './pull-frames.ts'
export { framesThrough, type FramesThrough } from './frames-through.ts'
export { redecideLog, type RedecideReport } from './redecide.ts'
export { LOG_READS_HEADER, THIS_BUILDS_LOG_READS_TEXT, standbyRefusal, standbyRequestHeaders, thisBuildsLogReads, type LogReads } from './log-reads.ts'
