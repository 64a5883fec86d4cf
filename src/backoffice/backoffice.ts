/**
 * The back office of one running gateway: the projector (ledger + query model), mark prices for unrealized PnL, and
 * reconciliation — internal and against every venue — with its breaks appended to the log. One per gateway:
 * `backOfficeOf(gateway)` (backoffice-of.ts) opens it on first use (the query model lives in
 * `<dataDir>/backoffice.sqlite`) and closes it when the gateway stops. Reconcile runs every `reconcileIntervalMs` on its own; nobody triggers it over
 * HTTP (the back office's routes only read).
 */

import type { Clock } from '../domain/clock.ts'
import type { Units } from '../domain/decimal.ts'
import type { Engine } from '../runtime/engine.ts'
import type { PriceSource } from '../runtime/market-feed.ts'
import { WORK_SLICE_DEFAULTS, WorkSlices } from '../runtime/work-slices.ts'
import type { VenueAdapter } from '../venues/adapter.ts'
import { StoredBookSums } from './book-sums.ts'
import { encodeBackOfficeRecord, type OpenBreak, type ReconcileCheck } from './breaks.ts'
import { CoveredKeys } from './covered-keys.ts'
import { reconcileVenue, type BalanceBasis, type ExternalResult, type FillReads, type VenueSource } from './external-checks.ts'
import { ledgerBalanced, ledgerFigures, ledgerVsKernel, ledgerVsReplay, ledgerVsStore, type Observation } from './internal-checks.ts'
import { Projector, PROJECTOR_DEFAULTS, type ProjectorStats } from './projector.ts'
import { BACKOFFICE_PACING, type BackOfficePacing } from './loop-pace.ts'
import { breakRecordsMax, reconcileRecords, type ReconcileRun } from './reconcile-records.ts'
import { REPLAY_FOLLOW_DEFAULTS, ReplayFollower } from './replay-follower.ts'
import { VenueSuspects } from './venue-suspects.ts'
import type { WriteFailureReport } from './write-failures.ts'
import type { WorkerThreadStatus } from '../runtime/worker-channel.ts'

export interface BackOfficeOptions {
  engine: Engine
  clock: Clock
  storePath: string
  venues: { adapter: VenueAdapter; prices: PriceSource; balanceBasis: BalanceBasis }[]
  flushIntervalMs?: number
  batchRowsMax?: number
  /** How often reconcile runs on its own; null: only when asked (tests, scripts). */
  reconcileIntervalMs?: number | null
  /** The back-office section of the snapshot the gateway started from, if any (see ProjectorOptions.section). */
  section?: Uint8Array
  /** See ProjectorOptions.refuseStoreBeyondLog. */
  refuseStoreBeyondLog?: boolean
  /** How its work is paced on the loop; default BACKOFFICE_PACING (UNPACED_BACKOFFICE: the deterministic simulation). */
  pacing?: BackOfficePacing
  /** See ProjectorOptions.report: where failed query model writes are told (the gateway's onError). */
  report?: WriteFailureReport
}

/** The reconcile interval when none is given; `egress serve` passes config `backoffice.reconcileIntervalMs`. */
export const BACKOFFICE_DEFAULTS = { reconcileIntervalMs: 10_000 } as const

export interface ReconcileResult {
  runId: string
  atMs: number
  asOfLsn: number
  checks: ReconcileCheck[]
  skipped: { check: ReconcileCheck; detail: string }[]
  /** Every difference this run saw (open breaks, whether new or not, and suspects). */
  observations: Observation[]
  /** Venue checks' differences not confirmed yet: seen for the first time, changing, or explained by fills in flight (venue-suspects.ts). */
  suspected: string[]
  opened: string[]
  cleared: string[]
  /** Breaks of a venue no longer configured, closed as `venue_retired` (reconcile-records.ts). */
  retired: string[]
}

/** How many times reconcile waits for the engine to be idle before comparing with the kernel anyway is skipped. */
const SETTLE_ATTEMPTS_MAX = 20

