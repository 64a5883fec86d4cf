/**
 * The HA role of one node. `auto` tries to take the lease and leads if it wins, else follows; `standby` starts by
 * following; `leader` waits for the lease and never follows. Every node that follows takes over when the lease expires.
 *
 * - Leader: holds the lease (renewed every ttl/3), writes the log, runs intake and the executor, serves replication.
 *   A renewal that finds the lease lost (a newer epoch exists: a SIGSTOPped leader woken after a takeover) steps down
 *   at once: the gateway is stopped (its log already refuses to acknowledge, its executor refuses to call a venue) and
 *   the node restarts as a standby, where divergence detection deals with anything it wrote but never acknowledged.
 * - Standby: a replica log fed by the Replicator, projections hot, no sends, writes answered NOT_LEADER.
 * - Takeover: the lease is taken with epoch + 1 (renewal starts at once, so a long bootstrap cannot lose it), the
 *   replicator stops (everything it appended is already applied), the standby gateway is closed and the log reopened
 *   for writing at the new epoch; Gateway.start then runs bootstrap (in-flight → Unknown → reconcile → resend) and
 *   only then does the node report itself leader and open intake.
 * - Re-sync (resync.ts): a standby told DIVERGED keeps the part of its log it shares with the leader and sets the
 *   rest aside (divergence.ts, diverged-prefix.ts); one told RESYNC_REQUIRED (the leader compacted away its next LSN)
 *   starts again from the leader's newest snapshot (snapshot-recovery.ts). /health reports how either went.
 * - Failure: an fsync that fails while a log is set aside, or a snapshot installed, is fatal (durable-fs.ts): the
 *   node stops for good (role `failed`, /health `ha.failure`) and `died` resolves, so the process exits; a restart
 *   finishes or rolls back the data dir's swap from what is on disk. So does a role change that leaves the node in
 *   none of its steady states — leading, following, stopped (steady-state.ts) — rather than stay up neither
 *   following nor leading: FOLLOW_FAILED for a standby that could not follow again, NODE_STUCK otherwise.
 * - Synchronous replication (optional, sync.ts): each leadership term has its own SyncReplication, fed by the
 *   standby's acknowledgements; under `degrade_async` its transitions are recorded in the log (records.ts).
 *
 * Role changes (start-up, takeover, step-down, re-sync) run one at a time (role-changes.ts). stop() aborts every
 * request to the leader in flight (stop-signal.ts) and waits for the change in progress, within a bound
 * (StopTimeoutError past it): once it resolves, nothing of the node runs or touches the data dir. A re-sync not yet
 * changing the data dir when stop() begins, or waiting on the leader, is abandoned (an install cut short in its
 * catch-up pull is rolled back); one changing it otherwise finishes first.
 *
 * The lease holder id carries the node's advertised URL, so every node can name the leader.
 */

import { LeaseError, nodeIo, type Lease } from '../../../wal/index.ts'
import type { Engine } from '../engine.ts'
import type { Gateway } from '../gateway.ts'
import type { DivergenceReport } from './divergence.ts'
import { syncFailureOf } from './durable-fs.ts'
import { FollowFailedError } from './follow-failed.ts'
import type { HaNodeOptions, NodeRole, RoleChoice } from './node-options.ts'
import { nodeStatusOf, type HaNodeStatus } from './node-status.ts'
import { finishInterruptedSwaps } from './interrupted-swaps.ts'
import { acquireIfFree, currentLeaseEpoch, leaderUrlIn } from './lease-dir.ts'
import { Replicator } from './replicator.ts'
import { leaderSync } from './leader-sync.ts'
import { resyncAfterDivergence, resyncFromSnapshot, SNAPSHOT_RECOVERY_DEFAULTS, type ResyncSteps, type SnapshotRecoveryStatus } from './resync.ts'
import { RoleChanges, roleChangeWaitMsMax, StopTimeoutError } from './role-changes.ts'
import { NodeStuckError, unsteadyStateOf } from './steady-state.ts'
import type { SyncReplication } from './sync.ts'
import { abandonNode, type NodeParts, tearDownNodeWithin } from './teardown.ts'

export type { HaNodeOptions, NodeRole, RoleChoice }

