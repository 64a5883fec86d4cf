/**
 * The gateway's snapshot policy at run time: snapshots every N durable records and/or every T ms, on demand (the admin
 * endpoint) and at clean shutdown; one at a time (a request while one is being written waits for it and then takes
 * its own); automatic compaction after each snapshot when the policy asks for it. Pause figures are kept for metrics.
 */

import { join } from 'node:path'
import type { SealKeyResolver } from '../../audit/keys.ts'
import type { Clock } from '../../domain/clock.ts'
import { isSyncFailure, type WalIo } from '../../../wal/index.ts'
import { prepareSharedThreads } from '../thread-priority.ts'
import type { Engine } from '../engine.ts'
import type { CompactResult, CompactionMode } from './compact.ts'
import { BASIS_THREAD_IDLE_MS, BasisChecker, BasisCheckUnavailableError } from './basis-check.ts'
import { compactLogInTurns } from './compact-turns.ts'
import { sealVerdicts } from './load.ts'
import { SNAPSHOTS_KEEP_DEFAULT, type SnapshotStore } from './store.ts'
import { takeSnapshot, type SnapshotSealer, type SnapshotSectionSource, type SnapshotTaken } from './take.ts'

export interface SnapshotPolicy {
  /** False: this gateway writes no snapshot at all (none periodic, on demand or at shutdown); loading is separate. */
  enabled: boolean
  /** Restart from the newest valid snapshot (and replay the log after it). */
  load: boolean
  /** Snapshots retained; older ones are deleted after a new one is durable. */
  keep: number
  /** Take one after this many durable records since the last (0: off). */
  everyRecords: number
  /** Take one every this many ms (0: off). */
  everyMs: number
  atShutdown: boolean
  compaction: 'off' | CompactionMode
  /** Archive directory for compaction mode `archive`; default `<dataDir>/archive`. */
  archiveDir: string | null
  /** File-system calls (tests inject failures). */
  io: WalIo | null
}

export function defaultSnapshotPolicy(): SnapshotPolicy {
  return { enabled: true, load: true, keep: SNAPSHOTS_KEEP_DEFAULT, everyRecords: 0, everyMs: 0, atShutdown: true, compaction: 'off', archiveDir: null, io: null }
}

export function snapshotPolicyProblem(policy: SnapshotPolicy): string | null {
  if (!(Number.isSafeInteger(policy.keep) && policy.keep >= 1 && policy.keep <= 100)) return `snapshots.keep must be an integer in 1..100, got ${policy.keep}`
  if (!(Number.isSafeInteger(policy.everyRecords) && policy.everyRecords >= 0)) return `snapshots.everyRecords must be an integer ≥ 0, got ${policy.everyRecords}`
  if (!(Number.isSafeInteger(policy.everyMs) && (policy.everyMs === 0 || policy.everyMs >= 1_000))) return `snapshots.everyMs must be 0 (off) or ≥ 1000, got ${policy.everyMs}`
  if (!policy.enabled && (policy.everyRecords > 0 || policy.everyMs > 0 || policy.compaction !== 'off' || policy.atShutdown)) {
    return 'snapshots are disabled: everyRecords, everyMs, atShutdown and compaction must be off'
  }
  return null
}

/** An on-demand snapshot asked of a gateway whose policy writes none (config `snapshots.enabled: false`). */
export class SnapshotsDisabledError extends Error {
  override readonly name = 'SnapshotsDisabledError'
  readonly code = 'SNAPSHOTS_DISABLED'
}

export interface SnapshotterStats {
  taken: number
  failed: number
  pauseMsLast: number
  pauseMsMax: number
  /** The longest stretch any snapshot held the event loop. */
  blockMsMax: number
  last: SnapshotTaken | null
  lastCompaction: CompactResult | null
}

export interface SnapshotterOptions {
  engine: Engine
  store: SnapshotStore
  clock: Clock
  policy: SnapshotPolicy
  dataDir: string
  sections: readonly SnapshotSectionSource[]
  /**
   * The lowest LSN a reader of the segment files still needs (the audit self-check's next unverified record, a live
   * verification's first): compaction keeps every segment from it on, read again before each segment it removes.
   * Absent: only the snapshot basis bounds compaction.
   */
  compactionKeepFromLsn?: () => number
  /** Signs each snapshot's seal (take.ts sealWith): set when this node holds the audit seal key. */
  sealWith?: SnapshotSealer
  /**
   * The keys a start verifies the snapshots' seals with (gateway-restore.ts; null: none, seals read for their structure
   * and claims): compaction's basis is only a snapshot whose seal holds with them, as a start would use it. Absent:
   * seals are not looked at.
   */
  sealKeys?: SealKeyResolver | null
  onError: (error: unknown, context: string) => void
}

