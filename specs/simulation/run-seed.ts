/**
 * One simulation run: a seed's scenario, a world on it, the seeded workload step by step with every invariant
 * checked after each step, then the venue healed and the run driven until quiescent and checked against the venue,
 * the ledger and a replay of the log from scratch. Deterministic: the same seed gives the same run, so a failure is
 * reproduced with `bun scripts/sim.ts --seed N`.
 */

import { venueHealthDefaults } from '../../src/config/index.ts'
import { mkdtempSync } from 'node:fs'
import { join } from 'node:path'
import type { Units } from '../../src/domain/decimal.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { Engine } from '../../src/runtime/index.ts'
import { OPEN_AT_VENUE } from '../../src/runtime/bootstrap.ts'
import { paperFundings } from '../../src/runtime/paper.ts'
import { Wal } from '../../wal/index.ts'
import { BackOfficeChecks, BACKOFFICE_CHECK_STEPS, type BackOfficeMode } from './backoffice-checks.ts'
import { KNOWN_ISSUES } from './known-issues.ts'
import { ACCOUNTS, opsUser, removeDir, run, startWorld, sweepReadBackMsMax, T0, tempDataDir } from '../runtime/harness.ts'
import {
  checkFills,
  checkLedger,
  checkNoDoubleSend,
  checkReservations,
  checkVenueAgreement,
  venueOrdersByOrderId,
  type Violation,
} from './invariants.ts'
import { Monitor, type PriorityInversion } from './monitor.ts'
import { checkOrderListsSettled, checkOrderListState, OcoWatch } from './oco-checks.ts'
import { runUntilQuiescent } from './quiescence.ts'
import { RetiredOrders } from './retired-orders.ts'
import { VenueWatch, type StatusQuery } from './venue-watch.ts'
import { Draw, drawScenario, SYMBOLS, type Scenario } from './scenario.ts'
import { act, ACTION_WEIGHTS, ACTION_WEIGHTS_WITHOUT_AMEND, ACTION_WEIGHTS_WITHOUT_LISTS, type WorkloadContext } from './workload.ts'

/**
 * Venue health scoring on in every seed (config defaults but a short window and few samples, so the faults the seeds
 * inject move venues to DEGRADED and CRITICAL and back): its records, check 8's blocks and the replay of both are
 * checked by every invariant.
 */
const SIM_VENUE_HEALTH = { ...venueHealthDefaults(), windowMs: 5_000, samplesMin: 5, evaluateEveryMs: 500 }

export interface SeedOptions {
  /** Workload steps before healing. */
  steps: number
  /** Each step advances simulated time by a uniform 0..stepMsMax ms after its action. */
  stepMsMax: number
  /** Receives one line per step (for `--verbose`). */
  trace?: (line: string) => void
  /** Fail on violations attributed to known, reported bugs too (default: count and list them). */
  strict?: boolean
  /** The workload as it was before amends joined it, to replay seeds found then step for step. */
  withoutAmend?: boolean
  /** The workload as it was before OCO lists joined it (amends in), to replay seeds found then step for step. */
  withoutLists?: boolean
  /** Check the back office too (backoffice-checks.ts): 'on', or 'snapshots' with its section in periodic snapshots. */
  backOffice?: BackOfficeMode
}

export interface KnownFinding {
  issue: string
  step: number
  message: string
}

export interface SeedFailure {
  seed: number
  /** Step number (1-based); `steps + 1` is the end-of-run phase. */
  step: number
  violations: Violation[]
  /** The last actions before the failure. */
  recent: string[]
  replay: string
}

export interface SeedResult {
  seed: number
  steps: number
  checks: number
  failure: SeedFailure | null
  /** Digest of the final kernel state (null when the seed failed before the end): equal for equal runs. */
  digest: string | null
  /** Violations attributed to known issues (non-strict runs only). */
  known: KnownFinding[]
  stats: SeedStats
}

