/**
 * The gateway runtime assembled: the log, the engine replaying it, the executor, the venues and their execution
 * reports, the market feed, and bootstrap. The HTTP layer and the simulation both drive egress through this class;
 * neither touches the kernel, the log or an adapter directly.
 */

import { join } from 'node:path'
import type { VenueAdapter } from '../venues/adapter.ts'
import { fromHex, leaseStillHeld, tailTruncationNotice, Wal, type Frame } from '../../wal/index.ts'
import { setUpAudit, type AuditSetup } from '../audit/index.ts'
import { AuditDuty } from './audit-duty.ts'
import { holdClockToLog } from './log-time.ts'
import type { SweepReport } from './open-order-sweep.ts'
import { OrderReadBacks } from './order-read-backs.ts'
import { bootstrap, type BootstrapReport } from './bootstrap.ts'
import type { Engine } from './engine.ts'
import { Executor } from './executor.ts'
import { ShadowDecider } from './ha/shadow.ts'
import { FILL_GAP_GRACE_MS } from './fill-gap-watch.ts'
import type { ReplicaApplyError } from './replica-apply-error.ts'
import { applyReplicatedBatches } from './replica-apply.ts'
import { ReportIntake } from './report-intake.ts'
import { drainForStop, STOP_DRAIN_MS_MAX } from './stop-drain.ts'
import { chainAnchorFor, type Snapshotter, type RestoreReport, type SnapshotPolicy, type SnapshotTaken } from './snapshot/index.ts'
import { snapshotterOf, type GatewaySnapshots } from './gateway-snapshotter.ts'
import { standbySealKey } from './standby-seal.ts'
import { GatewayCommands } from './gateway-commands.ts'
import type { GatewayOptions, GatewayRole } from './gateway-options.ts'
import { refuseLogBehindAnchorsOrClose, refuseOrdersOnGoneVenuesOrClose, restoreOrClose, singleNodeDurability, snapshotsOf } from './gateway-restore.ts'
import { tailCutGuardOf } from './durable-witnesses.ts'
import { LogHolds } from './snapshot/log-holds.ts'
import type { VenueHealthMonitor } from './venue-health-monitor.ts'
import type { AutoStop } from './auto-stop.ts'
import { venueWatchersOf } from './venue-watchers.ts'
import { subscribeToVenueNews } from './venue-news.ts'
import { callObservers } from './call-observers.ts'
import { VenueOverrideLapses } from './venue-override-lapses.ts'
import { TtlExpiries } from './ttl-expiries.ts'
import { QUARANTINE_BYTES_WARN, QUARANTINE_FILES_WARN, readQuarantineStatus, type QuarantineStatus } from './quarantine-status.ts'

export type { CommandResult, RequestTrace } from './gateway-commands.ts'
export type { GatewayOptions, GatewayRole, VenueSessions } from './gateway-options.ts'

/** The commands (place, cancel, …) are GatewayCommands' (gateway-commands.ts); this class starts, wires and stops. */
export class Gateway extends GatewayCommands {
  readonly executor: Executor
  bootstrapReport: BootstrapReport | null = null
  readonly audit: AuditDuty | null
  readonly snapshotter: Snapshotter
  /** Readers of the segment files (the live full verification) that compaction leaves alone while they read. */
  readonly logHolds = new LogHolds()
  readonly snapshotPolicy: SnapshotPolicy
  /** How this start rebuilt its state: from which snapshot (if any), what was refused, how long it took. */
  restoreReport: RestoreReport | null = null
  /** Sections of the snapshot this start loaded, other than the kernel's (projections restore theirs by name). */
  restoredSections: Map<string, Uint8Array> = new Map()
  private readyFlag = false
  /** GatewayOptions.venueSessions was started (a stop, or a failed start, stops it before the log closes). */
  private venueSessionsStarted = false
  private stopRun: Promise<void> | null = null
  private stopSteps = 0
  private readonly unsubscribes: (() => void)[] = []
  /** What opened on this gateway before bootstrap and closes with a failed start (onStartFailed), last first. */
  private readonly startFailedCloses: (() => Promise<void>)[] = []
  private readonly replicaApply = Promise.withResolvers<ReplicaApplyError>()
  /** The open orders the gateway reads back on its own: the periodic sweep, the fill gaps that stay open (`fillGaps`: /metrics). */
  readonly readBacks: OrderReadBacks
  /** Venue reports on their way into the kernel; its `stats` say what was held, dropped, not alerted again. */
  readonly reportIntake: ReportIntake
  readonly role: GatewayRole
  /** Venue health scoring (GatewayOptions.venueHealth); null when not configured. Records levels once the leader is ready. */
  readonly venueHealth: VenueHealthMonitor | null
  /** The auto-stop breakers (GatewayOptions.autoStop); null when not configured. Run by a leader, once ready. */
  readonly autoStop: AutoStop | null
  /** Records each emergency override's lapse at its expiry (a leader, once ready), so the log says when it ended. */
  private readonly overrideLapses: VenueOverrideLapses
  /** Ends orders whose time-to-live passes (ttl-expiries.ts); the leader's, after bootstrap. */
  readonly ttlExpiries: TtlExpiries
  /** The data dir's quarantine/ once the log was opened (and cut, if it was): /metrics and /health show it. */
  readonly quarantine: QuarantineStatus | null

