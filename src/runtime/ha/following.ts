/**
 * The follower side of an HA node (node.ts): following the leader, taking over when its lease expires, and the wiring
 * of a re-sync.
 *
 * - Standby: a replica log fed by the Replicator, projections hot, no sends, writes answered NOT_LEADER.
 * - Takeover: the lease is taken with epoch + 1 (renewal starts at once, so a long bootstrap cannot lose it), the
 *   replicator stops (everything it appended is already applied), the standby gateway is closed and the log reopened
 *   for writing at the new epoch (leading.ts `lead`). A takeover whose leader start fails follows again, and takes
 *   over at a later tick if the lease is still free then — after a wait that doubles while its starts are refused
 *   (takeover-backoff.ts), not at every tick.
 * - Re-sync (resync.ts): a standby told DIVERGED keeps the part of its log it shares with the leader and sets the
 *   rest aside (divergence.ts, diverged-prefix.ts); one told RESYNC_REQUIRED (the leader compacted away its next LSN)
 *   starts again from the leader's newest snapshot (snapshot-recovery.ts). The replicator hands either refusal over
 *   and the node runs the re-sync as a role change (`resyncSteps` is what it needs of the node).
 *
 * Each function takes the node's view (node-core.ts) and runs inside one of its role changes.
 */

import { LeaseError, nodeIo } from '../../../wal/index.ts'
import type { Gateway } from '../gateway.ts'
import { fatalFailureOf, throwIfLogDied } from './durable-fs.ts'
import { currentLeaseEpoch, leaseFree } from './lease-dir.ts'
import { takeLeaseIfGone } from './lease-watch.ts'
import type { NodeCore } from './node-core.ts'
import { Replicator } from './replicator.ts'
import { resyncAfterDivergence, resyncFromSnapshot, SNAPSHOT_RECOVERY_DEFAULTS, type ResyncSteps } from './resync.ts'
import { takeoverLagLine, takeoverLagOf } from './takeover-lag.ts'

/** Starts a standby gateway and its replicator (nothing once stop() has begun). */
export async function follow(node: NodeCore): Promise<void> {
  // stop() has begun (a re-sync waiting out its backoff, say): a gateway started now would outlive the shutdown.
  if (node.stopping) return
  node.role = 'standby'
  node.lease = null
  node.finishInterruptedSwaps()
  const gateway = await node.options.startGateway('standby', null)
  if (node.stopping) return void (await gateway.stop()) // stop() began while it started: it would outlive it
  node.gateway = gateway
  node.watchLog(gateway)
  node.options.onGateway(gateway)
  startReplicator(node, gateway)
  node.options.log(`standby from LSN ${gateway.engine.wal.lastLsn}, following ${node.leaderUrl() ?? '(no leader yet)'}`)
}

export function startReplicator(node: NodeCore, gateway: Gateway): void {
  node.replicator = new Replicator({
    wal: gateway.engine.wal,
    leaderUrl: () => node.leaderUrl(),
    token: node.options.replicationToken,
    nodeId: node.options.nodeId,
    epochCeiling: () => currentLeaseEpoch(node.options),
    ...node.options.replication,
    onDiverged: (details) => void resync(node, 're-sync after divergence', (steps) => resyncAfterDivergence(details.leaderUrl, details.message, steps)),
    onResyncRequired: (details) => void resync(node, 're-sync from the snapshot', (steps) => resyncFromSnapshot(details.leaderUrl, details.message, details.leaderFirstLsn, steps)),
    log: node.options.log,
    stopSignal: node.changes.stopSignal,
  })
  node.replicator.start()
}

export async function stopReplicator(node: NodeCore): Promise<void> {
  await node.replicator?.stop()
  node.replicator = null
}

/**
 * A standby's tick: takes the lease if it is free (expired) and its log reaches the lease record's floor
 * (takeover-guard.ts), and leads on it; if the lead fails, follows again (and waits before the next try,
 * takeover-backoff.ts). Caught up with the leader, it first checks whether such a lead would be refused
 * (takeover-would-refuse.ts).
 */