export class HaNode {
  role: NodeRole = 'starting'
  gateway: Gateway | null = null
  lease: Lease | null = null
  lastDivergence: DivergenceReport | null = null
  lastSnapshotRecovery: SnapshotRecoveryStatus | null = null
  /** Lease taken → intake open, of the last takeover. */
  lastTakeoverMs: number | null = null
  /** This leadership term's synchronous replication (null while not leading). */
  sync: SyncReplication | null = null
  /** What stopped this node for good (role `failed`): a failed fsync (SyncFailedError), FOLLOW_FAILED or NODE_STUCK. */
  failure: Error | null = null
  private readonly death = Promise.withResolvers<Error>()
  /** Resolves with the failure when the node stops for good: the process should exit (a restart recovers). */
  readonly died: Promise<Error> = this.death.promise
  private readonly options: HaNodeOptions
  private replicator: Replicator | null = null
  private timer: ReturnType<typeof setInterval> | null = null
  private readonly changes = new RoleChanges()
  /** stop() has begun: the timer only renews a leader's lease from here on. */
  private stopping = false

  constructor(options: HaNodeOptions) {
    this.options = options
  }

  get holderId(): string {
    return `${this.options.nodeId} ${this.options.advertiseUrl}`
  }

  isLeader(): boolean {
    return this.role === 'leader' && this.lease !== null && this.lease.isHeld()
  }

  /**
   * The gate's `ha_leader` fact: leading, or taking the lead (`promoting`, lease held), when bootstrap sends what was
   * never sent (as isLeader(), the gate blocked those places for good: 202'd orders ended Rejected). Still fenced: a
   * call follows its send record, durable at the lease's epoch.
   */
  mayCallVenues(): boolean {
    return (this.role === 'leader' || this.role === 'promoting') && this.lease !== null && this.lease.isHeld()
  }

  /** The leader's URL as the current lease names it (null if none, or if the lease has expired). */
  leaderUrl(): string | null {
    return leaderUrlIn(this.options)
  }

  status(): HaNodeStatus {
    const { nodeId, advertiseUrl, sync } = this.options
    return nodeStatusOf(this, { nodeId, advertiseUrl, syncPolicy: sync?.policy ?? 'off', leaderUrl: this.leaderUrl(), replication: this.replicator?.status })
  }