  private constructor(options: GatewayOptions, engine: Engine, auditSetup: AuditSetup | null, snapshots: GatewaySnapshots) {
    super(options, engine)
    this.role = options.role ?? 'leader'
    const warn = options.quarantineWarn ?? { files: QUARANTINE_FILES_WARN, bytes: QUARANTINE_BYTES_WARN }
    this.quarantine = readQuarantineStatus(options.dataDir, { warn, onError: options.onError, ...(options.wal.io === undefined ? {} : { io: options.wal.io }) })
    this.snapshotPolicy = snapshots.policy
    this.snapshotter = snapshotterOf(options, engine, snapshots, {
      auditSetup,
      // The audit self-check reads the segment files after its last verified record, and a live verification from the
      // first it listed: compaction leaves them.
      compactionKeepFromLsn: () => Math.min(this.audit === null ? Number.POSITIVE_INFINITY : this.audit.verifiedThroughLsn + 1, this.logHolds.floorLsn),
    })
    engine.commandRecords = options.commandRecords ?? options.role !== undefined
    engine.buildCommit = options.buildCommit
    engine.onListenerError = (error) => options.onError(error, 'durable listener')
    engine.wal.onListenerError = (error) => options.onError(error, 'log subscriber')
    const adapters = new Map<string, VenueAdapter>()
    for (const { adapter, prices } of options.venues) {
      adapters.set(adapter.venue, adapter)
      this.market.addSource(adapter.venue, prices)
    }
    const watchers = venueWatchersOf(options, engine, adapters)
    this.venueHealth = watchers.venueHealth
    this.autoStop = watchers.autoStop
    this.overrideLapses = new VenueOverrideLapses({ engine, clock: options.clock, onError: options.onError })
    this.ttlExpiries = new TtlExpiries({ engine, clock: options.clock, onError: options.onError })
    this.audit = auditSetup === null ? null : new AuditDuty({ engine, clock: options.clock, setup: auditSetup, configDigest: options.configDigest, onError: options.onError })
    this.executor = new Executor({
      engine,
      adapters,
      clock: options.clock,
      gateFacts: () => {
        const facts = options.facts()
        return { ...facts, auditVerified: facts.auditVerified && (this.audit?.verified ?? true), durabilityMode: engine.wal.durability }
      },
      market: (venue, symbol) => this.market.snapshot(venue, symbol),
      callsInFlightMax: options.callsInFlightMax,
      ...(options.lane3Every === undefined ? {} : { lane3Every: options.lane3Every }),
      rateLimits: options.kernelConfig.instruments,
      reconcileRetryMs: options.reconcileRetryMs,
      onError: options.onError,
      ...(options.lease === undefined ? {} : { lease: options.lease }),
      ...callObservers(this.venueHealth, this.autoStop),
    })
    this.readBacks = new OrderReadBacks({
      engine,
      executor: this.executor,
      clock: options.clock,
      sweepIntervalMs: options.reconcileSweepMs ?? 0,
      sweepOrdersMax: options.reconcileSweepOrdersMax ?? 100,
      fillGapGraceMs: options.fillGapGraceMs ?? FILL_GAP_GRACE_MS,
      // Read when each sweep runs: a JSONL venue says its trade history on connecting.
      tradeHistoryMsOf: (venue) => {
        const adapter = adapters.get(venue)
        return adapter === undefined ? undefined : adapter.tradesQueryable === false ? null : adapter.tradeHistoryMs
      },
      onError: options.onError,
    })
    this.reportIntake = new ReportIntake({
      engine,
      clock: options.clock,
      onError: options.onError,
      noteFill: (orderId, cumQty) => this.readBacks.noteFill(orderId, cumQty),
      readBack: (orderId) => this.readBacks.askedByReport(orderId),
      heldMax: options.reportsHeldMax,
      // Sessions log on before bootstrap (venueSessions) and a venue may report at once: held until bootstrap has
      // recorded the start's configuration, fundings and mode (report-intake.ts says why).
      closed: true,
    })
    this.unsubscribes.push(...subscribeToVenueNews(adapters.values(), this.reportIntake, this.readBacks))
    this.unsubscribes.push(
      engine.onDurable((events) => {
        this.readBacks.noteDurable(events)
        this.executor.wake()
        // The batch left the log's queue: reports held for its room go in (once every listener has seen the batch).
        this.reportIntake.resumeSoon()
        this.audit?.afterCommit()
      }),
    )
  }

