/**
 * The back office under the deterministic simulation (`bun scripts/sim.ts --backoffice`, off by default: its replay
 * worker and query model make a seed about ten times slower). Each world opens its back office at start, as
 * `egress serve` does; a crash abandons it without a last flush, so the restart resumes the query model a crash left.
 * Checked:
 *   - every BACKOFFICE_CHECK_STEPS steps, a reconcile run (the clock moving meanwhile, so reports and fills race it)
 *     opens no internal break: ledger = kernel, = query model, = a replay from the log, balanced;
 *   - at the end, once quiescent and every venue trade older than VENUE_REPORT_LAG_MS_MAX (so no difference passes for
 *     a fill in flight: a standing one is a break when seen twice), two runs leave no break open at all, venue ones
 *     included;
 *   - and the query model, byte for byte (its content digest), equals one rebuilt from the log's first record.
 * With `snapshots`, the gateway also snapshots every 200 records with the back office's section, and a restart starts
 * from it (the ledger from the section, the log after it replayed). Either way the world trades RND-USD besides the
 * default instruments, whose fills' cash rounds (rounding-instrument.ts), so all of the above covers cash rounding.
 * Deterministic like the rest of the run (backoffice-determinism.test.ts): the back office is opened UNPACED (no pause
 * or slice timed by the wall clock) and a reconcile is driven so the replay worker's answers land at defined steps
 * (reconcileDriving).
 */

