/**
 * A standby re-syncs when the leader's stream refuses it (the Replicator hands the refusal over; HaNode runs these one
 * at a time with its other role changes):
 *
 * - DIVERGED (`resyncAfterDivergence`): this log holds records the leader does not. Find the last LSN both share
 *   (chain hashes, binary search) while the gateway still serves, then stop it, set the records beyond that LSN aside
 *   keeping the shared part (divergence.ts, diverged-prefix.ts) and follow again from there. When the search fails,
 *   nothing has changed: follow again after a backoff and let the leader be asked anew.
 * - RESYNC_REQUIRED (`resyncFromSnapshot`): the leader compacted away what this log needs next. Fetch and verify its
 *   newest snapshot while the gateway still serves, then stop it, install the snapshot with a log anchored at its LSN
 *   (snapshot-recovery.ts: the old log moved aside, all or nothing) and follow from there. A failure is reported
 *   (/health `ha.last_snapshot_recovery`, with its code) and retried after the longest replication backoff.
 *
 * Stopping (HaNode.stop waits for a re-sync): one that has not begun to change the data dir when stop() begins is
 * abandoned there — the gateway stays the node's, for stop() to close — and its backoff ends early; one that has
 * begun finishes (or rolls back) first, and starts no gateway after it. A request to the leader in flight (the
 * shared-LSN search, the snapshot fetch, the install's catch-up pull) is aborted as stop() begins (`stopSignal`,
 * stop-signal.ts): the re-sync is abandoned there, an install it interrupted rolled back, nothing reported as failed.
 *
 * The leader gone (its lease free) while a re-sync waits on it: its requests are aborted the same way (LeaderGoneError,
 * leader-gone.ts) and the node follows again from the log it has — none half-installed — for its next tick to take
 * over, rather than wait out the request's timeout (60 s for a snapshot fetch) with the pair leaderless.
 *
 * On either path a failed fsync is fatal (durable-fs.ts): the SyncFailedError is thrown on, never retried, and HaNode
 * stops for good; a restart finishes or rolls back the data dir's swap from what is on disk.
 */

import type { EpochCeiling, WalIo } from '../../../wal/index.ts'
import type { Gateway } from '../gateway.ts'
import { commonLsnWithLeader, framesBeyond, setAsideAndFollow, type SetAsideSteps } from './divergence.ts'
import { fatalFailureOf, fatalSyncs, syncFailureOf } from './durable-fs.ts'
import { fetchLeaderSnapshot, finishCommittedInstall, installLeaderSnapshot, SnapshotRecoveryError, type SnapshotRecoveryCode, type SnapshotRecoveryReport } from './snapshot-recovery.ts'
import { LeaderGoneError } from './leader-gone.ts'
import { NodeStoppingError, throwIfStopping } from './stop-signal.ts'

/**
 * The last time this standby started again from the leader's snapshot (or tried to): `ha.last_snapshot_recovery`, its
 * keys in snake_case (status-json.ts).
 */
export type SnapshotRecoveryStatus =
  | ({ state: 'recovered'; atMs: number; leaderFirstLsn: number } & SnapshotRecoveryReport)
  | { state: 'failed'; atMs: number; leaderFirstLsn: number; code: SnapshotRecoveryFailure; error: string }

/** Why a snapshot recovery failed: the install's own codes, a failed fsync (fatal), or anything else. */
export type SnapshotRecoveryFailure = SnapshotRecoveryCode | 'FSYNC_FAILED' | 'SNAPSHOT_RECOVERY_FAILED'

/** How large and slow a leader's snapshot may be, and how many snapshots the installed store keeps. */
export interface SnapshotRecoveryLimits {
  bytesMax: number
  timeoutMs: number
  keep: number
}

export const SNAPSHOT_RECOVERY_DEFAULTS: SnapshotRecoveryLimits = { bytesMax: 1024 * 1024 * 1024, timeoutMs: 60_000, keep: 3 }