export interface SeedStats {
  simulatedMs: number
  orders: number
  venueOrders: number
  restarts: number
  unknowns: number
  unknownDwellMsMax: number
  lane0Sends: number
  lane0WaitMsMax: number
  lane0WaitBoundMs: number
  convergeBoundMs: number
  duplicatePlaces: number
  reportsDropped: number
  reportsDuplicated: number
  /** Venue calls asking about one order (read-backs and reconciles), and for the list of open orders (sweeps). */
  statusReads: number
  openOrderLists: number
  /** Venue trades whose cash (qty × price) is not a whole 1e-8 unit, so it rounds (RND-USD, with the back office checked). */
  cashRoundedTrades: number
  counters: Record<string, number>
}

/** Every invariant failure stops the seed: a broken state makes later findings noise. */
class SeedFailed extends Error {
  constructor(readonly violations: Violation[]) {
    super(violations.map((violation) => `${violation.invariant}: ${violation.message}`).join('\n'))
  }
}

/** The gateway's reconcile retry after an unanswered query (see specs/runtime/harness.ts). */
const RECONCILE_RETRY_MS = 500

export async function runSeed(seed: number, options: SeedOptions): Promise<SeedResult> {
  const scenario = drawScenario(seed, { steps: options.steps, horizonMs: options.steps * (options.stepMsMax / 2) })
  const runner = new SeedRunner(scenario, options)
  return runner.run()
}

class SeedRunner {
  readonly scenario: Scenario
  readonly options: SeedOptions
  readonly monitor = new Monitor()
  readonly retired = new RetiredOrders()
  readonly oco = new OcoWatch()
  readonly recent: string[] = []
  readonly cumQty = new Map<string, Units>()
  readonly pending: Violation[] = []
  readonly known: KnownFinding[] = []
  /** Longest a single adapter call can take, as seen by the executor. */
  readonly callMsMax: number
  readonly convergeBoundMs: number
  ctx: WorkloadContext | null = null
  readonly watch = new VenueWatch()
  readonly backOffice: BackOfficeChecks
  step = 0
  checks = 0
  restarts = 0
  digest: string | null = null

  constructor(scenario: Scenario, options: SeedOptions) {
    this.scenario = scenario
    this.options = options
    this.backOffice = new BackOfficeChecks(options.backOffice ?? 'off')
    const { venue, params } = scenario
    // The sim answers every call within requestTimeoutMs (a lost answer or an outage answers exactly then).
    this.callMsMax = venue.requestTimeoutMs
    // Once healed: a query already in flight may time out (requestTimeoutMs), the executor waits reconcileRetryMs,
    // "not found" is not trusted before the grace time and is asked again after the recheck time; each query is a
    // round trip.
    this.convergeBoundMs =
      venue.requestTimeoutMs + RECONCILE_RETRY_MS + (params.reconcileGraceMs ?? 5_000) + (params.reconcileRecheckMs ?? 1_000) + 4 * venue.latencyMsMax + 100
  }

  /**
   * Lane0 bound: Lane0 is FIFO and goes first, so an eligible cancel may wait for one call in flight — its own order's,
   * or on a full instrument the first of its calls to answer — and for the Lane0 work queued ahead of it — each at most
   * one call long — and for
   * nothing else: new orders, however many, add nothing. The executor picks the cancel in the pump that follows the
   * last of those answers, at the same simulated instant; the slack covers one venue round trip.
   */
  lane0BoundMs(callsAhead: number): number {
    return callsAhead * this.callMsMax + 2 * this.scenario.venue.latencyMsMax + 10
  }

