/**
 * The runtime half of venue health (§3 health/): it watches every venue call the executor makes — places, cancels and
 * amends (venue-send.ts), and queries: read-backs and open-order listings (executor.ts queryCall) — scores each venue
 * over its two sliding windows (venue-health-score.ts) at each answer and every evaluateEveryMs, and when
 * the level it reaches differs from the one the log holds, asks the kernel to record it (`venue_health` →
 * `venue.health_changed`). The I-100 gate decides on the recorded level only (src/kernel/venue-health.ts), so a
 * replay, a standby and `redecide` decide as the leader did; this scoring is never read at replay.
 *
 * Bounded: two windows per venue the gateway has an adapter for, samplesMax calls each; at most one record asked for
 * per venue at a time (the next evaluation, after it is durable, asks again if the level moved on).
 */

import type { Clock } from '../domain/clock.ts'
import type { VenueHealthConfig } from '../config/index.ts'
import type { VenueOutcome } from '../venues/adapter.ts'
import type { Engine } from './engine.ts'
import { callResultOf, CallWindow, combinedScore, type VenueScore } from './venue-health-score.ts'

export interface VenueHealthMonitorOptions {
  engine: Engine
  clock: Clock
  config: VenueHealthConfig
  venues: readonly string[]
  /** A venue's session state (VenueAdapter.sessionActive: FIX logged on, JSONL connected), or null for a venue without one. */
  sessionUp: (venue: string) => boolean | null
  /** Whether the venue's adapter gave `outcome` itself, for a reason of egress's own (VenueAdapter.answeredLocally). */
  answeredLocally: (venue: string, outcome: VenueOutcome<unknown>) => boolean
  onError: (error: unknown, context: string) => void
}

/** The level a start with scoring off records over one an earlier process left (recordFresh). */
const SCORING_OFF: VenueScore = {
  level: 'OK',
  score: 100,
  counts: { calls: 0, ok: 0, rejected: 0, retryable: 0, throttled: 0, unknown: 0, slow: 0 },
  detail: 'venue health scoring is off (config venueHealth.enabled false): every venue is OK',
}

export class VenueHealthMonitor {
  private readonly windows = new Map<string, { orders: CallWindow; queries: CallWindow }>()
  /** When each venue was last scored, and its full score once built (latest), so a read sees the last call's score. */
  private readonly scoredAt = new Map<string, { nowMs: number; sessionUp: boolean | null; score: VenueScore | null }>()
  private readonly recording = new Set<string>()
  private timerCancel: (() => void) | null = null
  private running = false

  constructor(private readonly options: VenueHealthMonitorOptions) {
    for (const venue of options.venues) this.windows.set(venue, { orders: new CallWindow(options.config), queries: new CallWindow(options.config) })
  }

  /** Starts recording levels (a leader, after bootstrap; recordFresh before it) and the periodic evaluation. */
  start(): void {
    if (!this.options.config.enabled || this.running) return
    this.running = true
    this.tick()
  }

  /**
   * Scores every venue once and records each level that differs from the log's, resolving once settled; a start calls
   * it before bootstrap decides any send. The level the log holds is the reading of an earlier process (or leader),
   * over calls this one never saw: decided on it, bootstrap's sends (a resend of an order proven absent) were held by a
   * CRITICAL level nobody had evidence for any more, while every send decided after start() went on this process's
   * reading (an empty window: OK; a session down: CRITICAL). Before the start's configuration is
   * recorded a venue the log does not know yet is refused (VENUE_UNKNOWN) and stays OK, as it was.
   *
   * Scoring off (enabled false), no process scores the venue again: a level an earlier one left (CRITICAL) held every
   * place to it for as long as the log lived. It is recorded OK instead, saying why: off, every venue stays OK.
   */
  async recordFresh(): Promise<void> {
    const records: Promise<void>[] = []
    for (const venue of this.windows.keys()) {
      const score = this.options.config.enabled ? this.scoreNow(venue) : SCORING_OFF
      if (score !== null) records.push(this.record(venue, score))
    }
    await Promise.all(records)
  }

  stop(): void {
    this.running = false
    this.timerCancel?.()
    this.timerCancel = null
  }

  /** A place, cancel or amend call's answer: `sentAtMs` is when it was made. */
  observe(venue: string, outcome: VenueOutcome<unknown>, sentAtMs: number): void {
    this.add(venue, 'orders', outcome, sentAtMs)
  }

  /**
   * A query's answer (a read-back's status or trades, an open-order listing): `sentAtMs` is when it was made, null when
   * its duration is not the venue's to answer for (a listing's pages grow with the venue's open orders): never slow.
   */
  observeQuery(venue: string, outcome: VenueOutcome<unknown>, sentAtMs: number | null): void {
    this.add(venue, 'queries', outcome, sentAtMs)
  }

