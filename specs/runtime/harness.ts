/**
 * A whole egress runtime on a simulated clock: sim venue, log on disk (durability none, flushes on microtasks so the
 * interleaving is reproducible), gateway with bootstrap. Used by the runtime specs, golden traces and the simulation.
 */

import { afterEach } from 'bun:test'
import { cpSync, mkdtempSync, readdirSync, rmSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Principal } from '../../src/domain/accounts.ts'
import type { KernelConfig, KernelParams } from '../../src/domain/kernel-config.ts'
import type { AuditConfig } from '../../src/config/index.ts'
import type { Mode } from '../../src/domain/modes.ts'
import { Gateway, SimClock } from '../../src/runtime/index.ts'
import type { GatewayOptions } from '../../src/runtime/gateway.ts'
import type { SnapshotPolicy } from '../../src/runtime/snapshot/index.ts'
import { openReadOnly, type WalOptions } from '../../wal/index.ts'
import { paperFundings, paperKernelConfig, simDepositsOf, simInstrumentsFor, type PaperAccount } from '../../src/runtime/paper.ts'
import { defaultSimInstruments } from '../../src/domain/instruments.ts'
import { SimVenue, type SimFaults } from '../../src/venues/sim/index.ts'

/** The gateway's open-order sweep interval in these worlds (how soon a lost report is recovered: sweepReadBackMsMax). */
export const RECONCILE_SWEEP_MS = 2_000
/** Orders one sweep reads back at most in these worlds (the gateway's default). */
export const RECONCILE_SWEEP_ORDERS_MAX = 100
/** The executor's bound on calls in flight (Lanes 1–3) in these worlds. */
export const CALLS_IN_FLIGHT_MAX = 64
/** A sweep also takes at most half the call budget left (Gateway.sweep): with nothing else in flight, this many. */
const SWEEP_READS_MAX = Math.min(RECONCILE_SWEEP_ORDERS_MAX, Math.floor(CALLS_IN_FLIGHT_MAX / 2))

/**
 * How long after its last news an order open at the venue may wait until the sweep asks the venue about it, with
 * `openOrders` orders open at the venue (the sweep's candidates) and none placed meanwhile. The order is due at the
 * first sweep at least one interval after its news, less than two intervals after it. Each sweep reads back the
 * `ordersMax` longest-quiet candidates (with nothing else in flight), and each one it reads is then newer than the order, so the orders ahead of it
 * (at most openOrders − 1) shrink by ordersMax per sweep: it is read within ⌊(openOrders − 1) / ordersMax⌋ sweeps
 * after the one it is due at. Two intervals hold only while the candidates fit in one sweep.
 */
export function sweepReadBackMsMax(openOrders: number, ordersMax = SWEEP_READS_MAX): number {
  const sweepsAhead = Math.floor(Math.max(openOrders - 1, 0) / ordersMax)
  return (2 + sweepsAhead) * RECONCILE_SWEEP_MS
}
export const T0 = 1_767_225_600_000 // 2026-01-01T00:00:00Z
export const ACCOUNTS: PaperAccount[] = [
  { accountId: 'acct-a', balances: { USD: '1000000', BTC: '10', ETH: '100', AAPL: '1000' } },
  { accountId: 'acct-b', balances: { USD: '500000', BTC: '5' } },
]
export const traderA: Principal = { id: 'alice', roles: ['trader'], accounts: ['acct-a'], liveAllowed: false }
export const traderB: Principal = { id: 'bob', roles: ['trader'], accounts: ['acct-b'], liveAllowed: false }
export const opsUser: Principal = { id: 'olga', roles: ['ops'], accounts: [], liveAllowed: false }

export interface World {
  dir: string
  clock: SimClock
  venue: SimVenue
  gateway: Gateway
  errors: string[]
}

export interface WorldOptions {
  seed: number
  dir?: string
  clock?: SimClock
  venue?: SimVenue
  faults?: Partial<SimFaults>
  venueOptions?: Partial<ConstructorParameters<typeof SimVenue>[0]>
  params?: Partial<KernelParams>
  /** Rewrites the paper kernel config (instruments, policies) before the gateway starts; golden traces use it. */
  configure?: (config: KernelConfig) => KernelConfig
  /** Audit config (seals, self-check, tamper response); absent: none. */
  audit?: AuditConfig
  /** Snapshot policy (periodic snapshots, compaction, load on restart); absent: the gateway's defaults. */
  snapshots?: Partial<SnapshotPolicy>
  /** Log options over the harness's (durability none, microtask flushes, 1 MiB segments); small segments for compaction. */
  wal?: Partial<WalOptions>
  /** Projections captured into each snapshot besides the kernel (the back office's section). */
  snapshotSections?: GatewayOptions['snapshotSections']
  /** Open-order sweep interval; default RECONCILE_SWEEP_MS, 0 turns it off (nothing reads a lagging order back). */
  reconcileSweepMs?: number
  /** Orders one sweep reads back at most; default RECONCILE_SWEEP_ORDERS_MAX. */
  reconcileSweepOrdersMax?: number
  /** The mode the start is asked for (a config's `mode`); absent: the log's. */
  mode?: Mode
  /** Venue sessions living on the log, started between the restore and bootstrap (GatewayOptions.venueSessions). */
  venueSessions?: GatewayOptions['venueSessions']
  /** GatewayOptions.log: lines for an operator (a torn tail the log's open cut). */
  log?: (line: string) => void
  /** Venue health scoring (GatewayOptions.venueHealth); absent: off. */
  venueHealth?: GatewayOptions['venueHealth']
  /** The auto-stop breakers (GatewayOptions.autoStop); absent: none. */
  autoStop?: GatewayOptions['autoStop']
  /** Lane3's share of the executor's picks (GatewayOptions.lane3Every); absent: the default. */
  lane3Every?: number
  /** Write kernel.command records (GatewayOptions.commandRecords), for `redecideLog`. */
  commandRecords?: boolean
  /** Venues attached besides `venue` (their instruments configured by `configure`). */
  otherVenues?: SimVenue[]
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'egress-runtime-'))
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/**
 * The worlds a spec starts, stopped and their data dirs removed after each test (call at the top of a file or of a
 * describe; push each world started). A stop that fails is ignored: the test said what it had to.
 */