  async run(): Promise<SeedResult> {
    const venueOptions = { ...this.scenario.venue, ...this.backOffice.venueOptions().venueOptions }
    const world = await startWorld({ seed: this.scenario.seed, dir: simDataDir(), faults: this.scenario.faults, venueOptions, params: this.scenario.params, venueHealth: SIM_VENUE_HEALTH, ...this.backOffice.worldOptions() })
    this.backOffice.attach(world)
    const startMs = world.clock.nowMs()
    this.watch.listen(world.venue, world.clock)
    const ctx: WorkloadContext = {
      world,
      scenario: this.scenario,
      symbols: this.backOffice.symbols,
      draw: new Draw(this.scenario.seed, 'workload'),
      sent: new Map(),
      accepted: [],
      counters: {},
      violation: (invariant, message) => void this.pending.push({ invariant, message }),
      crashRestart: () => this.crashRestart(),
      sequence: 0,
      lists: [],
    }
    this.ctx = ctx
    this.monitor.attach(world.gateway.engine, world.clock.nowMs())
    this.retired.attach(world.gateway.engine)
    this.oco.attach(world.gateway.engine)
    let failure: SeedFailure | null = null
    try {
      for (this.step = 1; this.step <= this.scenario.steps; this.step++) await this.runStep(ctx)
      this.step = this.scenario.steps + 1
      await this.finish(ctx)
    } catch (error) {
      const violations = error instanceof SeedFailed ? error.violations : [{ invariant: 'runtime-errors', message: `threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` }]
      failure = { seed: this.scenario.seed, step: this.step, violations, recent: this.recent.slice(-12), replay: `bun scripts/sim.ts --seed ${this.scenario.seed} --steps ${this.options.steps} --step-ms ${this.options.stepMsMax}${this.options.withoutAmend === true ? ' --without-amend' : ''}${this.options.withoutLists === true ? ' --without-lists' : ''} --verbose` }
      this.monitor.detach()
      await ctx.world.gateway.stop().catch(() => undefined)
    } finally {
      this.retired.detach()
      this.oco.detach()
      this.watch.close()
      removeDir(ctx.world.dir)
    }
    return { seed: this.scenario.seed, steps: Math.min(this.step, this.scenario.steps), checks: this.checks, failure, digest: this.digest, known: this.known, stats: this.stats(ctx, startMs) }
  }

  async runStep(ctx: WorkloadContext): Promise<void> {
    const kind = ctx.draw.weighted(this.options.withoutAmend === true ? ACTION_WEIGHTS_WITHOUT_AMEND : this.options.withoutLists === true ? ACTION_WEIGHTS_WITHOUT_LISTS : ACTION_WEIGHTS)
    const atMs = ctx.world.clock.nowMs() - T0
    const line = `step ${this.step} t=${atMs} ${await act(ctx, kind)}`
    const advanceMs = ctx.draw.int(0, this.options.stepMsMax)
    await run(ctx.world, advanceMs)
    this.note(`${line} (+${advanceMs} ms)`)
    this.checkStep(ctx)
    if (this.backOffice.enabled && this.step % BACKOFFICE_CHECK_STEPS === 0) this.raise(await this.backOffice.duringRun(ctx.world))
  }

  note(line: string): void {
    this.recent.push(line)
    if (this.recent.length > 50) this.recent.shift()
    this.options.trace?.(line)
  }