import type { BackOffice } from '../../src/backoffice/backoffice.ts'
import { backOfficeOf, backOfficeSectionSource, openBackOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { UNPACED_BACKOFFICE } from '../../src/backoffice/loop-pace.ts'
import { QueryModelRebuild } from '../../src/backoffice/rebuild.ts'
import { VENUE_REPORT_LAG_MS_MAX } from '../../src/backoffice/venue-suspects.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import { run, type World, type WorldOptions } from '../runtime/harness.ts'
import type { Violation } from './invariants.ts'
import { runUntilQuiescent } from './quiescence.ts'
import { ROUNDING_SYMBOL, simInstrumentsWithRounding, withRoundingInstrument } from './rounding-instrument.ts'
import { SYMBOLS, type SimSymbol } from './scenario.ts'

export type BackOfficeMode = 'off' | 'on' | 'snapshots'

/** How the sim opens a world's back office: reconcile only when asked, its work paced without real time. */
const SIM_BACKOFFICE = { reconcileIntervalMs: null, pacing: UNPACED_BACKOFFICE } as const

/** Steps between two reconcile runs during the workload. */
export const BACKOFFICE_CHECK_STEPS = 10
/** Simulated ms the clock moves between two looks at a reconcile under way (its venue calls answer on that clock). */
const RECONCILE_STEP_MS = 5
const RECONCILE_STEPS_MAX = 2_000
const INTERNAL_CHECKS = new Set(['ledger_vs_kernel', 'ledger_vs_store', 'ledger_vs_replay', 'ledger_balanced'])

export class BackOfficeChecks {
  private gateway: Gateway | null = null

  constructor(readonly mode: BackOfficeMode) {}

  get enabled(): boolean {
    return this.mode !== 'off'
  }

  /** The symbols the workload trades: with the back office checked, RND-USD too (its cash rounds). */
  get symbols(): readonly SimSymbol[] {
    return this.enabled ? [...SYMBOLS, ROUNDING_SYMBOL] : SYMBOLS
  }

  /** The sim venue's instruments, when they are not the default ones (with the back office checked: RND-USD too). */
  venueOptions(): Pick<WorldOptions, 'venueOptions'> {
    return this.enabled ? { venueOptions: { instruments: simInstrumentsWithRounding() } } : {}
  }

  /**
   * What a world of this run starts with: the kernel config with RND-USD; with snapshots, the policy and the back
   * office's section.
   */
  worldOptions(): Partial<WorldOptions> {
    if (!this.enabled) return {}
    const configure = { configure: withRoundingInstrument }
    if (this.mode !== 'snapshots') return configure
    return { ...configure, snapshots: { everyRecords: 200, keep: 2 }, snapshotSections: [backOfficeSectionSource(() => this.gateway)] }
  }

  /** Opens the back office of a world just started. */
  attach(world: World): void {
    if (!this.enabled) return
    this.gateway = world.gateway
    backOfficeOf(world.gateway, SIM_BACKOFFICE)
  }

  /** A crash: the back office stops where it is, writing nothing more. */
  async crash(world: World): Promise<void> {
    const office = openBackOfficeOf(world.gateway)
    if (office === null) return
    await office.quiesce()
    office.projector.close({ flush: false })
    office.close()
  }

  /** A reconcile run during the workload: its internal breaks are violations (the venue's may be genuine: faults). */
  async duringRun(world: World): Promise<Violation[]> {
    if (!this.enabled) return []
    const office = backOfficeOf(world.gateway, SIM_BACKOFFICE)
    await reconcileDriving(world, office)
    return breakViolations(office, (check) => INTERNAL_CHECKS.has(check))
  }

  /** End of run, quiescent: no break of any check, and the query model equals a rebuild from genesis. */
  async atEnd(world: World): Promise<Violation[]> {
    if (!this.enabled) return []
    const office = backOfficeOf(world.gateway, SIM_BACKOFFICE)
    // Prices are frozen (no fill is coming): once the last trade is overdue, a fill the ledger lacks is not taken for
    // one in flight (venue-suspects.ts), and the second run opens it as it stands.
    await run(world, VENUE_REPORT_LAG_MS_MAX, 50)
    await runUntilQuiescent(world)
    await reconcileDriving(world, office)
    await reconcileDriving(world, office)
    const violations = breakViolations(office, () => true)
    await world.gateway.engine.settled()
    for (let attempt = 0; attempt < 100 && !office.projector.flush(); attempt++) await run(world, RECONCILE_STEP_MS)
    const lsn = office.projector.store.lastLsn
    const live = JSON.stringify(office.projector.store.contentDigest())
    const rebuild = QueryModelRebuild.fromGenesis()
    try {
      for (const frame of world.gateway.engine.wal.read(1, { toLsn: lsn })) rebuild.apply(frame)
      const rebuilt = JSON.stringify(rebuild.digest())
      if (rebuilt !== live) violations.push({ invariant: 'backoffice-agrees', message: `the query model at LSN ${lsn} is not the one a rebuild from genesis gives: ${live} vs ${rebuilt}` })
    } finally {
      rebuild.close()
    }
    return violations
  }
}

/**
 * Runs one reconcile while moving the clock, as serve's timers would: the venue answers on the simulated clock. The
 * clock moves only while the run waits on something that answers on it (a venue, the log), never while it waits on the
 * replay worker's thread, whose answer comes in wall-clock time: the driver waits for that answer first, so it lands
 * at the same simulated instant in every run of a seed. The back office is opened UNPACED (attach), so nothing else in
 * the run waits on real time, and the driver looks between two event-loop turns (setImmediate, in order with the
 * run's own), not after a real timer.
 */
async function reconcileDriving(world: World, office: BackOffice): Promise<void> {
  let done = false
  const running = office.reconcile().finally(() => (done = true))
  for (let step = 0; step < RECONCILE_STEPS_MAX && !done; step++) {
    await new Promise((resolve) => setImmediate(resolve))
    if (done) break
    if (office.replayBusy) await office.replayIdle()
    else await run(world, RECONCILE_STEP_MS)
  }
  // Not done after RECONCILE_STEPS_MAX clock steps: the run waits on something neither the clock nor the worker answers
  // (real time: a source of nondeterminism), and awaiting it here would hang the seed. It fails instead.
  if (!done) {
    running.catch(() => undefined)
    throw new Error(`a reconcile run did not finish within ${RECONCILE_STEPS_MAX} steps of ${RECONCILE_STEP_MS} simulated ms`)
  }
  await running
}

function breakViolations(office: BackOffice, counts: (check: string) => boolean): Violation[] {
  return office.openBreaks
    .filter((open) => counts(open.check))
    .map((open) => ({ invariant: 'backoffice-agrees', message: `${open.check} break ${open.key}: ${open.what}: expected ${open.expected}, actual ${open.actual}` }))
}
