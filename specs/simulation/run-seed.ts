/**
 * One simulation run: a seed's scenario, a world on it, the seeded workload step by step with every invariant
 * checked after each step, then the venue healed and the run driven until quiescent and checked against the venue,
 * the ledger and a replay of the log from scratch. Deterministic: the same seed gives the same run, so a failure is
 * reproduced with `bun scripts/sim.ts --seed N`.
 */

import type { Units } from '../../src/domain/decimal.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { OPEN_AT_VENUE } from '../../src/runtime/bootstrap.ts'
import { paperFundings } from '../../src/runtime/paper.ts'
import { BackOfficeChecks, BACKOFFICE_CHECK_STEPS } from './backoffice-checks.ts'
import { KNOWN_ISSUES } from './known-issues.ts'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import { ACCOUNTS, opsUser, removeDir, run, startWorld, sweepReadBackMsMax, T0, type WorldOptions } from '../runtime/harness.ts'
import { checkFills, checkLedger, checkNoDoubleSend, checkProtectedFills, checkReservations, checkVenueAgreement, venueOrdersByOrderId, type Violation } from './invariants.ts'
import { lane0Violations } from './lane0-checks.ts'
import { Monitor } from './monitor.ts'
import { checkOrderListsSettled, checkOrderListState, OcoWatch } from './oco-checks.ts'
import { TtlWatch } from './ttl-checks.ts'
import { runUntilQuiescent } from './quiescence.ts'
import { checkReplay } from './replay-check.ts'
import { RetiredOrders } from './retired-orders.ts'
import type { SeedOptions } from './seed-options.ts'
import type { KnownFinding, SeedFailure, SeedResult, SeedStats } from './seed-result.ts'
import { RECONCILE_RETRY_MS, SIM_VENUE_HEALTH, simDataDir } from './seed-world.ts'
import { VenueWatch } from './venue-watch.ts'
import { Draw, drawScenario, withScenarioSelfTrade, type Scenario } from './scenario.ts'
import { act, ACTION_WEIGHTS, ACTION_WEIGHTS_WITHOUT_AMEND, ACTION_WEIGHTS_WITHOUT_LISTS, type WorkloadContext } from './workload.ts'

export type { SeedOptions } from './seed-options.ts'
export type { KnownFinding, SeedFailure, SeedResult, SeedStats } from './seed-result.ts'

/** Every invariant failure stops the seed: a broken state makes later findings noise. */
class SeedFailed extends Error {
  constructor(readonly violations: Violation[]) {
    super(violations.map((violation) => `${violation.invariant}: ${violation.message}`).join('\n'))
  }
}

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
  readonly ttl = new TtlWatch()
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

  /** The workload of now, not one of before (SeedOptions.withoutTtl, withoutLists, withoutAmend) that old seeds replay. */
  get currentWorkload(): boolean {
    return this.options.withoutTtl !== true && this.options.withoutLists !== true && this.options.withoutAmend !== true
  }

  /** Market orders allowed and placed: the scenario's draw, in the current workload (older ones placed none). */
  get marketOrders(): boolean {
    return this.scenario.marketOrders && this.currentWorkload
  }

  /**
   * The world's options beyond the scenario's: the back office's, the config also given each account's drawn selfTrade
   * (scenario.ts), and the policies allowing market orders if drawn.
   */
  worldOptions(): Partial<WorldOptions> {
    const options = this.backOffice.worldOptions()
    const configure = options.configure ?? ((config: KernelConfig) => config)
    const marketOrders = this.marketOrders
    return {
      ...options,
      configure: (config) => {
        const drawn = withScenarioSelfTrade(this.scenario, configure(config))
        return marketOrders ? withMarketOrders(drawn) : drawn
      },
    }
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
    const world = await startWorld({ seed: this.scenario.seed, dir: simDataDir(), faults: this.scenario.faults, venueOptions, params: this.scenario.params, venueHealth: SIM_VENUE_HEALTH, ...this.worldOptions() })
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
      withTtl: this.currentWorkload,
      marketOrders: this.marketOrders,
    }
    this.ctx = ctx
    this.monitor.attach(world.gateway.engine, world.clock.nowMs())
    this.retired.attach(world.gateway.engine)
    this.oco.attach(world.gateway.engine)
    this.ttl.attach(world.gateway.engine, world.clock.nowMs())
    let failure: SeedFailure | null = null
    try {
      for (this.step = 1; this.step <= this.scenario.steps; this.step++) await this.runStep(ctx)
      this.step = this.scenario.steps + 1
      await this.finish(ctx)
    } catch (error) {
      const violations = error instanceof SeedFailed ? error.violations : [{ invariant: 'runtime-errors', message: `threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` }]
      failure = { seed: this.scenario.seed, step: this.step, violations, recent: this.recent.slice(-12), replay: `bun scripts/sim.ts --seed ${this.scenario.seed} --steps ${this.options.steps} --step-ms ${this.options.stepMsMax}${this.options.withoutAmend === true ? ' --without-amend' : ''}${this.options.withoutLists === true ? ' --without-lists' : ''}${this.options.withoutTtl === true ? ' --without-ttl' : ''}${this.options.backOffice === 'on' ? ' --backoffice' : this.options.backOffice === 'snapshots' ? ' --backoffice-snapshots' : ''}${this.options.strict === true ? ' --strict' : ''} --verbose` }
      this.monitor.detach()
      await ctx.world.gateway.stop().catch(() => undefined)
    } finally {
      this.retired.detach()
      this.oco.detach()
      this.ttl.detach()
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
    violations.push(...this.ttl.drain(), ...this.ttl.check(live, ctx.world.clock.nowMs()))
    violations.push(...lane0Violations(this.monitor.drain(), { callMsMax: this.callMsMax, watch: this.watch, boundMs: (callsAhead) => this.lane0BoundMs(callsAhead) }))
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
    this.ttl.detach()
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
    ctx.world = await startWorld({ seed: this.scenario.seed, dir: crashed.dir, clock: crashed.clock, venue: crashed.venue, params: this.scenario.params, venueHealth: SIM_VENUE_HEALTH, ...this.worldOptions() })
    this.backOffice.attach(ctx.world)
    this.monitor.attach(ctx.world.gateway.engine, ctx.world.clock.nowMs())
    this.retired.attach(ctx.world.gateway.engine)
    this.oco.attach(ctx.world.gateway.engine)
    this.ttl.attach(ctx.world.gateway.engine, ctx.world.clock.nowMs())
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
    ctx.counters.listRevivedCancels = this.oco.stats.revivedCancels
    ctx.counters.ttlOrders = this.ttl.stats.ttlOrders
    const protectedFills = checkProtectedFills(state, inspection)
    ctx.counters.marketOrders = [...state.orders.values()].filter((order) => order.type === 'market').length
    ctx.counters.protectedTrades = protectedFills.trades
    const violations = [...checkVenueAgreement(state, inspection, this.watch), ...checkLedger(state, inspection, funded), ...settledLists.violations, ...protectedFills.violations]
    // Only once egress and the venue agree: a back-office break would then be the back office's own.
    if (violations.length === 0) violations.push(...(await this.backOffice.atEnd(ctx.world)))
    this.monitor.detach()
    this.retired.detach()
    this.oco.detach()
    this.ttl.detach()
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

/** Every policy allows market orders on each instrument it lists (Scenario.marketOrders). */
function withMarketOrders(config: KernelConfig): KernelConfig {
  return { ...config, policies: config.policies.map((policy) => ({ ...policy, marketOrderInstruments: [...policy.instruments] })) }
}