  /**
   * Opens the log in `dataDir/log`, rebuilds the state (the newest valid snapshot in `dataDir/snapshots` plus the log
   * after it, or the whole log), runs bootstrap; resolves when intake may open. Refused snapshots go to onError.
   */
  static async start(options: GatewayOptions): Promise<Gateway> {
    if (options.role === 'standby') return Gateway.startStandby(options)
    const { policy, store } = snapshotsOf(options)
    // From a snapshot, the log's chain is verified from the snapshot's LSN on (restore checks the rest if it falls back).
    // A torn tail is cut only once the data dir's witnesses say its records were never durable, and kept aside first.
    const tailCut = tailCutGuardOf(options.dataDir, { anchorsFile: options.audit?.anchorsFile, durability: singleNodeDurability(options) })
    const wal = Wal.open(join(options.dataDir, 'log'), { chainAnchorLsn: chainAnchorFor(store, policy.load), tailCut, ...options.wal })
    noteTailCut(wal, options)
    // Before anything is appended: a log that lost durable records its anchors file vouches for is not started on.
    await refuseLogBehindAnchorsOrClose(wal, options)
    const restored = await restoreOrClose(wal, store, policy, options)
    // Before anything is appended or noted in the anchors file: orders open on a venue this start has no adapter for
    // would be orphaned for good (venue-gone.ts).
    await refuseOrdersOnGoneVenuesOrClose(wal, restored.engine, options)
    holdClockToLog(wal, options.clock, options.onError)
    // A step failing from here on closes what the start opened (the log and its dir lock, the executor, the audit):
    // left open, the log stays locked by this process, and the node that tried to lead could not even follow again.
    let gateway: Gateway | null = null
    try {
      // The self-check at start re-derives the chain from the snapshot restored from (its head was checked against
      // the log).
      const snapshotHead = restored.report.snapshot === null ? {} : { from: { lsn: restored.report.snapshot.lsn, chainHead: fromHex(restored.report.snapshot.chainHead) } }
      const auditSetup = options.audit === undefined ? null : await setUpAudit({ config: options.audit, dataDir: options.dataDir, log: wal, singleNode: options.role === undefined && options.lease === undefined, ...snapshotHead })
      gateway = new Gateway(options, restored.engine, auditSetup, { store, policy, sealKeys: restored.sealKeys })
      gateway.restoreReport = restored.report
      gateway.restoredSections = restored.sections
      options.beforeBootstrap?.(gateway.engine, gateway)
      // Before anything reaches a venue (the sessions, bootstrap's lists, read-backs, cancels and resends), after an HA
      // leader's send gate is in (beforeBootstrap): a log found tampered with (the anchors file, the first self-check)
      // has its kill switch engaged and its finding recorded first, so what bootstrap would send is held by it.
      await gateway.audit?.checkAtStart()
      // Bootstrap reconciles the orders left in flight with their venues (DESIGN §6): sessions living on the log are
      // up first, or every call of theirs would answer retryable until bootstrap's converge wait ran out.
      if (options.venueSessions !== undefined) {
        gateway.venueSessionsStarted = true
        await options.venueSessions.start(gateway)
      }
      // Bootstrap's sends are decided on this process's reading of each venue, not on the level an earlier one recorded.
      await gateway.venueHealth?.recordFresh()
      const marketFeed = gateway.market
      gateway.bootstrapReport = await bootstrap({
        engine: gateway.engine,
        executor: gateway.executor,
        clock: options.clock,
        kernelConfig: options.kernelConfig,
        fundings: options.fundings,
        mode: options.mode ?? null,
        convergeWaitMsMax: options.convergeWaitMsMax,
        resendAgeMsMax: options.resendAgeMsMax,
        market: (venue, symbol) => marketFeed.snapshot(venue, symbol),
        onConfigured: () => gateway?.reportIntake.open(),
        onError: options.onError,
      })
      await gateway.audit?.start()
      gateway.unsubscribes.push(gateway.snapshotter.start())
      gateway.readBacks.armSweep()
      gateway.venueHealth?.start()
      gateway.autoStop?.start()
      gateway.overrideLapses.start()
      gateway.ttlExpiries.start()
      gateway.readyFlag = true
      return gateway
    } catch (error) {
      await (gateway === null ? wal.close() : gateway.abandon()).catch((closeError: unknown) => options.onError(closeError, 'closing a gateway whose start failed'))
      throw error
    }
  }

