/** How the executor (executor.ts) is set up, and the counters it keeps. */

import type { GateFacts } from '../domain/gate.ts'
import type { MarketSnapshot } from '../domain/market.ts'
import type { Clock } from '../domain/clock.ts'
import type { VenueAdapter, VenueOutcome } from '../venues/adapter.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import type { WorkItem } from '../kernel/index.ts'
import type { Engine } from './engine.ts'

export interface ExecutorOptions {
  engine: Engine
  adapters: ReadonlyMap<string, VenueAdapter>
  clock: Clock
  /** Facts for the I-100 gate, read fresh for every send. */
  gateFacts: () => GateFacts
  /** The reference price of a venue's symbol now (null: none), for the data health a place or amend faces again at its send. */
  market: (venue: string, symbol: string) => MarketSnapshot | null
  /**
   * Bound on adapter calls in flight at once (all venues), Lane0's counted, each call counted (a read-back's status
   * and trades are two): beyond it work of Lanes 1–3 waits in its lane. Lane0 work (cancels, closes) is never held by it — a cancel must not wait for places or for reads (a sweep's
   * read-backs, each up to a request timeout while a venue is out); its calls are bounded by the kernel instead, one
   * per order and callsPerInstrumentMax per venue×symbol. With several venues attached, one venue's calls hold at most
   * three quarters of it, and count in it only up to that (call-budget.ts).
   */
  callsInFlightMax: number
  /**
   * Lane3's share of the picks: after this many picks of Lanes 1–2 in a row, Lane3's first read-back that can start
   * goes before them (an integer in 1..1,000; default 8: lane3-share.ts). Without it a read-back
   * waited for Lanes 1–2 to empty: under sustained new-order load, an Unknown order never converged.
   */
  lane3Every?: number
  /**
   * The venues' request budgets (each instrument's rateLimitPerSecond, as this process is configured): places and
   * amends of a venue×symbol are picked at most that many a second, with a burst of one second's worth; cancels are
   * counted, never held (send-pacing.ts). Absent or empty: nothing is paced.
   */
  rateLimits?: Iterable<{ venue: string; symbol: string; rateLimitPerSecond: number }>
  /** How long to wait before asking an unreachable venue about an Unknown order again. */
  reconcileRetryMs: number
  /** Called when something unexpected happens (an adapter that threw, an engine error). */
  onError: (error: unknown, context: string) => void
  /** HA lease, re-checked right before every venue call: a deposed leader never calls a venue. */
  lease?: { assertHeld(): void }
  /**
   * Every place, cancel and amend answer, with when its call was made and which call it was (`place_result`, …): venue
   * health scoring (venue-health-monitor.ts) and the auto-stop breakers (auto-stop.ts).
   */
  onCall?: (venue: string, outcome: VenueOutcome<unknown>, sentAtMs: number, call: 'place_result' | 'cancel_result' | 'amend_result') => void
  /**
   * Every query's answer (a read-back's status and trades, an open-order listing), for venue health likewise; sentAtMs
   * null for a listing, whose duration follows the venue's open orders (pages), not its health.
   */
  onQuery?: (venue: string, outcome: VenueOutcome<unknown>, sentAtMs: number | null) => void
}

export interface ExecutorStats {
  sends: number
  cancels: number
  amends: number
  reconciles: number
  callsInFlight: number
  /** Venue calls refused because the lease was no longer held (a deposed leader). */
  leaseRefusals: number
  /** Place/amend calls the HA send gate held (standby did not confirm the send record): recorded as send retries. */
  gateHolds: number
  /** Venue answers (to sends and read-backs) that came back after a stop's drain: not recorded, read back at the next start (stop-drain.ts). */
  answersRefusedAtStop: number
  /** Venue answers the log had no room for when they came: held, and submitted again once it had (held-answers.ts). */
  answersHeld: number
  /** Place/amend calls not made because a kill switch engaged, or the mode changed, after their send was decided (call-holds.ts): answered retryable. */
  callsHeld: number
  /**
   * Venue calls their adapter did not answer by the executor's deadline (call-deadline.ts: twice the adapter's request
   * timeout): answered `unknown` as a timeout is, each reported once (VENUE_CALL_DEADLINE), the late answer ignored.
   */
  callsPastDeadline: number
  /**
   * Read-back answers refused before the kernel (read-back-check.ts), by check: one the log could not hold
   * (`unrecordable`), one about another order (`other_order`). Each is an error line and the order is asked again.
   */
  readBacksRefused: { unrecordable: number; other_order: number }
}

/**
 * A send decided by the executor: its events once durable (null before), or failed when the log refused it; held when
 * the HA send gate said the venue call must not be made (Committed.sendHeld).
 */
export interface Dispatch {
  item: WorkItem
  events: DomainEvent[] | null
  failed: boolean
  held: { reason: string; retryAfterMs: number } | null
}
