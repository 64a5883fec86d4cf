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
 * - Divergence: a standby told DIVERGED (resync.ts) finds the last LSN it shares with the leader (chain hashes
 *   compared by binary search), reports what it holds beyond it, sets its log and snapshots aside whole and starts
 *   again from the part up to that LSN, kept on disk (diverged-prefix.ts), following the leader from the LSN after it.
 *   When that part cannot be kept, or does not start, it re-syncs from scratch; the report (/health) says which and
 *   why, or that setting the records aside failed.
 * - Failure: an fsync that fails while a log is set aside, or a snapshot installed, is fatal (durable-fs.ts): the
 *   node stops for good (role `failed`, /health `ha.failure`) and `died` resolves, so the process exits; a restart
 *   finishes or rolls back the data dir's swap from what is on disk. So does a role change that leaves the node a
 *   standby with no gateway (following again failed: a swap it cannot finish, a log that does not open), rather than
 *   stay up neither following nor leading.
 * - Compaction: a standby told RESYNC_REQUIRED (the leader no longer holds its next LSN; resync.ts) starts again from
 *   the leader's newest snapshot (snapshot-recovery.ts), its old log moved aside; /health reports how that went.
 *
 * - Synchronous replication (optional, sync.ts): each leadership term has its own SyncReplication, fed by the
 *   standby's acknowledgements; under `degrade_async` its transitions are recorded in the log (records.ts).
 *
 * The lease holder id carries the node's advertised URL, so every node can name the leader.
 */