  /**
   * Registers `close` for a start that fails part way (abandon), for what opens on this gateway before bootstrap and
   * otherwise closes with its stop() (the back office, backOfficeOf): a failed start never runs stop(), and left open
   * its SQLite file, timers and worker thread outlived the start, while the HA node followed on the same data dir.
   */
  onStartFailed(close: () => Promise<void>): void {
    this.startFailedCloses.push(close)
  }

  /**
   * A start that failed part way: everything stopped and the log closed, with no seal and no snapshot written. What
   * opened last closes first: what registered onStartFailed (opened before bootstrap, after the log), then the rest.
   */
  private async abandon(): Promise<void> {
    this.readyFlag = false
    for (const close of this.startFailedCloses.splice(0).reverse()) {
      await close().catch((error: unknown) => this.options.onError(error, 'closing what a failed start opened'))
    }
    this.venueHealth?.stop()
    this.autoStop?.stop()
    this.overrideLapses.stop()
    this.ttlExpiries.stop()
    await this.stopVenueSessions()
    this.readBacks.stop()
    this.reportIntake.stop()
    this.executor.stop()
    this.audit?.stop()
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
    this.snapshotter.stop()
    await this.engine.settled()
    await this.engine.wal.close()
  }

  /**
   * A standby: the log opened as a replica, the state rebuilt from snapshot + log, projections kept by `applyReplicated`.
   * No venue is attached (nothing may be sent or received), no seal record is written, intake never opens (`ready` stays
   * false). Its snapshots are sealed when the audit config gives it the seal key (standby-seal.ts).
   */
  private static async startStandby(options: GatewayOptions): Promise<Gateway> {
    const { policy, store } = snapshotsOf(options)
    const sealKey = await standbySealKey(options)
    const { lease: _lease, epoch: _epoch, ...walOptions } = options.wal
    // A torn tail is cut as a leader's open cuts one, its bytes kept in quarantine/ first; no witness refuses the cut,
    // as for any HA node (its log follows its leader's, which holds what it acknowledged).
    const wal = Wal.openReplica(join(options.dataDir, 'log'), { tailCut: { quarantineDir: join(options.dataDir, 'quarantine') }, ...walOptions })
    noteTailCut(wal, options)
    const restored = await restoreOrClose(wal, store, policy, options)
    const gateway = new Gateway({ ...options, venues: [] }, restored.engine, null, { store, policy, sealKeys: restored.sealKeys, ...(sealKey === null ? {} : { sealWith: sealKey(wal, options.clock) }) })
    gateway.engine.shadow = new ShadowDecider()
    gateway.restoreReport = restored.report
    gateway.restoredSections = restored.sections
    // Frames made durable by the replicator are applied right after the commit (replica-apply.ts); the first batch that
    // fails ends applying for good: replicaApplyFailed says so once.
    gateway.unsubscribes.push(applyReplicatedBatches(wal, gateway.engine, { onError: options.onError, onFailed: (failure) => gateway.replicaApply.resolve(failure) }))
    gateway.unsubscribes.push(gateway.snapshotter.start())
    return gateway
  }

  /**
   * Standby: resolves (once) when a batch of replicated frames could not be applied; its projections stop before it.
   * Never resolves on a leader.
   */
  get replicaApplyFailed(): Promise<ReplicaApplyError> {
    return this.replicaApply.promise
  }