/**
 * Records replayed per hot order in about the time a snapshot of that state takes to write, so a takeover's leader
 * start replays them for less than the snapshot would cost (scripts/bench-takeover-stop.ts, 100k orders, 700k records:
 * the shutdown snapshot 2.8 s, ~28 µs an order; a leader start replaying the whole log 5.1 s against 3.0 s from a
 * snapshot at the head, ~7 µs a record replayed).
 */
export const TAKEOVER_REPLAY_RECORDS_PER_ORDER = 4

/**
 * How long the shutdown snapshot's compaction waits for its basis check (basis-check.ts): its thread runs at the lowest
 * priority and, on a machine busy with other work, may not answer for minutes. Past it that compaction removes nothing
 * (the next start's compactions do) and the stop goes on.
 */
export const SHUTDOWN_BASIS_CHECK_MS_MAX = 5_000

export class Snapshotter {
  readonly stats: SnapshotterStats = { taken: 0, failed: 0, pauseMsLast: 0, pauseMsMax: 0, blockMsMax: 0, last: null, lastCompaction: null }
  private readonly options: SnapshotterOptions
  private running: Promise<SnapshotTaken | null> | null = null
  private recordsSince = 0
  private cancelTimer: (() => void) | null = null
  private stopped = false
  private steps = 0
  /** Aborted by stop(): ends a compaction under way (compact-turns.ts). */
  private readonly stopping = new AbortController()
  /** Checks each compaction's basis in a thread, kept between compactions (basis-check.ts). */
  private readonly basisChecker = new BasisChecker({ idleMs: BASIS_THREAD_IDLE_MS })

  /**
   * Steps done by the snapshots taken so far (encode slices, section steps, file writes), only ever growing: a stop's
   * bound (src/runtime/stop-watch.ts) takes a shutdown snapshot that keeps adding to it for one making progress.
   */
  get progress(): number {
    return this.steps
  }

  /** Whether a snapshot (or the compaction after it) is being taken now. */
  get busy(): boolean {
    return this.running !== null
  }

  constructor(options: SnapshotterOptions) {
    this.options = options
  }

  /** Starts the record counter and the timer (whichever the policy enables). Returns the durable-listener to remove. */
  start(): () => void {
    const { engine, policy } = this.options
    if (!policy.enabled) return () => undefined
    // The compaction's basis check runs in a thread: the collection that must precede a process's first worker
    // (thread-priority.ts) is made now, not on the event loop of a gateway at work with a heap grown since.
    if (policy.compaction !== 'off') prepareSharedThreads()
    const unsubscribe = engine.onDurable((events) => {
      this.recordsSince += events.length
      if (policy.everyRecords > 0 && this.recordsSince >= policy.everyRecords && this.running === null) this.background('records')
    })
    if (policy.everyMs > 0) this.arm()
    return unsubscribe
  }

  stop(): void {
    this.stopped = true
    this.stopping.abort()
    this.cancelTimer?.()
    this.cancelTimer = null
  }

  /** Takes a snapshot now (waiting for one in progress first); null when nothing changed since the newest. */
  async take(): Promise<SnapshotTaken | null> {
    if (!this.options.policy.enabled) throw new SnapshotsDisabledError('snapshots are disabled on this gateway (config snapshots.enabled: false)')
    while (this.running !== null) await this.running.catch(() => null)
    const running = this.takeAndCompact()
    this.running = running
    try {
      return await running
    } finally {
      this.running = null
      // The records a snapshot is due after became durable while this one was taken (their trigger found it running,
      // its compaction waiting for its basis check, say): the next is taken now, not at some later record.
      const { everyRecords } = this.options.policy
      if (!this.stopped && everyRecords > 0 && this.recordsSince >= everyRecords) this.background('records')
    }
  }

  /**
   * Whether a stop takes its shutdown snapshot (the policy's `atShutdown`, the log not dead). A stop for a takeover
   * (HaNode stops its standby gateway, then starts a leader on the same data dir, whose start restores the newest
   * snapshot and replays the log after it) skips it when that replay is the cheaper part: at most
   * TAKEOVER_REPLAY_RECORDS_PER_ORDER records behind the newest snapshot per hot order. Writing it, then loading it,
   * delayed the takeover by seconds for a large state; a standby without periodic snapshots far behind still takes it.
   */
  takesShutdownSnapshot(forTakeover: boolean): boolean {
    const { engine, policy, store } = this.options
    if (!policy.atShutdown || engine.wal.fatalError !== null) return false
    if (!forTakeover) return true
    const newestLsn = store.candidates()[0]?.lsn ?? 0
    return engine.wal.lastLsn - newestLsn > TAKEOVER_REPLAY_RECORDS_PER_ORDER * Math.max(1, engine.state.orders.size)
  }