export function worldsStoppedAfterEach(): World[] {
  const worlds: World[] = []
  afterEach(async () => {
    for (const world of worlds.splice(0)) {
      await world.gateway.stop().catch(() => undefined)
      removeDir(world.dir)
    }
  })
  return worlds
}

export function makeVenue(clock: SimClock, seed: number, options: WorldOptions): SimVenue {
  return new SimVenue({ clock, seed, instruments: simInstrumentsFor(defaultSimInstruments()), deposits: simDepositsOf(ACCOUNTS), faults: options.faults ?? {}, ...options.venueOptions })
}

/** Starts (or restarts, when dir/clock/venue are passed) a gateway, driving the clock while bootstrap runs. */
export async function startWorld(options: WorldOptions): Promise<World> {
  const dir = options.dir ?? tempDataDir()
  const clock = options.clock ?? new SimClock({ startMs: T0 })
  const venue = options.venue ?? makeVenue(clock, options.seed, options)
  const errors: string[] = []
  const starting = Gateway.start({
    dataDir: dir,
    clock,
    wal: { durability: 'none', scheduleFlush: queueMicrotask, segmentBytesMax: 1 << 20, preallocateBytes: 0, ...options.wal },
    kernelConfig: (options.configure ?? ((config: KernelConfig) => config))(
      paperKernelConfig({ accounts: ACCOUNTS, digest: 'sim-config', ...(options.params === undefined ? {} : { params: options.params }) }),
    ),
    fundings: paperFundings(ACCOUNTS),
    venues: [venue, ...(options.otherVenues ?? [])].map((attached) => ({ adapter: attached, prices: { referencePrice: (symbol: string) => attached.referencePrice(symbol) } })),
    configDigest: 'sim-config',
    buildCommit: 'test',
    facts: () => ({ haLeader: true, liveExplicit: false, schemaCompatible: true, auditVerified: true }),
    callsInFlightMax: CALLS_IN_FLIGHT_MAX,
    ...(options.lane3Every === undefined ? {} : { lane3Every: options.lane3Every }),
    reconcileRetryMs: 500,
    convergeWaitMsMax: 30_000,
    reconcileSweepMs: options.reconcileSweepMs ?? RECONCILE_SWEEP_MS,
    reconcileSweepOrdersMax: options.reconcileSweepOrdersMax ?? RECONCILE_SWEEP_ORDERS_MAX,
    resendAgeMsMax: 60_000,
    onError: (error, context) => void errors.push(`${context}: ${String(error)}`),
    ...(options.audit === undefined ? {} : { audit: options.audit }),
    ...(options.snapshots === undefined ? {} : { snapshots: options.snapshots }),
    ...(options.snapshotSections === undefined ? {} : { snapshotSections: options.snapshotSections }),
    ...(options.mode === undefined ? {} : { mode: options.mode }),
    ...(options.venueSessions === undefined ? {} : { venueSessions: options.venueSessions }),
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.venueHealth === undefined ? {} : { venueHealth: options.venueHealth }),
    ...(options.autoStop === undefined ? {} : { autoStop: options.autoStop }),
    ...(options.commandRecords === undefined ? {} : { commandRecords: options.commandRecords }),
  })
  // A start that fails says why (not only that it did not start in time).
  const start: { gateway: Gateway | null; failure: { error: unknown } | null } = { gateway: null, failure: null }
  starting.then(
    (started) => (start.gateway = started),
    (error: unknown) => (start.failure = { error }),
  )
  // Past the fast steps, step in wall-clock time too: a start may wait for a thread (the audit self-check's), which
  // answers in real time, not in the simulated clock's.
  const wallDeadlineMs = performance.now() + START_WALL_MS_MAX
  for (let step = 0; start.gateway === null && start.failure === null && (step < 100_000 || performance.now() < wallDeadlineMs); step++) {
    await clock.advanceAsync(10)
    if (step >= 100_000) await Bun.sleep(1)
  }
  if (start.failure !== null) throw new Error(`gateway did not start: ${String(start.failure.error)}`, { cause: start.failure.error })
  const gateway = start.gateway
  if (gateway === null) throw new Error('gateway did not start')
  return { dir, clock, venue, gateway, errors }
}