  checkStep(ctx: WorkloadContext): void {
    const live = ctx.world.gateway.engine.state
    // Every order egress accepted, retired ones included (see retired-orders.ts).
    const state = this.retired.view(live)
    const inspection = ctx.world.venue.inspect()
    const violations = [...this.pending.splice(0), ...this.retired.check(live)]
    violations.push(...checkNoDoubleSend(state, inspection))
    violations.push(...checkFills(state, this.cumQty, venueOrdersByOrderId(inspection)))
    violations.push(...checkReservations(state))
    violations.push(...this.oco.drain(), ...checkOrderListState(state))
    const { lane0Waits, inversions } = this.monitor.drain()
    for (const wait of lane0Waits) {
      const boundMs = this.lane0BoundMs(wait.callsAhead)
      if (wait.waitMs <= boundMs) continue
      const message = `cancel of ${wait.orderId} waited ${wait.waitMs} ms in Lane0 (eligible at ${wait.eligibleAtMs - T0}, sent at ${wait.sentAtMs - T0}, ${wait.callsAhead} call(s) ahead); bound ${boundMs} ms`
      // Overtaken because of a known executor bug, a cancel may wait for one more call and the executor's reconcile
      // back-off: never longer than that.
      const knownBoundMs = this.lane0BoundMs(wait.callsAhead + 1) + RECONCILE_RETRY_MS
      const causes = wait.overtakers.map((inversion) => knownInversion(inversion, { callMsMax: this.callMsMax, watch: this.watch }))
      if (heldByReconcile(this.watch.statusQueries(wait.orderId), { fromMs: wait.eligibleAtMs, toMs: wait.sentAtMs }, this.callMsMax)) causes.push('executor-reconcile-backoff-blocks-lane0')
      const cause = causes[0]
      const known = cause !== undefined && cause !== null && causes.every((other) => other !== null) && wait.waitMs <= knownBoundMs ? { known: cause } : {}
      violations.push({ invariant: 'lane0-bounded', message, ...known })
    }
    for (const inversion of inversions) {
      const message = `at ${inversion.atMs - T0} a Lane${inversion.sentLane} send of ${inversion.sentOrderId} went out while Lane0 work for ${inversion.lane0OrderId}, ahead of it, was eligible (${inversion.sameInstrument ? 'same' : 'another'} instrument)`
      const known = knownInversion(inversion, { callMsMax: this.callMsMax, watch: this.watch })
      const queries = this.watch.statusQueries(inversion.lane0OrderId).map((query) => `${query.askedAtMs - T0}→${query.answeredAtMs === null ? '…' : `${query.answeredAtMs - T0}${query.ok ? '' : ' (no answer)'}`}`)
      const queried = queries.length === 0 ? '' : `; its reconcile queries: ${queries.join(', ')}`
      violations.push({ invariant: 'lane0-priority', message: message + queried, ...(known === null ? {} : { known }) })
    }
    for (const error of ctx.world.errors.splice(0)) violations.push({ invariant: 'runtime-errors', message: error })
    this.checks++
    this.raise(violations)
  }

  /** Records violations of known issues (unless strict) and fails the seed on any other. */
  raise(violations: Violation[]): void {
    const failing: Violation[] = []
    for (const violation of violations) {
      // Only an issue still listed in KNOWN_ISSUES is tolerated; a signature of a fixed bug fails the run again.
      if (violation.known !== undefined && violation.known in KNOWN_ISSUES && this.options.strict !== true) this.known.push({ issue: violation.known, step: this.step, message: violation.message })
      else failing.push(violation)
    }
    if (failing.length > 0) throw new SeedFailed(failing)
  }

  /** Crash: stop the executor, let pending records land, close the log, abandon the gateway; restart on the same dir. */
  async crashRestart(): Promise<void> {
    const ctx = this.ctx
    if (ctx === null) throw new Error('no run in progress')
    const crashed = ctx.world
    this.monitor.detach()
    this.retired.detach()
    this.oco.detach()
    crashed.gateway.executor.stop()
    await this.backOffice.crash(crashed)
    await crashed.gateway.engine.settled()
    await crashed.gateway.engine.wal.close()
    const violations = await checkReplay(crashed.dir, stateDigest(crashed.gateway.engine.state))
    for (const error of crashed.errors.splice(0)) violations.push({ invariant: 'runtime-errors', message: error })
    this.raise(violations)
    this.watch.up = false
    // Down for a while; the venue keeps trading and its reports to the dead process are lost.
    await crashed.clock.advanceAsync(ctx.draw.int(0, 1_500))
    this.watch.up = true // the new gateway subscribes to reports before it lets the clock move
    ctx.world = await startWorld({ seed: this.scenario.seed, dir: crashed.dir, clock: crashed.clock, venue: crashed.venue, params: this.scenario.params, venueHealth: SIM_VENUE_HEALTH, ...this.backOffice.worldOptions() })
    this.backOffice.attach(ctx.world)
    this.monitor.attach(ctx.world.gateway.engine, ctx.world.clock.nowMs())
    this.retired.attach(ctx.world.gateway.engine)
    this.oco.attach(ctx.world.gateway.engine)
    this.restarts++
  }