/** What re-syncing needs of the node (HaNode provides it); the divergence report goes to `report`. */
export interface ResyncSteps extends SetAsideSteps {
  /** The file-system calls that replace the data dir's log and snapshots (HaNodeOptions.dataDirIo, or node:fs). */
  io: WalIo
  replicationToken: string
  replication: { backoffMsMax: number; envelopeBytesMax: number; silenceMsMax: number }
  snapshotRecovery: SnapshotRecoveryLimits
  /** The node's gateway while it is a standby; null otherwise (then there is nothing to re-sync). */
  standbyGateway(): Gateway | null
  /** The node's gateway now, whatever its role (null once stopped for a swap). */
  currentGateway(): Gateway | null
  /** `gateway` is still the node's, the node a standby, and not stopping. */
  stillFollowingWith(gateway: Gateway): boolean
  /** stop() has begun: nothing more is started or swapped. */
  stopping(): boolean
  /**
   * Carried by every request to the leader: aborted by the node's stop (NodeStoppingError, stop-signal.ts) or when the
   * leader's lease is found free (LeaderGoneError, leader-gone.ts).
   */
  stopSignal: AbortSignal
  /** The lease's current epoch: frames pulled after a snapshot install above it are refused (replicator.ts). */
  epochCeiling: EpochCeiling
  /** Sleeps `ms`, or less if stop() begins meanwhile. */
  pause(ms: number): Promise<void>
  /** Stops pulling from the leader (the node has no replicator until `startReplicator` or `follow`). */
  stopReplicator(): Promise<void>
  startReplicator(gateway: Gateway): void
  /** Stops `gateway` for a swap of the data dir; the node has none until `follow`. */
  stopGateway(gateway: Gateway): Promise<void>
  reportSnapshotRecovery(status: SnapshotRecoveryStatus): void
}

/**
 * A fork: find the last shared LSN, report what this node holds beyond it, set that aside keeping the shared part of
 * the log (or, failing that, all of it), and follow the leader again.
 */
export async function resyncAfterDivergence(leaderUrl: string, message: string, steps: ResyncSteps): Promise<void> {
  const gateway = steps.standbyGateway()
  if (gateway === null) return
  steps.log(`diverged from ${leaderUrl}: ${message}; re-syncing`)
  await steps.stopReplicator()
  const wal = gateway.engine.wal
  const { backoffMsMax, silenceMsMax } = steps.replication
  let commonLsn: number
  try {
    commonLsn = await commonLsnWithLeader(wal, { url: leaderUrl, token: steps.replicationToken, timeoutMs: silenceMsMax, stopSignal: steps.stopSignal })
  } catch (error) {
    if (error instanceof NodeStoppingError) return void steps.log(`re-sync abandoned while finding the LSN shared with ${leaderUrl}: the node is stopping`)
    if (error instanceof LeaderGoneError) {
      // Nothing has changed: follow again at once (no backoff), for the next tick to take over.
      steps.log(`re-sync abandoned while finding the LSN shared with ${leaderUrl}: its lease is free (the leader is gone); following again`)
      if (steps.stillFollowingWith(gateway)) steps.startReplicator(gateway)
      return
    }
    // Nothing has changed yet: this gateway keeps its log and follows again, so the leader (maybe another one by
    // then) is asked anew. Left as it was, the node would have no replicator until restarted.
    steps.log(`finding the LSN shared with ${leaderUrl} failed (${error instanceof Error ? error.message : String(error)}); following again`)
    await steps.pause(backoffMsMax)
    if (steps.stillFollowingWith(gateway)) steps.startReplicator(gateway)
    return
  }
  if (steps.stopping()) return void steps.log(`re-sync abandoned before setting the records after LSN ${commonLsn} aside: the node is stopping`)
  const discarded = framesBeyond(wal, commonLsn)
  await steps.stopGateway(gateway)
  await setAsideAndFollow(commonLsn, discarded, steps)
}

/**
 * The leader compacted away what this log needs next: fetch and verify its newest snapshot while this standby keeps
 * serving, then stop the gateway, install the snapshot with a log anchored at its LSN and follow from there. A failure
 * is reported and retried after the longest replication backoff; but a failed fsync (FSYNC_FAILED) is fatal: it is
 * thrown on (HaNode stops), and a restart finishes or rolls back the install.
 */
