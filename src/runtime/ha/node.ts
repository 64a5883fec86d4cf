/**
 * The HA role of one node. `auto` tries to take the lease and leads if it wins, else follows; `standby` starts by
 * following; `leader` waits for the lease and never follows. Every node that follows takes over when the lease expires.
 *
 * - Leader (leading.ts): holds the lease (renewed every ttl/4), writes the log, runs intake and the executor, serves
 *   replication; a renewal that finds the lease lost steps down at once and the node restarts as a standby.
 *   Synchronous replication (optional, sync.ts) has one SyncReplication per leadership term.
 * - Standby (following.ts): a replica log fed by the Replicator, projections hot, no sends, writes answered NOT_LEADER.
 * - Takeover (following.ts, then leading.ts): the lease is taken with epoch + 1 (renewal starts at once, so a long
 *   bootstrap cannot lose it), the replicator and the standby gateway stop, and the node leads at the new epoch; only
 *   once bootstrap has run does it report itself leader and open intake. A lease lost all the same while the leader
 *   started (its loop blocked past the TTL, a newer epoch taken) is a failed start: that gateway is stopped, never led
 *   on, and the node follows again — a takeover's or a start-up's (leading.ts LeaseLostWhileStartingError).
 * - Re-sync (resync.ts, wired in following.ts): a standby told DIVERGED keeps the part of its log it shares with the
 *   leader and sets the rest aside (divergence.ts, diverged-prefix.ts); one told RESYNC_REQUIRED (the leader compacted
 *   away its next LSN) starts again from the leader's newest snapshot (snapshot-recovery.ts). /health reports how
 *   either went. A re-sync waiting on a leader whose lease has gone free is abandoned at the next tick (leader-gone.ts):
 *   the node follows again from its whole log and takes over, rather than wait out the request's timeout.
 * - Failure: an fsync that fails while a log is set aside, or a snapshot installed, is fatal (durable-fs.ts): the
 *   node stops for good (role `failed`, /health `ha.failure`) and `died` resolves, so the process exits; a restart
 *   finishes or rolls back the data dir's swap from what is on disk. So does a role change that leaves the node in
 *   none of its steady states — leading, following, stopped (steady-state.ts) — rather than stay up neither
 *   following nor leading: FOLLOW_FAILED for a standby that could not follow again, NODE_STUCK otherwise.
 *
 * Role changes (start-up, takeover, step-down, re-sync) run one at a time (role-changes.ts; HaNode.exclusive, which
 * also checks that each ends in a steady state). stop() aborts every request to the leader in flight (stop-signal.ts)
 * and waits for the change in progress, within a bound (StopTimeoutError past it): once it resolves, nothing of the
 * node runs or touches the data dir. A re-sync not yet changing the data dir when stop() begins, or waiting on the
 * leader, is abandoned (an install cut short in its catch-up pull is rolled back); one changing it otherwise finishes
 * first.
 *
 * HaNode holds the node's state, runs its timer and its role changes, and hands the leader and follower sides a view
 * of itself (node-core.ts).
 *
 * The lease holder id carries the node's advertised URL, so every node can name the leader.
 */