  /** Resolves when a snapshot being written has finished (shutdown waits for it). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running.catch(() => null)
  }

  private async takeAndCompact(): Promise<SnapshotTaken | null> {
    const { engine, store, clock, policy, sections } = this.options
    this.recordsSince = 0
    // A compaction running when stop() comes ends after its current segment, or at once while its basis is checked
    // (the stop waits for it: idle()); the shutdown snapshot's own, taken after stop(), runs to its end.
    const stoppedBefore = this.stopped
    let taken: SnapshotTaken | null
    try {
      const sealWith = this.options.sealWith === undefined ? {} : { sealWith: this.options.sealWith }
      taken = await takeSnapshot(engine, store, { nowMs: clock.nowMs(), sections, ...sealWith, onStep: () => {
        this.steps++
      } })
    } catch (error) {
      this.stats.failed++
      // A failed fsync leaves unknown what reached the disk, and the next snapshot's fsync would prove nothing: fatal,
      // as for the log itself (DESIGN §3). The log stops, and the process recovers by restarting from what is on disk.
      if (isSyncFailure(error)) engine.wal.halt(`${error instanceof Error ? error.message : String(error)}; the log is stopped and the process must restart`, error)
      throw error
    }
    if (taken === null) return null
    this.stats.taken++
    this.stats.last = taken
    this.stats.pauseMsLast = taken.pauseMs
    this.stats.pauseMsMax = Math.max(this.stats.pauseMsMax, taken.pauseMs)
    this.stats.blockMsMax = Math.max(this.stats.blockMsMax, taken.blockMsMax)
    if (policy.compaction !== 'off') {
      const archiveDir = policy.archiveDir ?? join(this.options.dataDir, 'archive')
      const keepFromLsnNow = this.options.compactionKeepFromLsn
      // Its basis checked in a thread (basis-check.ts), then one segment per turn of the event loop, each removal
      // fsynced on its own (compact-turns.ts).
      try {
        // Each candidate's seal judged as a start judges it, with its keys: a signature check each, short and asynchronous.
        const { sealKeys } = this.options
        const seals = sealKeys === undefined ? {} : { seals: await sealVerdicts(store, sealKeys, { unknownKey: 'unverified' }) }
        this.stats.lastCompaction = await compactLogInTurns(engine.wal, store, {
          mode: policy.compaction, archiveDir, checker: this.basisChecker, ...seals, ...(stoppedBefore ? { checkWaitMsMax: SHUTDOWN_BASIS_CHECK_MS_MAX } : { signal: this.stopping.signal }), ...(keepFromLsnNow === undefined ? {} : { keepFromLsnNow }),
        })
      } catch (error) {
        // The snapshot is durable: only its compaction did not run (its basis could not be checked). Said on its own,
        // and the snapshot answered as taken; thrown, it made the snapshot read as failed (POST /v1/admin/snapshot
        // 503 snapshot_failed for a snapshot on disk). The next snapshot's compaction tries again.
        if (!(error instanceof BasisCheckUnavailableError)) throw error
        this.options.onError(error, 'compaction after a snapshot')
        this.stats.lastCompaction = uncompacted(engine.wal.firstLsn, policy.compaction, archiveDir)
      } finally {
        // A stopped snapshotter's thread is not kept for a next compaction (the shutdown snapshot's was the last).
        if (this.stopped) this.basisChecker.release()
      }
    }
    return taken
  }

  private background(reason: string): void {
    this.take().catch((error: unknown) => this.options.onError(error, `snapshot (${reason})`))
  }

  private arm(): void {
    if (this.stopped) return
    this.cancelTimer = this.options.clock.schedule(this.options.policy.everyMs, () => {
      this.background('timer')
      this.arm()
    })
  }
}

/** A compaction that removed nothing and chose no basis: its basis could not be checked. */
function uncompacted(firstLsn: number, mode: CompactionMode, archiveDir: string): CompactResult {
  return { basis: null, removed: [], boundLsn: null, heldBack: false, firstLsnBefore: firstLsn, firstLsnAfter: firstLsn, mode, archiveDir, rejected: [] }
}