export async function takeOverIfExpired(node: NodeCore): Promise<void> {
  if (node.role !== 'standby') return
  // A live leader seen (this standby streams from it): a later failed takeover waits the least again.
  if (node.replicator?.status.connected === true) node.takeoverBackoff.reset()
  // Caught up with the leader: would a takeover's leader start on this config be refused? Said now, not at a failover.
  if (node.gateway !== null) node.takeoverWouldRefuse.check(node.gateway, node.options.leaderVenues?.() ?? null, node.replicator?.status)
  // A takeover failed lately (its start refused): the lease is left free for another node until the wait is over.
  if (!node.takeoverBackoff.ready()) return
  // Judged on this log's end (everything the replicator appended is durable before it is acknowledged or counted).
  const guard = node.guard(() => ({ lastLsn: node.gateway?.engine.wal.lastLsn ?? 0, lastEpoch: node.gateway?.engine.wal.lastEpoch ?? 0 }))
  const lease = takeLeaseIfGone(node.options, node.holderId, { watch: node.leaseWatch, trouble: node.leaseTrouble, log: node.options.log, guard })
  if (lease === null) return
  const takenAtMs = Date.now()
  node.role = 'promoting'
  node.lease = lease
  const replicator = node.replicator
  await stopReplicator(node)
  // What the old leader held beyond this log (asynchronous replication can lose acknowledged orders there): said now,
  // by the one node that knows it if the old leader never comes back (takeover-lag.ts).
  node.lastTakeoverLag = takeoverLagOf(lease.epoch, node.gateway?.engine.wal.lastLsn ?? 0, replicator?.status)
  node.options.log(takeoverLagLine(node.lastTakeoverLag))
  // A standby gateway that fails to stop leaves the node promoting on the lease, neither leader nor standby (a
  // leader's start may be refused the log it still holds): the end-of-change check stops the node (NODE_STUCK).
  // Its shutdown snapshot is skipped when the leader's start replays the log for less (snapshotter.ts).
  const standby = node.gateway
  await standby?.stop({ forTakeover: true })
  node.gateway = null
  // Its log died (a failed close or fsync): fatal, thrown for exclusive() to stop the node (the lease given up).
  if (standby !== null) throwIfLogDied(standby)
  try {
    await node.lead(lease, takenAtMs)
    node.takeoverBackoff.reset()
    node.takeoverWouldRefuse.clear()
  } catch (error) {
    if (fatalFailureOf(error) !== null) throw error // fatal: exclusive() stops the node
    // lead() gave the lease back; follow again, and take over at a later tick if the lease is still free then. A start
    // that lost its lease meanwhile tries again at the next tick; any other failed start (refused, and likely to be
    // refused the same way again) waits first, the lease left free (takeover-backoff.ts).
    const cause = error instanceof Error ? error.message : String(error)
    if (error instanceof LeaseError) node.options.log(`takeover at epoch ${lease.epoch} failed (${cause}); lease released, following again`)
    else node.options.log(node.takeoverBackoff.failed(lease.epoch, cause))
    await follow(node)
  }
}

/**
 * Runs a re-sync as a role change (after the one in progress), its requests to the leader ended by the node's stop or
 * by the node's tick finding the leader's lease free (leader-gone.ts) — at once if it is free already.
 */
function resync(node: NodeCore, name: string, work: (steps: ResyncSteps) => Promise<void>): Promise<void> {
  return node.exclusive(name, async () => {
    const signal = node.resyncAbort.begin(node.changes.stopSignal)
    if (leaseFree(node.options)) node.resyncAbort.leaderGone()
    try {
      await work(resyncSteps(node, signal))
    } finally {
      node.resyncAbort.end()
    }
  }, true)
}

/** What re-syncing (resync.ts) needs of the node; `signal` ends its requests to the leader. */
function resyncSteps(node: NodeCore, signal: AbortSignal): ResyncSteps {
  return {
    dataDir: node.options.dataDir,
    io: node.options.dataDirIo ?? nodeIo,
    replicationToken: node.options.replicationToken,
    replication: node.options.replication,
    snapshotRecovery: node.options.snapshotRecovery ?? SNAPSHOT_RECOVERY_DEFAULTS,
    log: node.options.log,
    standbyGateway: () => (node.role === 'standby' ? node.gateway : null),
    currentGateway: () => node.gateway,
    stillFollowingWith: (gateway) => node.gateway === gateway && node.role === 'standby' && !node.stopping,
    stopping: () => node.stopping,
    stopSignal: signal,
    epochCeiling: () => currentLeaseEpoch(node.options),
    pause: (ms) => node.changes.pause(ms),
    stopReplicator: () => stopReplicator(node),
    startReplicator: (gateway) => startReplicator(node, gateway),
    stopGateway: async (gateway) => {
      await gateway.stop()
      node.gateway = null
      throwIfLogDied(gateway)
    },
    follow: () => follow(node),
    report: (divergence) => {
      node.lastDivergence = divergence
      node.options.log(`divergence report: ${JSON.stringify(divergence)}`)
    },
    reportSnapshotRecovery: (status) => void (node.lastSnapshotRecovery = status),
  }
}