/** How long, in wall-clock time, a start may take once its simulated-time steps are spent. */
const START_WALL_MS_MAX = 10_000

/** Steps `drive` takes back to back; past them it steps in wall-clock time, for at most DRIVE_WALL_MS_MAX. */
const DRIVE_STEPS_FAST = 10_000
const DRIVE_STEP_MS = 5
const DRIVE_WALL_MS_MAX = 60_000

/**
 * Drives the simulated clock in 5 ms steps until `promise` settles (adapter calls answer on it). The first 10,000
 * steps run back to back. Work paced by real time (the back office's replay fold waits on real timers between
 * slices) may still be going then on a busy machine; stopping would leave the promise waiting on a clock nobody
 * advances, and stepping on at full speed would run simulated minutes past retention margins and trade windows in
 * a blink. So the steps go on at the wall clock's pace (one per 5 ms slept), for up to a minute, then it fails loudly.
 */
export async function drive<T>(world: World, promise: Promise<T>): Promise<T> {
  let done = false
  const settled = promise.finally(() => (done = true))
  for (let step = 0; !done && step < DRIVE_STEPS_FAST; step++) await world.clock.advanceAsync(DRIVE_STEP_MS)
  const deadlineMs = performance.now() + DRIVE_WALL_MS_MAX
  while (!done && performance.now() < deadlineMs) {
    await Bun.sleep(DRIVE_STEP_MS)
    await world.clock.advanceAsync(DRIVE_STEP_MS)
  }
  if (!done) {
    settled.catch(() => {})
    throw new Error(`drive: the promise did not settle within ${DRIVE_STEPS_FAST} steps of ${DRIVE_STEP_MS} ms and then ${DRIVE_WALL_MS_MAX} ms of wall time`)
  }
  return settled
}

/** Advances simulated time in small steps so every timer, report and continuation runs in order. */
export async function run(world: World, ms: number, stepMs = 5): Promise<void> {
  for (let elapsed = 0; elapsed < ms; elapsed += stepMs) await world.clock.advanceAsync(stepMs)
  await world.gateway.engine.settled()
}

/**
 * Kills the gateway the way a crash would: the executor stops, venue reports stop reaching it, and the log is closed
 * with whatever was durable. Adapter calls still in flight answer into the dead process and are lost (their errors
 * land in the old world's `errors`). Restart with `startWorld({ dir, clock, venue })`.
 */
export async function crashWorld(world: World): Promise<void> {
  world.gateway.executor.stop()
  for (const unsubscribe of world.gateway['unsubscribes'].splice(0)) unsubscribe()
  await world.gateway.engine.settled()
  await world.gateway.engine.wal.close()
}

/**
 * A standby gateway beside `world`'s leader, in its own temp data dir, with the same configuration (no venues, a
 * small fast log); its errors are collected. The caller feeds it (a replicator) and removes `dataDir`.
 */
export async function startStandbyOf(world: World): Promise<{ standby: Gateway; dataDir: string; errors: string[] }> {
  const dataDir = tempDataDir()
  const errors: string[] = []
  const standby = await Gateway.start(standbyOptionsOf(world, dataDir, errors))
  return { standby, dataDir, errors }
}

/** The options startStandbyOf starts a standby with, for specs that start (and restart) it themselves. */
export function standbyOptionsOf(world: World, dataDir: string, errors: string[]): Parameters<typeof Gateway.start>[0] {
  return {
    ...world.gateway.options,
    dataDir,
    role: 'standby',
    venues: [],
    wal: { durability: 'none', segmentBytesMax: 1 << 20, preallocateBytes: 0 },
    kernelConfig: paperKernelConfig({ accounts: ACCOUNTS, digest: 'sim-config' }),
    fundings: paperFundings(ACCOUNTS),
    onError: (error, context) => void errors.push(`${context}: ${String(error)}`),
  }
}

/**
 * A copy of `dir` as a crash right after the record at `lsn` leaves it: the log cut after that frame, no snapshot.
 * Recovery keeps whole decisions: a cut inside one leaves the log where the decision began.
 */
export function crashCopyAt(dir: string, lsn: number): string {
  const copy = tempDataDir()
  cpSync(dir, copy, { recursive: true })
  rmSync(join(copy, 'snapshots'), { recursive: true, force: true })
  const logDir = join(copy, 'log')
  let cut: { file: string; offsetBytes: number } | null = null
  openReadOnly(logDir, { onFrame: (frame, file, offsetBytes) => void (frame.lsn === lsn + 1 ? (cut = { file, offsetBytes }) : undefined) })
  const found = cut as { file: string; offsetBytes: number } | null
  if (found === null) return copy
  const cutFile = found.file.includes('/') ? found.file : join(logDir, found.file)
  truncateSync(cutFile, found.offsetBytes)
  for (const name of readdirSync(logDir)) if (name.endsWith('.seg') && join(logDir, name) > cutFile) rmSync(join(logDir, name))
  return copy
}