/** One event-loop turn: timers and I/O run between two accounts' venue checks. */
const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export class BackOffice {
  readonly projector: Projector
  readonly engine: Engine
  readonly clock: Clock
  private readonly venues: BackOfficeOptions['venues']
  private readonly pacing: BackOfficePacing
  private running: Promise<ReconcileResult> | null = null
  /** The query model's postings summed per book, carried between runs (each run reads only what was stored since). */
  private readonly storedBookSums = new StoredBookSums()
  /** The replay ledger, in its worker: folded in the background between runs (when reconcile runs on its own) and for each run. */
  private readonly follower: ReplayFollower
  /**
   * What the venue checks saw last run: their differences open a break only once confirmed (venue-suspects.ts). Null
   * until the first run takes them from the last run in the log (the projection has caught up by then).
   */
  private suspects: VenueSuspects | null = null
  private reconciling = false
  private runCount = 0
  lastResult: ReconcileResult | null = null
  /** The last reconcile run that failed (the log refused its records, an adapter threw), if any. */
  lastError: { atMs: number; message: string } | null = null
  private timerCancel: (() => void) | null = null
  private closed = false

  constructor(options: BackOfficeOptions) {
    this.engine = options.engine
    this.clock = options.clock
    this.venues = options.venues
    this.pacing = options.pacing ?? BACKOFFICE_PACING
    this.projector = Projector.open({
      engine: options.engine,
      clock: options.clock,
      storePath: options.storePath,
      flushIntervalMs: options.flushIntervalMs ?? PROJECTOR_DEFAULTS.flushIntervalMs,
      batchRowsMax: options.batchRowsMax ?? PROJECTOR_DEFAULTS.batchRowsMax,
      ...(options.section === undefined ? {} : { section: options.section }),
      ...(options.refuseStoreBeyondLog === undefined ? {} : { refuseStoreBeyondLog: options.refuseStoreBeyondLog }),
      ...(options.report === undefined ? {} : { report: options.report }),
    })
    this.follower = new ReplayFollower({ wal: options.engine.wal, base: () => this.projector.replayBaseLedger() })
    const intervalMs = options.reconcileIntervalMs === undefined ? BACKOFFICE_DEFAULTS.reconcileIntervalMs : options.reconcileIntervalMs
    if (intervalMs !== null) {
      this.scheduleReconcile(intervalMs)
      // Only with reconcile on its own (serve): tests and scripts that reconcile on demand fold at each run, as before.
      this.follower.follow({
        clock: options.clock,
        intervalMs: REPLAY_FOLLOW_DEFAULTS.intervalMs,
        target: () => this.projector.ledger.lastLsn,
        held: () => this.reconciling || this.closed,
      })
    }
  }

  /** The replay worker's thread: running, its priority, how long an answer has been awaited. */
  get replayThread(): WorkerThreadStatus {
    return this.follower.threadStatus
  }

  /**
   * Whether an answer of the replay worker is awaited, and a promise of when none is: a driver of a simulated clock
   * waits for it before moving the clock, so the answer (which comes in real time) lands at a defined simulated instant.
   */
  get replayBusy(): boolean {
    return this.follower.busy
  }

  replayIdle(): Promise<void> {
    return this.follower.idle()
  }

  get openBreaks(): OpenBreak[] {
    return [...this.projector.breaks.open.values()]
  }

  stats(): ProjectorStats {
    return this.projector.stats()
  }

  /** The venue's reference price for marking, or null when it has none. */
  markPrice(venue: string, symbol: string): Units | null {
    return this.venues.find((source) => source.adapter.venue === venue)?.prices.referencePrice(symbol)?.price ?? null
  }

  /** Runs one reconcile (a run already under way is joined, not repeated). */
  reconcile(): Promise<ReconcileResult> {
    if (this.running !== null) return this.running
    this.running = this.runReconcile().finally(() => (this.running = null))
    return this.running
  }

  /** Stops reconciling on its own and waits for a run under way; the projection keeps following the log. */
  async quiesce(): Promise<void> {
    this.timerCancel?.()
    this.timerCancel = null
    this.closed = true
    await this.running?.catch(() => undefined)
    await this.follower.stop()
  }

  close(): void {
    this.closed = true
    this.timerCancel?.()
    void this.follower.stop()
    this.projector.close()
  }

  private scheduleReconcile(intervalMs: number): void {
    this.timerCancel = this.clock.schedule(intervalMs, () => {
      if (this.closed) return
      this.reconcile().then(
        () => (this.lastError = null),
        (error: unknown) => (this.lastError = { atMs: this.clock.nowMs(), message: error instanceof Error ? error.message : String(error) }),
      ).finally(() => {
        if (!this.closed) this.scheduleReconcile(intervalMs)
      })
    })
  }

  private async runReconcile(): Promise<ReconcileResult> {
    // A run judged against a break book that lacks a record (one of the log's this build cannot read) would open breaks
    // open already, or miss one to clear: refused, with the record's SchemaError.
    if (this.projector.breaksUnread !== null) throw this.projector.breaksUnread
    const runId = `rc-${this.clock.nowMs()}-${++this.runCount}`
    this.reconciling = true
    try {
      const internal = await this.internal()
      const external = await this.external()
      const checks = [...internal.ran, ...external.ran]
      const observations = [...internal.observations, ...external.observations]
      const result = await this.record({ runId, checks, skipped: [...internal.skipped, ...external.skipped], observations, coveredKeys: external.coveredKeys, inFlight: external.inFlight, explained: external.explained, accountOf: external.accountOf, skippedVenues: external.skippedVenues, venues: new Set(this.venues.map(({ adapter }) => adapter.venue)) })
      this.lastResult = result
      return result
    } finally {
      this.reconciling = false
    }
  }

  /**
   * Compares at one instant: after the engine settles, with no await between reading the three live sides (kernel,
   * ledger, query model). The replay side needs no instant: the log up to that LSN never changes, so the replay
   * worker folds to exactly that LSN afterwards and answers its figures (the follower has usually folded most of it
   * already; the run first catches it up, so the last request is small). No background fold starts meanwhile
   * (`reconciling`), and one under way is waited for.
   */
  private async internal(): Promise<{ ran: ReconcileCheck[]; skipped: { check: ReconcileCheck; detail: string }[]; observations: Observation[] }> {
    const ledger = this.projector.ledger
    const wal = this.engine.wal
    for (let attempt = 0; attempt < SETTLE_ATTEMPTS_MAX; attempt++) {
      await this.follower.idle()
      const replayable = this.follower.ready()
      // A gap (a compaction removed records not yet folded) stops the replay; the next attempt starts it over.
      if (replayable && (await this.follower.catchUp(ledger.lastLsn)) === 'gap') continue
      await this.readStoredPostings()
      await this.engine.settled()
      if (this.engine.state.lastLsn !== ledger.lastLsn) continue
      const lastAttempt = attempt === SETTLE_ATTEMPTS_MAX - 1
      if (!this.projector.flush()) continue
      const rows = this.projector.balanceRows()
      this.storedBookSums.advanceAll(this.projector.store, ledger.lastLsn)
      // A held query model keeps the history the ledger lacks (projector-start.ts): the two are not compared.
      const held = this.projector.storeHeld
      const observations = [
        ...ledgerVsKernel(rows, this.engine.state, ledger),
        ...(held === null ? ledgerVsStore(ledger, rows, this.projector.store, this.storedBookSums.value) : []),
        ...ledgerBalanced(ledger),
      ]
      if (!replayable) {
        const detail = `the log starts at LSN ${wal.firstLsn} (compacted) and no snapshot section below it is at hand`
        const skipped: { check: ReconcileCheck; detail: string }[] = [{ check: 'ledger_vs_replay', detail }]
        if (held !== null) skipped.push({ check: 'ledger_vs_store', detail: held })
        const ran: ReconcileCheck[] = held === null ? ['ledger_vs_kernel', 'ledger_vs_store', 'ledger_balanced'] : ['ledger_vs_kernel', 'ledger_balanced']
        return { ran, skipped, observations }
      }
      const asOfLsn = ledger.lastLsn
      const live = ledgerFigures(ledger)
      const replayed = await this.follower.figuresAt(asOfLsn)
      if (replayed === 'gap') {
        if (!lastAttempt) continue
        const detail = `the log was compacted past the replay ledger (LSN ${this.follower.foldedLsn}) while it caught up; it starts over on the next run`
        return { ran: ['ledger_vs_kernel', 'ledger_vs_store', 'ledger_balanced'], skipped: [{ check: 'ledger_vs_replay', detail }], observations }
      }
      observations.push(...ledgerVsReplay(live, replayed))
      return { ran: ['ledger_vs_kernel', 'ledger_vs_store', 'ledger_vs_replay', 'ledger_balanced'], skipped: [], observations }
    }
    const detail = `the ledger (LSN ${ledger.lastLsn}) did not catch up with the kernel (LSN ${this.engine.state.lastLsn})`
    return {
      ran: ['ledger_balanced'],
      skipped: (['ledger_vs_kernel', 'ledger_vs_store', 'ledger_vs_replay'] as const).map((check) => ({ check, detail })),
      observations: ledgerBalanced(ledger),
    }
  }

  /**
   * Sums what the query model stored since the last run, in pages paced to the back office's share of the loop (so a run
   * with much to read takes longer instead of holding the loop); the instant of comparison reads only the rest.
   */
  private async readStoredPostings(): Promise<void> {
    this.projector.flush()
    const pause = this.pacing.pause()
    while (!this.storedBookSums.advance(this.projector.store, this.projector.store.lastLsn)) await pause()
  }

  /** Every venue's checks, merged; `skippedVenues`: per check skipped for some venue, which (venue-suspects.ts noteRun). */
  private async external(): Promise<ExternalResult & { skippedVenues: Map<ReconcileCheck, Set<string>> }> {
    const ran = new Set<ReconcileCheck>()
    const skippedVenues = new Map<ReconcileCheck, Set<string>>()
    const merged: ExternalResult = { ran: [], skipped: [], observations: [], coveredKeys: new Map(), inFlight: new Set(), explained: new Set(), accountOf: new Map() }
    const { skipped, observations, coveredKeys } = merged
    // Each venue call's deadline, on this clock (external-checks.ts): one answered at it is told in its check's skip detail.
    const deadlines = { clock: this.clock, passed: () => undefined }
    for (const venue of this.venues) {
      const source: VenueSource = { adapter: venue.adapter, balanceBasis: venue.balanceBasis }
      // One event-loop turn between accounts, not backOfficePause: a slice would count the venue's answer time as work.
      // Inside one account's check, its walks over held orders pause as its other loop work does (a bounded share).
      const slices = new WorkSlices({ sliceMs: WORK_SLICE_DEFAULTS.sliceMs, pause: this.pacing.pause(), nowMs: this.pacing.sliceNowMs })
      const result = await reconcileVenue(source, this.projector.ledger, this.projector.fillReads(), { nowMs: () => this.clock.nowMs(), pause: yieldTurn, slices, openBreakKeys: this.projector.breaks.open.keys(), deadlines })
      for (const check of result.ran) ran.add(check)
      skipped.push(...result.skipped)
      for (const { check } of result.skipped) {
        let venues = skippedVenues.get(check)
        if (venues === undefined) skippedVenues.set(check, (venues = new Set()))
        venues.add(venue.adapter.venue)
      }
      observations.push(...result.observations)
      for (const key of result.inFlight) merged.inFlight.add(key)
      for (const key of result.explained) merged.explained.add(key)
      for (const [key, accountId] of result.accountOf) merged.accountOf.set(key, accountId)
      for (const [check, keys] of result.coveredKeys) {
        let all = coveredKeys.get(check)
        if (all === undefined) coveredKeys.set(check, (all = new CoveredKeys()))
        all.addAll(keys)
      }
    }
    // A check skipped for any venue did not run: its breaks (for every venue) stay as they are.
    for (const { check } of skipped) ran.delete(check)
    return { ...merged, ran: [...ran], skippedVenues }
  }

  /** Writes the run's records (reconcile-records.ts) in one append, then adopts the suspects they confirm. */
  private async record(run: ReconcileRun): Promise<ReconcileResult> {
    const atMs = this.clock.nowMs()
    const suspects = (this.suspects ??= VenueSuspects.ofLastRun(this.projector.breaks.lastRun))
    const asOfLsn = this.projector.ledger.lastLsn
    const recordsMax = breakRecordsMax(this.engine.wal.options.queueRecordsMax)
    const planned = reconcileRecords(run, { atMs, asOfLsn, open: this.projector.breaks.open, suspects, recordsMax })
    const lsns = await this.engine.appendRecords(planned.records.map(encodeBackOfficeRecord))
    this.projector.noteOwnRecords(planned.records.map((record, index) => ({ lsn: lsns[index] as number, record })))
    // After the append: a run whose records the log refused confirms nothing for the next one.
    this.suspects = planned.suspectsAfter
    const { opened, cleared, retired, suspected } = planned
    return { runId: run.runId, atMs, asOfLsn, checks: run.checks, skipped: run.skipped, observations: [...planned.seen.values()], suspected, opened, cleared, retired }
  }
}
