/** How a gateway (gateway.ts) is started: its log, clock, kernel configuration, venues, role and duties. */

import type { Clock } from '../domain/clock.ts'
import type { GateFacts } from '../domain/gate.ts'
import type { KernelConfig } from '../domain/kernel-config.ts'
import type { Mode } from '../domain/modes.ts'
import type { VenueAdapter } from '../venues/adapter.ts'
import type { LeaseGuard, WalOptions } from '../../wal/index.ts'
import type { AuditConfig, AutoStopConfig, VenueHealthConfig } from '../config/index.ts'
import type { Funding } from './bootstrap.ts'
import type { Engine } from './engine.ts'
import type { Gateway } from './gateway.ts'
import type { PriceSource } from './market-feed.ts'
import type { QuarantineWarn } from './quarantine-status.ts'
import type { SnapshotPolicy, SnapshotSectionSource } from './snapshot/index.ts'

export interface GatewayOptions {
  dataDir: string
  clock: Clock
  wal: Partial<WalOptions>
  kernelConfig: KernelConfig
  fundings: Funding[]
  /**
   * The mode this start is asked for (serve: the config's). Bootstrap records it before the executor starts when the
   * log was never started or when it reaches less than the log's mode (start-mode.ts): orders left queued by the run
   * before, and bootstrap's resends, are then decided in it. A mode reaching further than the log's (an operator's
   * switch to shadow, say, and a live config) is held: escalating takes an admin. Absent: the log's mode stands.
   */
  mode?: Mode
  venues: { adapter: VenueAdapter; prices: PriceSource }[]
  configDigest: string
  buildCommit: string
  /** Facts only the process knows (HA role, live markers, health, audit state); durability comes from the log. */
  facts: () => Omit<GateFacts, 'durabilityMode'>
  callsInFlightMax: number
  /** ExecutorOptions.lane3Every (config `executor.lane3Every`); default EXECUTOR_LANE3_EVERY. */
  lane3Every?: number
  reconcileRetryMs: number
  convergeWaitMsMax: number
  resendAgeMsMax: number
  onError: (error: unknown, context: string) => void
  /** When the data dir's quarantine/ wants a review (config wal.quarantineFilesWarn, …); default QUARANTINE_FILES_WARN, …_BYTES_WARN. */
  quarantineWarn?: QuarantineWarn
  /** Lines worth an operator's eye that are not errors (a torn tail the log's open cut: LOG_TAIL_TRUNCATED); default: none. */
  log?: (line: string) => void
  /**
   * Every this many ms, orders open at a venue with no news for as long are read back from the venue (a report may
   * have been lost: a fill, an expiry, the final `canceled` after a cancel ack). 0 turns the sweep off.
   */
  reconcileSweepMs?: number
  /**
   * Bound on orders read back per sweep, so a sweep never floods a venue (default 100); a sweep also takes at most half
   * of the executor's call budget left (callsInFlightMax less the calls in flight), read-backs being the lowest-priority
   * calls. The longest-quiet orders go first, so with N orders open at venues a quiet one is read back within
   * 2 + ⌊(N − 1) / R⌋ intervals of its last news, R the reads a sweep takes (this bound, or half the free budget): two
   * intervals only while the open orders fit in one sweep.
   */
  reconcileSweepOrdersMax?: number
  /**
   * A fill report stating a venue cumulative quantity above what egress has booked shows an earlier fill report late
   * or lost; still open after this many ms, the order is read back from the venue at once (fill-gap-watch.ts;
   * default FILL_GAP_GRACE_MS, 1 s).
   */
  fillGapGraceMs?: number
  /** Venue reports held for the log's room at most (report-intake.ts); default REPORTS_HELD_MAX. */
  reportsHeldMax?: number
  /** Seals, self-check and tamper response (config `audit`); absent: no seals, nothing checked at runtime. */
  audit?: AuditConfig
  /** Snapshot policy (restart from snapshot, periodic/shutdown snapshots, compaction); defaults: defaultSnapshotPolicy(). */
  snapshots?: Partial<SnapshotPolicy>
  /** Other projections captured into each snapshot by name (the back office's query model). */
  snapshotSections?: readonly SnapshotSectionSource[]
  /**
   * HA role of this start (default `leader`). A standby opens its log as a replica (frames come from the leader, see
   * src/runtime/ha), rebuilds and keeps the projections, and never bootstraps, sends, seals or opens intake.
   */
  role?: GatewayRole
  /**
   * The leader's lease: checked again right before every venue call, after the send record is durable, so a leader
   * paused between the two (SIGSTOP) and deposed meanwhile never calls the venue when it wakes.
   */
  lease?: LeaseGuard
  /**
   * Write each decision's command as a kernel.command record before its events, for a standby's shadow decisions
   * (src/runtime/ha/shadow.ts). Default: on when an HA role is given, off on a single node.
   */
  commandRecords?: boolean
  /**
   * A leader's start: called with the engine after the state is restored and before bootstrap starts the executor —
   * an HA leader installs its send gate here (Engine.placeSendGate), so bootstrap's resends are gated too; serve
   * resumes its sim venue here, so bootstrap reconciles against a venue that remembers.
   */
  beforeBootstrap?: (engine: Engine, gateway: Gateway) => void
  /**
   * Venue sessions that keep their own state in this log (FIX: its sequence numbers, in `fix.seq_nums` records and a
   * snapshot section): they can start only once the engine is restored, and bootstrap can reconcile with them only
   * once they are up. A leader's start calls `start` after beforeBootstrap and waits for it before bootstrap.
   */
  venueSessions?: VenueSessions
  /**
   * Venue health scoring (config `venueHealth`, venue-health-monitor.ts): a leader records each venue's level as it
   * changes. Absent: no level is recorded (every venue stays OK unless the log says otherwise).
   */
  venueHealth?: VenueHealthConfig
  /**
   * The auto-stop breakers (config `autoStop`, auto-stop.ts): a leader, once ready, engages the kill switch when one
   * trips. Absent: none.
   */
  autoStop?: AutoStopConfig
}

export interface VenueSessions {
  /**
   * Starts the sessions on the restored gateway (its engine and restored sections) and resolves once they are up or
   * a bound the implementation chose has passed: a session still down then is left reconnecting, and bootstrap goes on.
   */
  start(gateway: Gateway): Promise<void>
  /**
   * Ends the sessions while the log is still open (a FIX Logout takes a sequence number, saved in the log first): the
   * first step of the gateway's stop, and of a start that fails after `start` was called.
   */
  stop(): Promise<void>
}

export type GatewayRole = 'leader' | 'standby'