  /** Heal, resume, run until quiescent; then check convergence, agreement with the venue, the ledger and replay. */
  async finish(ctx: WorkloadContext): Promise<void> {
    const healedAtMs = ctx.world.clock.nowMs()
    ctx.world.venue.setFaults({})
    if (ctx.world.gateway.engine.state.tradingSwitch !== 'normal') await ctx.world.gateway.killSwitch(opsUser, 'RESUME', 'sim: end of run')
    this.note(`heal at ${healedAtMs}`)
    await runUntilQuiescent(ctx.world)
    this.checkStep(ctx)
    this.checkConvergence(ctx, healedAtMs)
    // Reports lost while faults were on are recovered by the gateway's open-order sweep, which reads back at most
    // RECONCILE_SWEEP_ORDERS_MAX orders per interval, the longest-quiet first: with more orders open than that, an
    // order placed just before the heal waits more than two intervals (seed 30209: 213 open, and the fill report of
    // the last order placed, lost, was not read back two intervals after the heal). Every order with a lost report has
    // been quiet since before now (a later report showing the gap makes it Unknown, and Unknowns converged above), so
    // the bound (sweepReadBackMsMax) runs from here; the read-back's answer takes one call more.
    const openAtVenue = [...ctx.world.gateway.engine.state.orders.values()].filter((order) => OPEN_AT_VENUE.has(order.status)).length
    await run(ctx.world, sweepReadBackMsMax(openAtVenue) + this.scenario.venue.requestTimeoutMs)
    await runUntilQuiescent(ctx.world)
    // Freeze prices so no new fill is on its way while egress and the venue are compared, then let reports land. The
    // venue still expires DAY orders on its own clock: runUntilQuiescent waits until no report of that is on its way.
    const nowMs = ctx.world.clock.nowMs()
    ctx.world.venue.setFaults({ priceStalls: ctx.symbols.map((symbol) => ({ symbol, startMs: nowMs, endMs: nowMs + 864_000_000 })) })
    const { venue } = this.scenario
    await run(ctx.world, venue.requestTimeoutMs + 2 * venue.latencyMsMax + this.scenario.faults.reorderDelayMsMax + 50)
    await runUntilQuiescent(ctx.world)
    this.checkStep(ctx)
    const { state: live } = ctx.world.gateway.engine
    const state = this.retired.view(live)
    const inspection = ctx.world.venue.inspect()
    const funded = new Map(paperFundings(ACCOUNTS).map((funding) => [`${funding.accountId}/${funding.asset}`, funding.amount]))
    const settledLists = checkOrderListsSettled(state)
    ctx.counters.listsBothExecuted = settledLists.bothExecuted
    ctx.counters.listsTriggered = this.oco.stats.triggered
    ctx.counters.listSiblingCancels = this.oco.stats.siblingCancels
    const violations = [...checkVenueAgreement(state, inspection, this.watch), ...checkLedger(state, inspection, funded), ...settledLists.violations]
    // Only once egress and the venue agree: a back-office break would then be the back office's own.
    if (violations.length === 0) violations.push(...(await this.backOffice.atEnd(ctx.world)))
    this.monitor.detach()
    this.retired.detach()
    this.oco.detach()
    await ctx.world.gateway.engine.settled()
    const liveDigest = stateDigest(live)
    this.digest = liveDigest
    await ctx.world.gateway.stop()
    violations.push(...(await checkReplay(ctx.world.dir, liveDigest)))
    this.checks++
    this.raise(violations)
  }