  /** Starts leading or following (a role change itself: stop() waits for it); throws if neither could start. */
  start(): Promise<void> {
    return this.changes.run('start-up', async () => {
      this.finishInterruptedSwaps('at start-up')
      // The timer runs before the first gateway starts: a leader's start (replay, bootstrap reading open orders back)
      // may take longer than the lease lives, and a lease not renewed meanwhile was taken by the standby (LEASE_LOST
      // as the log opened, or a step-down right after). Its takeover ticks do nothing while this change runs.
      this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.options.leaseTtlMs / 4)))
      try {
        const lease = this.options.role === 'standby' ? null : acquireIfFree(this.options, this.holderId)
        if (lease !== null) await this.lead(lease, null)
        else if (this.options.role === 'leader') await this.waitToLead()
        else await this.follow()
        await this.failIfUnsteady('start-up', null)
      } catch (error) {
        this.parts.clearTimer()
        throw error
      }
      if (this.stopping || this.role === 'failed') this.parts.clearTimer() // no timer to outlive the stop, nothing left to renew
    })
  }

  /**
   * Aborts the requests to the leader in flight, waits for a role change in progress to finish or be abandoned (within
   * roleChangeWaitMsMax), then takes the node apart (teardown.ts: every step, even when one throws; within the same
   * bound again) and rejects with the first step's error, if any. Past either bound it releases the lease first and
   * rejects with StopTimeoutError (the process should exit then).
   */
  async stop(): Promise<void> {
    this.stopping = true
    this.changes.close() // aborts the node's stop signal: a change waiting on the leader ends now
    const waitMsMax = roleChangeWaitMsMax(this.options)
    const stillRunning = await this.changes.settled(waitMsMax)
    if (stillRunning !== null) {
      this.role = 'stopped'
      abandonNode(this.parts, this.options.log)
      throw new StopTimeoutError(stillRunning, waitMsMax)
    }
    let failures: unknown[]
    try {
      failures = await tearDownNodeWithin(this.parts, this.options.log, waitMsMax)
    } finally {
      this.role = 'stopped'
    }
    if (failures.length > 0) throw failures[0]
  }

  /** What stop() takes apart (teardown.ts). */
  private readonly parts: NodeParts = {
    stopReplicator: () => this.stopReplicator(),
    closeSync: () => this.sync?.close(),
    stopGateway: () => this.gateway?.stop(),
    clearTimer: () => {
      if (this.timer !== null) clearInterval(this.timer)
      this.timer = null
    },
    releaseLease: () => this.lease?.release(),
  }

  /**
   * Finishes or drops a swap of `log/` left by a crash (at start-up) or by a failure part way in this process (an EIO
   * after the old log went aside), before every gateway start (interrupted-swaps.ts); throws if it cannot.
   */
  private finishInterruptedSwaps(when = 'before starting the gateway'): void {
    finishInterruptedSwaps(this.options.dataDir, this.options.log, when, this.options.dataDirIo ?? nodeIo)
  }

  private async waitToLead(): Promise<void> {
    while (!this.stopping) {
      const lease = acquireIfFree(this.options, this.holderId)
      if (lease !== null) return this.lead(lease, null)
      await this.changes.pause(Math.max(50, Math.floor(this.options.leaseTtlMs / 4)))
    }
  }

  /** Opens the log for writing at the lease's epoch, bootstraps, and only then reports leader. */
  private async lead(lease: Lease, takenAtMs: number | null): Promise<void> {
    // A takeover resumed after stop() began (it awaited its standby's stop) starts no leader: it would call venues.
    if (this.stopping) return this.giveUp(lease)
    this.lease = lease
    this.role = 'promoting'
    this.options.log(`lease epoch ${lease.epoch} taken; bootstrapping as leader`)
    // The term's replication and its send gate exist before bootstrap starts the executor: resends are gated too.
    const term: { sync: SyncReplication | null } = { sync: null }
    const beforeBootstrap = (engine: Engine): void => {
      const sync = this.newSync(engine, () => this.sync === sync && (this.role === 'leader' || this.role === 'promoting'))
      term.sync = sync
      this.sync = sync
    }
    let gateway: Gateway | null = null
    try {
      this.finishInterruptedSwaps()
      gateway = await this.options.startGateway('leader', lease, beforeBootstrap)
      if (!this.stopping) {
        this.gateway = gateway
        this.watchLog(gateway)
        // A startGateway that did not call beforeBootstrap still gets its gate (from here on).
        if (term.sync === null) beforeBootstrap(gateway.engine)
        this.role = 'leader'
        this.options.onGateway(gateway)
      }
    } catch (error) {
      if (term.sync !== null && this.sync === term.sync) {
        term.sync.close()
        this.sync = null
      }
      // A node that does not lead must not hold the lease: kept, every tick would renew it and no other node could
      // ever take over. Giving it up also fences whatever the start got to (a log opened at this epoch, an executor
      // started): both re-check the lease before acknowledging or calling a venue.
      this.giveUp(lease)
      // The HTTP layer could not take the started gateway (onGateway threw): stopped, as a start that failed, rather
      // than left running unseen (its executor too) while the node follows again.
      if (gateway !== null) {
        if (this.gateway === gateway) this.gateway = null
        await gateway.stop().catch((stopError: unknown) => this.options.log(`stopping a leader gateway not taken by the HTTP layer: ${String(stopError)}`))
      }
      throw error
    }
    if (this.stopping) {
      // stop() began while it started (it gives the lease up once this change ends): a leader now would outlive it.
      term.sync?.close()
      if (this.sync === term.sync) this.sync = null
      await gateway.stop()
      this.role = 'stopped'
      return
    }
    if (takenAtMs !== null) this.lastTakeoverMs = Date.now() - takenAtMs
    this.options.log(`leader at epoch ${lease.epoch}, log at LSN ${gateway.engine.wal.lastLsn}; bootstrap ${JSON.stringify(gateway.bootstrapReport)}`)
  }

  /** Releases `lease` and leaves the leader's path: stopped if stop() has begun, else starting (to follow again). */
  private giveUp(lease: Lease): void {
    lease.release()
    if (this.lease === lease) this.lease = null
    this.role = this.stopping ? 'stopped' : 'starting'
  }

  private newSync(engine: Engine, isCurrent: () => boolean): SyncReplication {
    const setup = this.options.sync ?? { policy: 'off', timeoutMs: 1_000, waitersMax: 1 }
    return leaderSync(engine, { ...setup, log: this.options.log, isCurrent })
  }

  private async follow(): Promise<void> {
    // stop() has begun (a re-sync waiting out its backoff, say): a gateway started now would outlive the shutdown.
    if (this.stopping) return
    this.role = 'standby'
    this.lease = null
    this.finishInterruptedSwaps()
    const gateway = await this.options.startGateway('standby', null)
    if (this.stopping) return void (await gateway.stop()) // stop() began while it started: it would outlive it
    this.gateway = gateway
    this.watchLog(gateway)
    this.options.onGateway(gateway)
    this.startReplicator(gateway)
    this.options.log(`standby from LSN ${gateway.engine.wal.lastLsn}, following ${this.leaderUrl() ?? '(no leader yet)'}`)
  }

  /**
   * The node's gateway's log died. Of a lost lease (LeaseError: a write or its acknowledgement was fenced): a step-down,
   * now rather than at the next renewal. Of anything else (a failed write or fdatasync, the engine halting it): this
   * process can neither write nor follow any more, so the node stops for good and the process exits, as `egress serve`
   * does, for a restart to recover from the log. Left alone, a leader renewed its lease for as long as the process
   * lived, answering every write with the dead log's error, and no standby could take over.
   */
  private watchLog(gateway: Gateway): void {
    const work = async (error: Error): Promise<void> => {
      if (this.gateway !== gateway || this.stopping) return
      if (!(error instanceof LeaseError)) return this.fail(error)
      this.options.log(`the log refused a write: ${error.message}; stepping down`)
      await this.stepDown()
    }
    void gateway.engine.wal.died.then((error) => this.exclusive('step-down', () => work(error), true))
  }

  private startReplicator(gateway: Gateway): void {
    this.replicator = new Replicator({
      wal: gateway.engine.wal,
      leaderUrl: () => this.leaderUrl(),
      token: this.options.replicationToken,
      epochCeiling: () => currentLeaseEpoch(this.options),
      ...this.options.replication,
      onDiverged: (details) => void this.exclusive('re-sync after divergence', () => resyncAfterDivergence(details.leaderUrl, details.message, this.resyncSteps()), true),
      onResyncRequired: (details) =>
        void this.exclusive('re-sync from the snapshot', () => resyncFromSnapshot(details.leaderUrl, details.message, details.leaderFirstLsn, this.resyncSteps()), true),
      log: this.options.log,
      stopSignal: this.changes.stopSignal,
    })
    this.replicator.start()
  }

  private async stopReplicator(): Promise<void> {
    await this.replicator?.stop()
    this.replicator = null
  }

  private async tick(): Promise<void> {
    if (this.role === 'leader' || this.role === 'promoting') {
      this.renew()
      if (!this.stopping) this.sync?.check()
      return
    }
    if (this.role === 'standby' && !this.stopping) await this.exclusive('takeover', () => this.takeOverIfExpired())
  }

  private renew(): void {
    const lease = this.lease
    if (lease === null) return
    try {
      lease.renew()
    } catch (error) {
      this.options.log(`lease epoch ${lease.epoch} lost (${error instanceof Error ? error.message : String(error)}); ${this.stopping ? 'stopping already' : 'stepping down'}`)
      if (!this.stopping) void this.exclusive('step-down', () => this.stepDown())
    }
  }

  private async takeOverIfExpired(): Promise<void> {
    if (this.role !== 'standby') return
    const lease = acquireIfFree(this.options, this.holderId)
    if (lease === null) return
    const takenAtMs = Date.now()
    this.role = 'promoting'
    this.lease = lease
    await this.stopReplicator()
    // A standby gateway that fails to stop leaves the node promoting on the lease, neither leader nor standby (a
    // leader's start may be refused the log it still holds): the end-of-change check stops the node (NODE_STUCK).
    // Its shutdown snapshot is skipped when the leader's start replays the log for less (snapshotter.ts).
    await this.gateway?.stop({ forTakeover: true })
    this.gateway = null
    try {
      await this.lead(lease, takenAtMs)
    } catch (error) {
      if (syncFailureOf(error) !== null) throw error // fatal: exclusive() stops the node
      // lead() gave the lease back; follow again, and take over at a later tick if the lease is still free then.
      this.options.log(`takeover at epoch ${lease.epoch} failed (${error instanceof Error ? error.message : String(error)}); lease released, following again`)
      await this.follow()
    }
  }

  private async stepDown(): Promise<void> {
    if (this.role !== 'leader' && this.role !== 'promoting') return
    this.role = 'stepping-down'
    const gateway = this.gateway
    this.gateway = null
    this.lease = null
    this.sync?.close()
    this.sync = null
    if (gateway !== null) {
      try {
        gateway.executor.stop()
        await gateway.stop()
      } catch (error) {
        // Following is tried all the same: a log this gateway still holds is refused to the standby (FOLLOW_FAILED).
        this.options.log(`stopping the deposed gateway: ${String(error)}`)
      }
    }
    await this.follow()
  }

  /**
   * An fsync failed (durable-fs.ts), or the node could not follow again: nothing more is done on the data dir in this
   * process. No gateway runs (none is started again), the lease is given up, and `died` resolves so the process exits;
   * a restart finishes or rolls back the swap from what is on disk (or fails the same way, for an operator to see).
   */
  private async fail(failure: Error): Promise<void> {
    if (this.failure !== null) return
    this.failure = failure
    this.role = 'failed'
    const next = syncFailureOf(failure) === null ? 'restart it once the cause is fixed' : "restart it, and it finishes or rolls back the data dir's swap from what is on disk"
    this.options.log(`fatal: ${failure.message}; the node stops: ${next}`)
    await this.stopReplicator()
    const gateway = this.gateway
    this.gateway = null
    await gateway?.stop().catch((error: unknown) => this.options.log(`stopping the gateway of a failed node: ${String(error)}`))
    this.sync?.close()
    this.sync = null
    this.lease?.release()
    this.lease = null
    this.death.resolve(failure)
  }

  /** What re-syncing (resync.ts) needs of this node. */
  private resyncSteps(): ResyncSteps {
    return {
      dataDir: this.options.dataDir,
      io: this.options.dataDirIo ?? nodeIo,
      replicationToken: this.options.replicationToken,
      replication: this.options.replication,
      snapshotRecovery: this.options.snapshotRecovery ?? SNAPSHOT_RECOVERY_DEFAULTS,
      log: this.options.log,
      standbyGateway: () => (this.role === 'standby' ? this.gateway : null),
      currentGateway: () => this.gateway,
      stillFollowingWith: (gateway) => this.gateway === gateway && this.role === 'standby' && !this.stopping,
      stopping: () => this.stopping,
      stopSignal: this.changes.stopSignal,
      epochCeiling: () => currentLeaseEpoch(this.options),
      pause: (ms) => this.changes.pause(ms),
      stopReplicator: () => this.stopReplicator(),
      startReplicator: (gateway) => this.startReplicator(gateway),
      stopGateway: async (gateway) => {
        await gateway.stop()
        this.gateway = null
      },
      follow: () => this.follow(),
      report: (divergence) => {
        this.lastDivergence = divergence
        this.options.log(`divergence report: ${JSON.stringify(divergence)}`)
      },
      reportSnapshotRecovery: (status) => void (this.lastSnapshotRecovery = status),
    }
  }

  /**
   * Runs a role change: one at a time (a takeover, a step-down and a re-sync never interleave; skipped while another
   * runs, unless `waitForFree`), none once stop() began, each checked to end in a steady state.
   */
  private exclusive(name: string, work: () => Promise<void>, waitForFree = false): Promise<void> {
    const change = async (): Promise<void> => {
      let cause: unknown = null
      try {
        await work()
      } catch (error) {
        const failure = syncFailureOf(error)
        if (failure !== null) return this.fail(failure)
        this.options.log(`ha: ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
        cause = error
      }
      await this.failIfUnsteady(name, cause)
    }
    return waitForFree ? this.changes.whenFree(name, change) : this.changes.run(name, change)
  }

  /** The end of a role change: a node neither leading, following, stopped nor failed stops for good (steady-state.ts). */
  private async failIfUnsteady(change: string, cause: unknown): Promise<void> {
    if (this.stopping) return // stop() tears down whatever the change left
    const state = unsteadyStateOf({ role: this.role, gateway: this.gateway, holdsLease: this.lease !== null, following: this.replicator !== null })
    if (state === null) return
    // A standby that could not follow again (no gateway, or one the HTTP layer did not take) keeps its FOLLOW_FAILED.
    await this.fail(this.role === 'standby' ? new FollowFailedError(cause ?? state) : new NodeStuckError(change, state, cause))
  }
}