import { LeaseError, nodeIo, type Lease, type LogDirLock } from '../../../wal/index.ts'
import type { Gateway } from '../gateway.ts'
import type { DivergenceReport } from './divergence.ts'
import { lockDataDir } from './data-dir-lock.ts'
import { fatalFailureOf, restartAdviceAfter } from './durable-fs.ts'
import { FollowFailedError } from './follow-failed.ts'
import { follow, stopReplicator, takeOverIfExpired } from './following.ts'
import { finishInterruptedSwaps } from './interrupted-swaps.ts'
import { lead, LeaseLostWhileStartingError, renewLease, stepDown } from './leading.ts'
import { ResyncAbort } from './leader-gone.ts'
import { acquireIfFree, leaderUrlIn, leaseFree } from './lease-dir.ts'
import { LeaseTrouble } from './lease-trouble.ts'
import { LeaseWatch, takeLeaseIfGone } from './lease-watch.ts'
import type { NodeCore } from './node-core.ts'
import type { HaNodeOptions, NodeRole, RoleChoice } from './node-options.ts'
import { nodeStatusOf, type HaNodeStatus } from './node-status.ts'
import type { Replicator } from './replicator.ts'
import type { SnapshotRecoveryStatus } from './resync.ts'
import { RENEWALS_SETTLE_WAIT_MS_MAX, renewalsSettledWithin } from './renewals-settled.ts'
import { RoleChanges, roleChangeWaitMsMax, StopTimeoutError } from './role-changes.ts'
import { NodeStuckError, unsteadyStateOf } from './steady-state.ts'
import type { SyncReplication } from './sync.ts'
import { TAKEOVER_BACKOFF_MS_MAX, TakeoverBackoff } from './takeover-backoff.ts'
import { TAKEOVER_WOULD_REFUSE_CHECK_MS, TakeoverWouldRefuse } from './takeover-would-refuse.ts'
import { dataDirTakeoverGuard, TakeoverRefusal, takeoverGuardOf } from './takeover-guard.ts'
import type { TakeoverLag } from './takeover-lag.ts'
import { handTailAtStop, TAIL_HANDOFF_WAIT_MS_MAX } from './tail-handoff.ts'
import { abandonNode, onceEach, type NodeParts, teardownBounds, tearDownNodeWithin } from './teardown.ts'

export type { HaNodeOptions, NodeRole, RoleChoice }

export class HaNode {
  role: NodeRole = 'starting'
  gateway: Gateway | null = null
  lease: Lease | null = null
  lastDivergence: DivergenceReport | null = null
  lastSnapshotRecovery: SnapshotRecoveryStatus | null = null
  /** Lease taken → intake open, of the last takeover. */
  lastTakeoverMs: number | null = null
  /** What this log lacked of the old leader's at the last takeover (takeover-lag.ts). */
  lastTakeoverLag: TakeoverLag | null = null
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
  /** The data dir's lock (data-dir-lock.ts), held from start() to the end of stop(): swaps need it. */
  private dataDirLock: LogDirLock | null = null
  private readonly changes = new RoleChanges()
  /** The running re-sync's abort: the tick ends its requests once the leader's lease is free (leader-gone.ts). */
  private readonly resyncAbort = new ResyncAbort()
  /** Takes over a lease record that stopped changing though its expiry lies ahead (its holder's clock ahead). */
  private readonly leaseWatch = new LeaseWatch()
  /** Says once (and a bounded reminder) that the lease directory cannot be read, rather than at every tick. */
  private readonly leaseTrouble = new LeaseTrouble((line) => this.options.log(line))
  /** Why this node last refused to take the lease (its log below the record's floor, takeover-guard.ts); null: it did not. */
  private readonly takeoverRefusal = new TakeoverRefusal((line) => this.options.log(line))
  /** The wait between failed takeovers: one lease TTL, doubling up to takeoverBackoffMsMax (takeover-backoff.ts). */
  private readonly takeoverBackoff: TakeoverBackoff
  /** A caught-up standby's early warning that its takeover would be refused (takeover-would-refuse.ts). */
  private readonly takeoverWouldRefuse: TakeoverWouldRefuse
  /** stop() has begun: the timer only renews a leader's lease from here on. */
  private stopping = false
  /** What the leader and follower sides (leading.ts, following.ts) read and change of this node. */
  private readonly core: NodeCore = this.coreView()