  private add(venue: string, kind: 'orders' | 'queries', outcome: VenueOutcome<unknown>, sentAtMs: number | null): void {
    const window = this.windows.get(venue)?.[kind]
    if (window === undefined || !this.options.config.enabled) return
    const atMs = this.options.clock.nowMs()
    const result = callResultOf(outcome)
    // A retryable answer while the venue's session is down came from the adapter (not logged on, or queued when the
    // session dropped): the venue never saw the call, and the session rule scores it CRITICAL already. Counted, such
    // answers (a cancel retried every second while reconnecting) kept the venue CRITICAL after its logon until they
    // aged out of the window, and places to a venue that was up again were rejected. An unknown outcome (the session
    // dropped mid-call) is the venue's and still counts.
    // An answer the adapter gave itself (its bound of requests in flight, a request it cannot put to the venue, no
    // session to send on) never reached the venue either: a burst of places past the JSONL client's pendingMax was
    // scored 50 each, as if the venue had failed them, and could hold it CRITICAL (places rejected
    // VENUE_HEALTH_CRITICAL). Asked of the adapter, not of the session's state now: the session may be back already.
    const fromVenue = (result !== 'retryable' || this.options.sessionUp(venue) !== false) && !this.options.answeredLocally(venue, outcome)
    if (fromVenue) window.add({ atMs, result, latencyMs: sentAtMs === null ? 0 : Math.max(0, atMs - sentAtMs) })
    this.evaluate(venue)
  }

  /** The latest score per venue (computed at the last call or tick), for /v1/venue_health. */
  latest(venue: string): VenueScore | null {
    const scored = this.scoredAt.get(venue)
    if (scored === undefined) return null
    // The windows have not moved since: every call added is evaluated at once, and only an evaluation moves them on.
    scored.score ??= this.scoreAt(venue, scored.nowMs, scored.sessionUp)
    return scored.score
  }

  private readonly tick = (): void => {
    this.timerCancel = null
    if (!this.running) return
    for (const venue of this.windows.keys()) this.evaluate(venue)
    this.timerCancel = this.options.clock.schedule(this.options.config.evaluateEveryMs, this.tick)
  }

  /**
   * Called at every venue answer: the level alone is worked out (O(1), no text), and the full score with its counts and
   * detail only when that level is to be recorded, or when `latest` is read.
   */
  private evaluate(venue: string): void {
    const windows = this.windows.get(venue)
    if (windows === undefined) return
    const nowMs = this.options.clock.nowMs()
    const sessionUp = this.options.sessionUp(venue)
    const orders = windows.orders.level(nowMs, sessionUp)
    const queries = windows.queries.level(nowMs, sessionUp)
    this.noteScored(venue, nowMs, sessionUp, null)
    if (!this.running || this.recording.has(venue)) return
    const level = queries.score < orders.score ? queries.level : orders.level
    if (level === (this.options.engine.state.venueHealth.get(venue)?.level ?? 'OK')) return
    void this.record(venue, this.scoreNow(venue, nowMs, sessionUp) as VenueScore)
  }

  /** Scores `venue` at the clock's now (and keeps it for `latest`); null for a venue without a window. */
  private scoreNow(venue: string, nowMs = this.options.clock.nowMs(), sessionUp = this.options.sessionUp(venue)): VenueScore | null {
    if (!this.windows.has(venue)) return null
    const score = this.scoreAt(venue, nowMs, sessionUp)
    this.noteScored(venue, nowMs, sessionUp, score)
    return score
  }

  private scoreAt(venue: string, nowMs: number, sessionUp: boolean | null): VenueScore {
    const windows = this.windows.get(venue) as { orders: CallWindow; queries: CallWindow }
    return combinedScore(windows.orders.score(nowMs, sessionUp), windows.queries.score(nowMs, sessionUp))
  }

  private noteScored(venue: string, nowMs: number, sessionUp: boolean | null, score: VenueScore | null): void {
    const scored = this.scoredAt.get(venue)
    if (scored === undefined) {
      this.scoredAt.set(venue, { nowMs, sessionUp, score })
      return
    }
    scored.nowMs = nowMs
    scored.sessionUp = sessionUp
    scored.score = score
  }

  /** Asks the kernel to record `score`'s level when it differs from the log's; resolves once that is settled. */
  private record(venue: string, score: VenueScore): Promise<void> {
    const { engine, clock } = this.options
    if (this.recording.has(venue)) return Promise.resolve()
    const recorded = engine.state.venueHealth.get(venue)?.level ?? 'OK'
    if (recorded === score.level) return Promise.resolve()
    this.recording.add(venue)
    let committed: ReturnType<Engine['submit']>
    try {
      committed = engine.submit({ kind: 'venue_health', nowMs: clock.nowMs(), venue, level: score.level, score: score.score, detail: score.detail })
    } catch (error) {
      this.recording.delete(venue)
      this.options.onError(error, `venue health of ${venue}`)
      return Promise.resolve()
    }
    return committed.then(
      ({ decision }) => {
        this.recording.delete(venue)
        // The level may have moved on while the record was on its way: evaluated again, not at the next tick (a
        // refusal, which recorded nothing, waits for the tick: asked again at once it would loop).
        if (decision.events.length > 0) this.evaluate(venue)
      },
      (error: unknown) => {
        this.recording.delete(venue)
        this.options.onError(error, `venue health of ${venue}`)
      },
    )
  }
}