import { Lease, LeaseError, nodeIo, readCurrentLease } from '../../../wal/index.ts'
import type { Engine } from '../engine.ts'
import type { Gateway } from '../gateway.ts'
import type { DivergenceReport } from './divergence.ts'
import { syncFailureOf } from './durable-fs.ts'
import { FollowFailedError } from './follow-failed.ts'
import type { HaNodeOptions, NodeRole, RoleChoice } from './node-options.ts'
import type { HaNodeStatus } from './node-status.ts'
import { finishInterruptedSwaps } from './interrupted-swaps.ts'
import { Replicator } from './replicator.ts'
import { leaderSync } from './leader-sync.ts'
import { resyncAfterDivergence, resyncFromSnapshot, SNAPSHOT_RECOVERY_DEFAULTS, type ResyncSteps, type SnapshotRecoveryStatus } from './resync.ts'
import type { SyncReplication } from './sync.ts'

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
  /** What stopped this node for good (role `failed`): a failed fsync (SyncFailedError), or following again failing. */
  failure: Error | null = null
  /** Resolves with the failure when the node stops for good: the process should exit (a restart recovers). */
  readonly died: Promise<Error>
  private readonly options: HaNodeOptions
  private resolveDied: (failure: Error) => void = () => {}
  private replicator: Replicator | null = null
  private timer: ReturnType<typeof setInterval> | null = null
  private busy = false
  /** stop() has begun: the timer only renews a leader's lease from here on. */
  private stopping = false

  constructor(options: HaNodeOptions) {
    this.options = options
    this.died = new Promise((resolve) => {
      this.resolveDied = resolve
    })
  }

  get holderId(): string {
    return `${this.options.nodeId} ${this.options.advertiseUrl}`
  }

  isLeader(): boolean {
    return this.role === 'leader' && this.lease !== null && this.lease.isHeld()
  }

  /** The leader's URL as the current lease names it (null if none, or if the lease has expired). */
  leaderUrl(): string | null {
    try {
      const current = readCurrentLease(this.options.leaseDir)
      if (current === null || current.expiresAtMs + this.options.clockSkewMsMax < Date.now()) return null
      return current.holderId.split(' ')[1] ?? null
    } catch {
      return null
    }
  }

  status(): HaNodeStatus {
    const replication = this.replicator?.status
    return {
      role: this.role,
      node_id: this.options.nodeId,
      epoch: this.lease?.epoch ?? this.gateway?.engine.wal.lastEpoch ?? 0,
      leader: this.role === 'leader' ? this.options.advertiseUrl : this.leaderUrl(),
      ready: this.role === 'leader' ? (this.gateway?.ready ?? false) : replication?.connected === true,
      lag_records: replication?.lagRecords ?? 0,
      replicating: replication?.connected ?? false,
      last_takeover_ms: this.lastTakeoverMs,
      last_divergence: this.lastDivergence,
      failure: this.failure?.message ?? null,
      last_snapshot_recovery: this.lastSnapshotRecovery,
      sync: this.sync?.status() ?? { policy: this.options.sync?.policy ?? 'off', state: 'down' },
      // Shadow decisions of this node while it follows (null while leading): counts and the last mismatches.
      shadow: this.gateway?.engine.shadow?.stats ?? null,
      // Leading: commands that could not be written as kernel.command records (the standby cannot re-decide them).
      command_record_failures: this.gateway?.engine.commandRecordFailures ?? 0,
    }
  }

  async start(): Promise<void> {
    this.finishInterruptedSwaps('at start-up')
    const lease = this.options.role === 'standby' ? null : this.tryAcquire()
    if (lease !== null) await this.lead(lease, null)
    else if (this.options.role === 'leader') await this.waitToLead()
    else await this.follow()
    if (this.stopping) return // stop() began while it started: no timer to outlive it
    this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.options.leaseTtlMs / 4)))
  }

  async stop(): Promise<void> {
    // The timer keeps renewing a leader's lease until its gateway has stopped (tick does nothing else meanwhile): a
    // shutdown longer than the lease's remaining life (a large snapshot at shutdown) would otherwise let the standby
    // take over while this node still writes its last records, which its log would then refuse (LEASE_LOST).
    this.stopping = true
    await this.replicator?.stop()
    this.replicator = null
    this.sync?.close()
    await this.gateway?.stop()
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.lease?.release()
    this.role = 'stopped'
  }

  /**
   * Completes a swap of `log/` and `snapshots/` that was committed but not finished, or drops a build that was not
   * committed: one a crash interrupted (at start-up), or one that failed part way in this process (an EIO after the
   * old log went aside). Run before every gateway start, so a gateway never opens a data dir mid-swap — with `log/`
   * moved aside, Wal.open would create a new, empty log, and a node taking over would lead from it. Throws if the
   * swap cannot be finished: then no gateway starts.
   */
  private finishInterruptedSwaps(when = 'before starting the gateway'): void {
    finishInterruptedSwaps(this.options.dataDir, this.options.log, when, this.options.dataDirIo ?? nodeIo)
  }

  private tryAcquire(): Lease | null {
    try {
      return Lease.acquire({ dir: this.options.leaseDir, holderId: this.holderId, ttlMs: this.options.leaseTtlMs, clockSkewMsMax: this.options.clockSkewMsMax })
    } catch (error) {
      if (error instanceof LeaseError && (error.code === 'LEASE_HELD' || error.code === 'LEASE_RACE_LOST')) return null
      throw error
    }
  }

  private async waitToLead(): Promise<void> {
    for (;;) {
      const lease = this.tryAcquire()
      if (lease !== null) return this.lead(lease, null)
      await Bun.sleep(Math.max(50, Math.floor(this.options.leaseTtlMs / 4)))
    }
  }

  /** Opens the log for writing at the lease's epoch, bootstraps, and only then reports leader. */
  private async lead(lease: Lease, takenAtMs: number | null): Promise<void> {
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
    let gateway: Gateway
    try {
      this.finishInterruptedSwaps()
      gateway = await this.options.startGateway('leader', lease, beforeBootstrap)
    } catch (error) {
      if (term.sync !== null && this.sync === term.sync) {
        term.sync.close()
        this.sync = null
      }
      // A node that does not lead must not hold the lease: kept, every tick would renew it and no other node could
      // ever take over. Giving it up also fences whatever the start got to (a log opened at this epoch, an executor
      // started): both re-check the lease before acknowledging or calling a venue.
      lease.release()
      if (this.lease === lease) this.lease = null
      this.role = this.stopping ? 'stopped' : 'starting'
      throw error
    }
    if (this.stopping) {
      // stop() began (and gave the lease up) while it started: a leader now would outlive the shutdown.
      term.sync?.close()
      if (this.sync === term.sync) this.sync = null
      await gateway.stop()
      this.role = 'stopped'
      return
    }
    this.gateway = gateway
    // A startGateway that did not call beforeBootstrap still gets its gate (from here on).
    if (term.sync === null) beforeBootstrap(gateway.engine)
    this.role = 'leader'
    if (takenAtMs !== null) this.lastTakeoverMs = Date.now() - takenAtMs
    this.options.onGateway(gateway)
    this.options.log(`leader at epoch ${lease.epoch}, log at LSN ${gateway.engine.wal.lastLsn}; bootstrap ${JSON.stringify(gateway.bootstrapReport)}`)
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
    this.options.onGateway(gateway)
    this.startReplicator(gateway)
    this.options.log(`standby from LSN ${gateway.engine.wal.lastLsn}, following ${this.leaderUrl() ?? '(no leader yet)'}`)
  }

  private startReplicator(gateway: Gateway): void {
    this.replicator = new Replicator({
      wal: gateway.engine.wal,
      leaderUrl: () => this.leaderUrl(),
      token: this.options.replicationToken,
      ...this.options.replication,
      onDiverged: (details) => void this.whenFree(() => resyncAfterDivergence(details.leaderUrl, details.message, this.resyncSteps())),
      onResyncRequired: (details) => void this.whenFree(() => resyncFromSnapshot(details.leaderUrl, details.message, details.leaderFirstLsn, this.resyncSteps())),
      log: this.options.log,
    })
    this.replicator.start()
  }

  private async tick(): Promise<void> {
    if (this.role === 'leader' || this.role === 'promoting') {
      this.renew()
      if (!this.stopping) this.sync?.check()
      return
    }
    if (this.role === 'standby' && !this.stopping) await this.exclusive(() => this.takeOverIfExpired())
  }

  private renew(): void {
    const lease = this.lease
    if (lease === null) return
    try {
      lease.renew()
    } catch (error) {
      this.options.log(`lease epoch ${lease.epoch} lost (${error instanceof Error ? error.message : String(error)}); ${this.stopping ? 'stopping already' : 'stepping down'}`)
      if (!this.stopping) void this.exclusive(() => this.stepDown())
    }
  }

  private async takeOverIfExpired(): Promise<void> {
    if (this.role !== 'standby') return
    const lease = this.tryAcquire()
    if (lease === null) return
    const takenAtMs = Date.now()
    this.role = 'promoting'
    this.lease = lease
    await this.replicator?.stop()
    this.replicator = null
    await this.gateway?.stop()
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
      gateway.executor.stop()
      await gateway.stop().catch((error: unknown) => this.options.log(`stopping the deposed gateway: ${String(error)}`))
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
    await this.replicator?.stop()
    this.replicator = null
    const gateway = this.gateway
    this.gateway = null
    await gateway?.stop().catch((error: unknown) => this.options.log(`stopping the gateway of a failed node: ${String(error)}`))
    this.sync?.close()
    this.sync = null
    this.lease?.release()
    this.lease = null
    this.resolveDied(failure)
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
      stopReplicator: async () => {
        await this.replicator?.stop()
        this.replicator = null
      },
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
      reportSnapshotRecovery: (status) => {
        this.lastSnapshotRecovery = status
      },
    }
  }

  /** Like exclusive, but waits for a role change in progress to finish instead of skipping. */
  private async whenFree(work: () => Promise<void>): Promise<void> {
    while (this.busy) await Bun.sleep(10)
    await this.exclusive(work)
  }

  /** Role changes run one at a time (a takeover, a step-down and a re-sync never interleave). */
  private async exclusive(work: () => Promise<void>): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      await work()
    } catch (error) {
      const failure = syncFailureOf(error)
      if (failure !== null) await this.fail(failure)
      else {
        this.options.log(`ha: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
        // Every role change ends following or leading; one that threw with no gateway left could not follow again.
        if (this.role === 'standby' && this.gateway === null && !this.stopping) await this.fail(new FollowFailedError(error))
      }
    } finally {
      this.busy = false
    }
  }
}