  constructor(options: HaNodeOptions) {
    this.options = options
    this.takeoverWouldRefuse = new TakeoverWouldRefuse((line) => options.log(line), Math.max(options.leaseTtlMs, options.takeoverWouldRefuseCheckMs ?? TAKEOVER_WOULD_REFUSE_CHECK_MS))
    this.takeoverBackoff = new TakeoverBackoff(options.leaseTtlMs, Math.max(options.leaseTtlMs, options.takeoverBackoffMsMax ?? TAKEOVER_BACKOFF_MS_MAX))
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
    return nodeStatusOf(this, {
      nodeId, advertiseUrl, syncPolicy: sync?.policy ?? 'off', leaderUrl: this.leaderUrl(), replication: this.replicator?.status, leading: this.isLeader(),
      takeoverRefused: this.takeoverRefusal.status, takeoverWouldRefuse: this.takeoverWouldRefuse.status,
    })
  }

  /** Starts leading or following (a role change itself: stop() waits for it); throws if neither could start. */
  start(): Promise<void> {
    return this.changes.run('start-up', async () => {
      // Before any swap is finished: an offline command (egress snapshot, compact) takes it too, and is refused.
      this.dataDirLock = lockDataDir(this.options.dataDir, { create: true })
      try {
        this.finishInterruptedSwaps('at start-up')
      } catch (error) {
        this.parts.releaseDataDir()
        throw error
      }
      // The timer runs before the first gateway starts: a leader's start (replay, bootstrap reading open orders back)
      // may take longer than the lease lives, and a lease not renewed meanwhile was taken by the standby (LEASE_LOST
      // as the log opened, or a step-down right after). Its takeover ticks do nothing while this change runs.
      this.timer = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.options.leaseTtlMs / 4)))
      try {
        // No gateway yet: the log's end is read from disk, and only if the lease is free and its record has a floor.
        const lease = this.options.role === 'standby' ? null : acquireIfFree(this.options, this.holderId, dataDirTakeoverGuard(this.options, this.takeoverRefusal))
        const led = lease !== null && (await this.leadFromStartUp(lease))
        if (!led && this.options.role === 'leader') await this.waitToLead()
        else if (!led) await follow(this.core)
        await this.failIfUnsteady('start-up', null)
      } catch (error) {
        this.parts.clearTimer()
        this.parts.releaseDataDir()
        throw error
      }
      if (this.stopping || this.role === 'failed') this.parts.clearTimer() // no timer to outlive the stop, nothing left to renew
    })
  }

  /**
   * Aborts the requests to the leader in flight, waits for a role change in progress to finish or be abandoned (within
   * roleChangeWaitMsMax), then takes the node apart (teardown.ts: every step at most once, even when one throws; cut
   * once it makes no progress for a while, teardownBounds), waits for the released lease's renewal still writing to
   * end (renewals-settled.ts, bounded) and rejects with the first step's error, if any. Past either bound it releases the lease first
   * and rejects with StopTimeoutError (the process should exit then).
   */
  async stop(): Promise<void> {
    this.stopping = true
    this.changes.close() // aborts the node's stop signal: a change waiting on the leader ends now
    const parts = onceEach(this.parts) // shared by the teardown and its abandonment: no step runs twice
    const waitMsMax = roleChangeWaitMsMax(this.options)
    const stillRunning = await this.changes.settled(waitMsMax)
    if (stillRunning !== null) {
      this.role = 'stopped'
      abandonNode(parts, this.options.log)
      throw new StopTimeoutError(stillRunning, waitMsMax)
    }
    let failures: unknown[]
    try {
      failures = await tearDownNodeWithin(parts, this.options.log, teardownBounds(this.options), () => this.gateway?.stopProgress ?? 0)
    } finally {
      this.role = 'stopped'
    }
    // Released by the teardown, the lease's renewal still writing ends now (renewals-settled.ts): not after stop().
    await renewalsSettledWithin(this.lease, RENEWALS_SETTLE_WAIT_MS_MAX, this.options.log)
    if (failures.length > 0) throw failures[0]
  }

  /** What stop() takes apart (teardown.ts). */
  private readonly parts: NodeParts = {
    stopReplicator: () => stopReplicator(this.core),
    closeSync: () => this.sync?.close(),
    stopGateway: () => this.gateway?.stop(),
    handTail: () => handTailAtStop(this, { leaseTtlMs: this.options.leaseTtlMs, waitMsMax: this.options.tailHandoffWaitMsMax ?? TAIL_HANDOFF_WAIT_MS_MAX, log: this.options.log }),
    clearTimer: () => {
      if (this.timer !== null) clearInterval(this.timer)
      this.timer = null
    },
    releaseLease: () => {
      // The floor the next taker is held to: what the standby acknowledged up to this moment (leading.ts).
      if (this.sync !== null) this.lease?.noteReplicated(this.sync.standbyDurableLsn)
      this.lease?.release()
    },
    releaseDataDir: () => {
      this.dataDirLock?.release()
      this.dataDirLock = null
    },
  }

  /**
   * The view of this node the leader and follower sides work on (node-core.ts): its state read and written in place,
   * and the role-change plumbing that stays here.
   */
  private coreView(): NodeCore {
    const node = this
    return {
      get options() { return node.options },
      get holderId() { return node.holderId },
      get changes() { return node.changes },
      get stopping() { return node.stopping },
      get resyncAbort() { return node.resyncAbort },
      get leaseWatch() { return node.leaseWatch },
      get leaseTrouble() { return node.leaseTrouble },
      get takeoverBackoff() { return node.takeoverBackoff },
      get takeoverWouldRefuse() { return node.takeoverWouldRefuse },
      guard: (logEnd) => takeoverGuardOf(node.options, node.takeoverRefusal, logEnd),
      get role() { return node.role },
      set role(role) { node.role = role },
      get gateway() { return node.gateway },
      set gateway(gateway) { node.gateway = gateway },
      get lease() { return node.lease },
      set lease(lease) { node.lease = lease },
      get sync() { return node.sync },
      set sync(sync) { node.sync = sync },
      get replicator() { return node.replicator },
      set replicator(replicator) { node.replicator = replicator },
      get lastTakeoverMs() { return node.lastTakeoverMs },
      set lastTakeoverMs(ms) { node.lastTakeoverMs = ms },
      get lastTakeoverLag() { return node.lastTakeoverLag },
      set lastTakeoverLag(lag) { node.lastTakeoverLag = lag },
      get lastDivergence() { return node.lastDivergence },
      set lastDivergence(divergence) { node.lastDivergence = divergence },
      get lastSnapshotRecovery() { return node.lastSnapshotRecovery },
      set lastSnapshotRecovery(status) { node.lastSnapshotRecovery = status },
      leaderUrl: () => node.leaderUrl(),
      finishInterruptedSwaps: (when) => node.finishInterruptedSwaps(when),
      exclusive: (name, work, waitForFree) => node.exclusive(name, work, waitForFree),
      watchLog: (gateway) => node.watchLog(gateway),
      lead: (lease, takenAtMs) => lead(node.core, lease, takenAtMs),
      follow: () => follow(node.core),
      stepDown: () => stepDown(node.core),
    }
  }

  /**
   * Finishes or drops a swap of `log/` left by a crash (at start-up) or by a failure part way in this process (an EIO
   * after the old log went aside), before every gateway start (interrupted-swaps.ts); throws if it cannot.
   */
  private finishInterruptedSwaps(when = 'before starting the gateway'): void {
    finishInterruptedSwaps(this.options.dataDir, this.options.log, when, this.options.dataDirIo ?? nodeIo)
  }

  private async waitToLead(): Promise<void> {
    // No gateway while waiting: the log on disk does not change, its end is read once (when first needed).
    const guard = dataDirTakeoverGuard(this.options, this.takeoverRefusal)
    while (!this.stopping) {
      const lease = takeLeaseIfGone(this.options, this.holderId, { watch: this.leaseWatch, trouble: this.leaseTrouble, log: this.options.log, guard })
      if (lease !== null && (await this.leadFromStartUp(lease))) return
      await this.changes.pause(Math.max(50, Math.floor(this.options.leaseTtlMs / 4)))
    }
  }

  /**
   * Leads on a lease taken at start-up: true once it leads (or stop() began), false when the lease was lost while the
   * leader started (LeaseLostWhileStartingError, leading.ts) — no failure of the start: `auto` follows (and takes over
   * later, as any standby), `leader` waits for the lease again. Any other failed start rejects.
   */
  private async leadFromStartUp(lease: Lease): Promise<boolean> {
    try {
      await lead(this.core, lease, null)
      return true
    } catch (error) {
      if (!(error instanceof LeaseLostWhileStartingError)) throw error
      this.options.log(`${error.message}; ${this.options.role === 'leader' ? 'waiting for the lease again' : 'following'}`)
      return false
    }
  }

  private async tick(): Promise<void> {
    if (this.role === 'leader' || this.role === 'promoting') {
      void renewLease(this.core)
      if (!this.stopping) this.sync?.check()
      return
    }
    if (this.role !== 'standby' || this.stopping) return
    // A re-sync waiting on a leader that is gone would hold the takeover (skipped while it runs) until its request
    // timed out: it is abandoned now, and the node follows again from its whole log for the next tick to take over.
    if (leaseFree(this.options) && this.resyncAbort.leaderGone()) this.options.log('the leader\'s lease is free: abandoning the re-sync so that this standby may take over')
    await this.exclusive('takeover', () => takeOverIfExpired(this.core))
  }

  /**
   * The node's gateway's log died. Of a lost lease (LeaseError: a write or its acknowledgement was fenced): a step-down,
   * now rather than at the next renewal. Of anything else (a failed write or fdatasync, the engine halting it): this
   * process can neither write nor follow any more, so the node stops for good and the process exits, as `egress serve`
   * does, for a restart to recover from the log. Left alone, a leader renewed its lease for as long as the process
   * lived, answering every write with the dead log's error, and no standby could take over. A standby whose replicated
   * frames could not be applied (ReplicaApplyError) fails the same way: it copied on with projections stopped.
   */
  private watchLog(gateway: Gateway): void {
    const work = async (error: Error): Promise<void> => {
      if (this.gateway !== gateway || this.stopping) return
      if (!(error instanceof LeaseError)) return this.fail(error)
      this.options.log(`the log refused a write: ${error.message}; stepping down`)
      await stepDown(this.core)
    }
    void gateway.engine.wal.died.then((error) => this.exclusive('step-down', () => work(error), true))
    // A standby whose projections stopped (a record its build cannot read) must not go on serving them as current.
    void gateway.replicaApplyFailed.then((error) => this.exclusive('fail', async () => {
      if (this.gateway === gateway && !this.stopping) await this.fail(error)
    }, true))
  }

  /**
   * An fsync failed (durable-fs.ts; in a data dir swap, or of the log, a compaction or a snapshot: the log dies of
   * those), the log died otherwise, or the node could not follow again: nothing more is done on the data dir in this
   * process. No gateway runs (none is started again), the lease is given up, and `died` resolves so the process exits;
   * a restart finishes or rolls back a swap from what is on disk, and recovers from the log (or fails the same way,
   * for an operator to see). The line logged says which of these it was.
   */
  private async fail(failure: Error): Promise<void> {
    if (this.failure !== null) return
    this.failure = failure
    this.role = 'failed'
    this.options.log(`fatal: ${failure.message}; the node stops: ${restartAdviceAfter(failure)}`)
    await stopReplicator(this.core)
    const gateway = this.gateway
    this.gateway = null
    await gateway?.stop().catch((error: unknown) => this.options.log(`stopping the gateway of a failed node: ${String(error)}`))
    this.sync?.close()
    this.sync = null
    this.lease?.release()
    this.lease = null
    this.parts.releaseDataDir()
    this.death.resolve(failure)
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
        const failure = fatalFailureOf(error)
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