export async function resyncFromSnapshot(leaderUrl: string, message: string, leaderFirstLsn: number, steps: ResyncSteps): Promise<void> {
  const gateway = steps.standbyGateway()
  if (gateway === null) return
  steps.log(`leader ${leaderUrl} compacted below this log (${message}); recovering from its snapshot`)
  await steps.stopReplicator()
  const setup = steps.snapshotRecovery
  const access = { leaderUrl, token: steps.replicationToken, timeoutMs: setup.timeoutMs, stopSignal: steps.stopSignal, epochCeiling: steps.epochCeiling }
  const previousLastLsn = gateway.engine.wal.lastLsn
  try {
    const snapshot = await fetchLeaderSnapshot({ ...access, bytesMax: setup.bytesMax })
    if (steps.stopping()) return void steps.log(`snapshot recovery abandoned before the install: the node is stopping`)
    throwIfStopping(steps.stopSignal) // the leader gone meanwhile: no install (its pull would be refused at once)
    await steps.stopGateway(gateway)
    const report = await installLeaderSnapshot(steps.dataDir, snapshot, {
      ...access, envelopeBytesMax: steps.replication.envelopeBytesMax, keep: setup.keep, previousLastLsn, io: steps.io,
    })
    const recovered: SnapshotRecoveryStatus = { state: 'recovered', atMs: Date.now(), leaderFirstLsn, ...report }
    steps.reportSnapshotRecovery(recovered)
    steps.log(`snapshot recovery: ${JSON.stringify(recovered)}`)
  } catch (error) {
    // The node began to stop with a request to the leader in flight: abandoned (an install it cut short was rolled
    // back), neither reported as failed nor retried.
    if (error instanceof NodeStoppingError) return abandonedOnStop(leaderUrl, steps)
    // The leader is gone (leader-gone.ts): abandoned as on a stop (an install cut short rolled back), neither reported
    // as failed nor retried after a backoff; the node follows again from its log below, for the next tick to take over.
    if (error instanceof LeaderGoneError) abandonedLeaderGone(leaderUrl, steps)
    else await reportFailedRecovery(error, leaderFirstLsn, steps)
  }
  const current = steps.currentGateway()
  if (current === null) {
    // An install committed before the failure is finished now (follow() would, without saying so): the status then
    // says recovered, from the snapshot the gateway restored.
    if (steps.stopping()) return
    const finished = finishCommittedInstall(steps.dataDir, fatalSyncs(steps.io))
    await steps.follow()
    const restored = steps.currentGateway()
    const snapshot = restored?.restoreReport?.snapshot
    if (finished !== null && restored !== null && snapshot !== null && snapshot !== undefined) {
      const report = { snapshotLsn: snapshot.lsn, snapshotDigest: snapshot.digest, previousLastLsn, movedTo: finished.movedTo, lastLsn: restored.engine.wal.lastLsn }
      steps.reportSnapshotRecovery({ state: 'recovered', atMs: Date.now(), leaderFirstLsn, ...report })
    }
    return
  }
  // The fetch failed before anything changed: keep this gateway and pull again (the leader may answer next time) —
  // unless the node began stopping meanwhile (a replicator started now would outlive the shutdown).
  if (steps.stillFollowingWith(current)) steps.startReplicator(current)
}

/**
 * A snapshot recovery failed: reported, then retried after a backoff; a failed fsync, or the standby's log dying as it
 * stopped, is thrown on (fatal).
 */
async function reportFailedRecovery(error: unknown, leaderFirstLsn: number, steps: ResyncSteps): Promise<void> {
  const failure = syncFailureOf(error)
  const fatal = fatalFailureOf(error)
  const code = failure?.code ?? (error instanceof SnapshotRecoveryError ? error.code : 'SNAPSHOT_RECOVERY_FAILED')
  const detail = (failure ?? fatal)?.message ?? (error instanceof Error ? error.message : String(error))
  steps.reportSnapshotRecovery({ state: 'failed', atMs: Date.now(), leaderFirstLsn, code, error: detail })
  if (fatal !== null) throw error // fatal, never retried: HaNode stops
  steps.log(`snapshot recovery failed: ${code}: ${detail}; retrying`)
  await steps.pause(steps.replication.backoffMsMax)
}

/** A snapshot recovery whose request to the leader was aborted because the leader's lease is free. */
function abandonedLeaderGone(leaderUrl: string, steps: ResyncSteps): void {
  const stage = steps.currentGateway() === null ? 'its install rolled back' : 'nothing changed'
  steps.log(`snapshot recovery abandoned: the lease of ${leaderUrl} is free (the leader is gone); its request was aborted (${stage}); following again from this log`)
}

/** A snapshot recovery whose request to the leader the node's stop aborted: what remains once it is abandoned. */
function abandonedOnStop(leaderUrl: string, steps: ResyncSteps): void {
  const stage = steps.currentGateway() === null ? 'its install rolled back' : 'nothing changed'
  steps.log(`snapshot recovery abandoned: the node is stopping; its request to ${leaderUrl} was aborted (${stage})`)
}