  /** Standby: applies frames the replica log has just made durable (see Engine.applyReplicated). */
  applyReplicated(frames: readonly Frame[]): void {
    if (this.role !== 'standby') throw new RangeError('only a standby applies replicated frames')
    this.engine.applyReplicated(frames)
  }

  /** Takes a snapshot now (admin endpoint); null when nothing changed since the newest one. */
  snapshot(): Promise<SnapshotTaken | null> {
    return this.snapshotter.take()
  }

  get ready(): boolean {
    return this.readyFlag && this.engine.wal.fatalError === null
  }

  /**
   * Grows while a stop advances, stays put while it is stuck (serve's bound: src/runtime/stop-watch.ts): its steps done, the
   * log's durable records and segments removed, the snapshots' steps (Snapshotter.progress); each part only grows.
   */
  get stopProgress(): number {
    const { wal } = this.engine
    return this.stopSteps + wal.lastLsn + wal.firstLsn + this.snapshotter.progress
  }

  /**
   * Stops the executor and venue subscriptions, drains the commit queue before the seal (stop-drain.ts), closes the
   * log. Once: a second call (an HA node's stop() after a role change that was itself stopping this gateway) waits for
   * the first instead of sealing and snapshotting again. `forTakeover`: an HA takeover starts a leader on this data dir next (snapshotter.ts
   * takesShutdownSnapshot: the snapshot is skipped when the leader's replay costs less).
   */
  stop(options: { forTakeover?: boolean } = {}): Promise<void> {
    this.stopRun ??= this.stopOnce(options.forTakeover === true)
    return this.stopRun
  }

  private async stopOnce(forTakeover: boolean): Promise<void> {
    this.readyFlag = false
    // Scoring stops first. Left running, it scored the venues whose sessions the next step ends CRITICAL, recorded a
    // level after the shutdown seal (the next start took it for a record appended while no gateway ran: ANCHOR_MISMATCH)
    // and, once the log closed, asked it to record at every tick for as long as the process lived (an HA role change).
    this.venueHealth?.stop()
    this.autoStop?.stop()
    this.overrideLapses.stop()
    this.ttlExpiries.stop()
    await this.stopVenueSessions()
    this.stopSteps++
    this.readBacks.stop()
    this.reportIntake.stop()
    this.executor.stop()
    this.audit?.stop()
    const drain = await drainForStop(this.engine, this.clock)
    this.stopSteps++
    if (!drain.settled) this.options.onError(new Error(`${drain.pending} command(s) still wait for the log ${STOP_DRAIN_MS_MAX} ms into the stop; sealing without waiting longer`), 'stopping')
    // A clean shutdown seals the head, so the last records are covered by a signature. A deposed leader does not: its
    // log could not acknowledge the seal, and the frame would stay on its disk as a record the new leader lacks, so
    // the node would diverge when it follows (its log moved aside, everything copied again).
    if (leaseStillHeld(this.engine.wal.options.lease)) await this.audit?.sealAtShutdown().catch((error: unknown) => this.options.onError(error, 'shutdown seal'))
    this.stopSteps++
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
    this.snapshotter.stop()
    await this.snapshotter.idle()
    if (this.snapshotter.takesShutdownSnapshot(forTakeover)) {
      await this.snapshotter.take().catch((error: unknown) => this.options.onError(error, 'snapshot at shutdown'))
    }
    await this.engine.wal.close()
  }

  /** Ends the venue sessions that live on the log (GatewayOptions.venueSessions) while it is open; once. */
  private async stopVenueSessions(): Promise<void> {
    if (!this.venueSessionsStarted) return
    this.venueSessionsStarted = false
    await this.options.venueSessions?.stop().catch((error: unknown) => this.options.onError(error, 'stopping venue sessions'))
  }

  /** Checks the open orders that have had no news for a sweep interval (open-order-sweep.ts; GatewayOptions.reconcileSweepMs). */
  sweep(): Promise<SweepReport> {
    return this.readBacks.sweep()
  }
}

/** Says (LOG_TAIL_TRUNCATED) when the log's open cut a torn tail: records written and never acknowledged are gone. */
function noteTailCut(wal: Wal, options: GatewayOptions): void {
  const notice = tailTruncationNotice(wal.recovery)
  if (notice !== null) options.log?.(notice)
}