  checkConvergence(ctx: WorkloadContext, healedAtMs: number): void {
    const violations: Violation[] = []
    const { state } = ctx.world.gateway.engine
    for (const order of state.orders.values()) {
      if (order.status === 'Unknown') violations.push({ invariant: 'unknown-converges', message: `order ${order.orderId} still Unknown ${ctx.world.clock.nowMs() - healedAtMs} ms after the venue healed` })
    }
    for (const dwell of this.monitor.drain().dwells) {
      const afterHealMs = dwell.resolvedAtMs - Math.max(dwell.sinceMs, healedAtMs)
      if (dwell.resolvedAtMs > healedAtMs && afterHealMs > this.convergeBoundMs) {
        violations.push({ invariant: 'unknown-converges', message: `order ${dwell.orderId} took ${afterHealMs} ms after healing to converge; bound ${this.convergeBoundMs} ms` })
      }
    }
    this.raise(violations)
  }

  stats(ctx: WorkloadContext, startMs: number): SeedStats {
    const inspection = ctx.world.venue.inspect()
    return {
      simulatedMs: ctx.world.clock.nowMs() - startMs,
      orders: ctx.world.gateway.engine.state.orders.size,
      venueOrders: inspection.orders.length,
      restarts: this.restarts,
      unknowns: this.monitor.unknownCount,
      unknownDwellMsMax: this.monitor.unknownDwellMsMax,
      lane0Sends: this.monitor.lane0Sends,
      lane0WaitMsMax: this.monitor.lane0WaitMsMax,
      lane0WaitBoundMs: this.lane0BoundMs(this.monitor.lane0CallsAheadMax),
      convergeBoundMs: this.convergeBoundMs,
      duplicatePlaces: inspection.requests.duplicatePlaces,
      reportsDropped: inspection.reports.dropped,
      reportsDuplicated: inspection.reports.duplicated,
      statusReads: inspection.requests.calls.orderStatus,
      openOrderLists: inspection.requests.calls.openOrders,
      cashRoundedTrades: inspection.trades.filter((trade) => (trade.qty * trade.price) % 100_000_000n !== 0n).length,
      counters: ctx.counters,
    }
  }
}

/**
 * A fresh data directory, on tmpfs when there is one: the log's directory and lease fsyncs (which durability `none`
 * keeps) would otherwise make a run wait on the disk for most of its wall time.
 */
function simDataDir(): string {
  try {
    return mkdtempSync(join('/dev/shm', 'egress-sim-'))
  } catch {
    return tempDataDir()
  }
}

/** The known executor bug an inversion's signature points to, if any. */
export function knownInversion(inversion: PriorityInversion, context: { callMsMax: number; watch: VenueWatch }): string | null {
  if (inversion.ownPlaceJustAnswered) return 'executor-busy-after-place-result'
  const held = heldByReconcile(context.watch.statusQueries(inversion.lane0OrderId), { fromMs: inversion.atMs, toMs: inversion.atMs }, context.callMsMax)
  return held ? 'executor-reconcile-backoff-blocks-lane0' : null
}

/**
 * Whether the executor may have held the order back for its reconcile at some time in [fromMs, toMs]: it does so
 * while a query is in flight (≤ one call) and, when the venue did not answer, for reconcileRetryMs after.
 */
function heldByReconcile(queries: readonly StatusQuery[], window: { fromMs: number; toMs: number }, callMsMax: number): boolean {
  return queries.some((query) => {
    const heldUntilMs = query.answeredAtMs === null ? Number.POSITIVE_INFINITY : query.answeredAtMs + (query.ok ? 0 : RECONCILE_RETRY_MS)
    return query.askedAtMs <= window.toMs && heldUntilMs >= window.fromMs && query.askedAtMs >= window.fromMs - callMsMax - RECONCILE_RETRY_MS
  })
}

/** 6. Replaying the log from scratch gives the live projections, digest for digest. */
async function checkReplay(dir: string, liveDigest: string): Promise<Violation[]> {
  const wal = Wal.open(join(dir, 'log'), { durability: 'none' })
  try {
    const replayed = stateDigest(Engine.replay(wal).state)
    if (replayed === liveDigest) return []
    return [{ invariant: 'replay-equals-live', message: `replayed digest ${replayed.slice(0, 16)}… ≠ live digest ${liveDigest.slice(0, 16)}…` }]
  } finally {
    await wal.close()
  }
}
