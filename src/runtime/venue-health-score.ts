/**
 * Venue health scoring (§3 health/): each venue's calls over sliding windows, scored 0–100 and mapped to OK / DEGRADED /
 * CRITICAL by the thresholds of config `venueHealth`: its order entry (place, cancel, amend) and its queries (a
 * read-back's status and trades, an open-order listing) in a window each, the venue scored by the worse of the two
 * (combinedScore). Pure and deterministic: the caller
 * passes every call's answer time and the time to score at (the runtime's clock, simulated in specs).
 *
 * The score is 100 less the window's penalty, in percent of its calls: an unknown outcome (a timeout, a disconnect mid
 * call) weighs 100, a retryable answer (not connected, busy) 50, a slow answer (sent → answer above slowCallMs) 50, a
 * throttle 25, a reject 10 (mostly the order's fault, not the venue's). A window holding fewer than samplesMin calls is
 * no evidence and scores 100: a venue held CRITICAL (its places no longer sent) is probed again once its bad calls age
 * out. A venue whose session is down (FIX not logged on, JSONL not connected) is CRITICAL whatever the window says.
 */

import type { HealthLevel } from '../domain/gate.ts'
import { VenueReason } from '../domain/venue-reasons.ts'
import type { VenueOutcome } from '../venues/adapter.ts'

export type CallResult = 'ok' | 'rejected' | 'retryable' | 'throttled' | 'unknown'

export interface CallSample {
  /** When the answer came. */
  atMs: number
  result: CallResult
  /** Sent → answer. */
  latencyMs: number
}

export interface ScoreThresholds {
  windowMs: number
  samplesMax: number
  samplesMin: number
  slowCallMs: number
  degradedScoreMax: number
  criticalScoreMax: number
}

export type CallCounts = Record<CallResult | 'slow', number> & { calls: number }

export interface VenueScore {
  level: HealthLevel
  score: number
  /** The counts behind the score (order entry's, for a combined score), for the record and the read route. */
  counts: CallCounts
  /** A combined score's query counts (combinedScore); absent on one window's score. */
  queries?: CallCounts
  detail: string
}

const WEIGHTS_PERCENT: Record<CallResult | 'slow', number> = { ok: 0, rejected: 10, retryable: 50, throttled: 25, unknown: 100, slow: 50 }

export function callResultOf(outcome: VenueOutcome<unknown>): CallResult {
  if (outcome.kind !== 'retryable') return outcome.kind
  return outcome.reason.startsWith(VenueReason.rateLimited) ? 'throttled' : 'retryable'
}

/** A score's level and figure without its counts and text: what each call's evaluation needs (VenueHealthMonitor). */
export interface ScoreLevel {
  level: HealthLevel
  score: number
}

/**
 * One venue's calls in the window, at most samplesMax of them (the oldest dropped first). The counts and the penalty
 * behind the score are kept as calls enter and leave the window, so scoring is O(1) whatever samplesMax is: it is
 * asked at every venue answer, and a walk over the window (1,000 calls by default) was paid per order placed.
 */
export class CallWindow {
  private readonly samples: CallSample[] = []
  private head = 0
  private readonly counts: CallCounts = { calls: 0, ok: 0, rejected: 0, retryable: 0, throttled: 0, unknown: 0, slow: 0 }
  private penalty = 0

  constructor(private readonly thresholds: ScoreThresholds) {}

  add(sample: CallSample): void {
    this.samples.push(sample)
    this.count(sample, 1)
    if (this.samples.length - this.head > this.thresholds.samplesMax) this.count(this.samples[this.head++] as CallSample, -1)
    this.compact()
  }

  /** The level and figure at `nowMs` (calls answered at or before nowMs − windowMs dropped first), without the text. */
  level(nowMs: number, sessionUp: boolean | null): ScoreLevel {
    this.advance(nowMs)
    if (sessionUp === false) return { level: 'CRITICAL', score: 0 }
    const calls = this.counts.calls
    if (calls < this.thresholds.samplesMin) return { level: 'OK', score: 100 }
    const score = Math.max(0, 100 - Math.floor(this.penalty / calls))
    return { level: levelOf(score, this.thresholds), score }
  }

  /** The score at `nowMs`: calls answered at or before nowMs − windowMs are dropped first. `sessionUp` null: no session. */
  score(nowMs: number, sessionUp: boolean | null): VenueScore {
    const { level, score } = this.level(nowMs, sessionUp)
    const counts = { ...this.counts }
    const summary = `${counts.calls} calls in ${this.thresholds.windowMs} ms: ${counts.unknown} unknown, ${counts.retryable} retryable, ${counts.throttled} throttled, ${counts.rejected} rejected, ${counts.slow} slow`
    if (sessionUp === false) return { level, score, counts, detail: `session down (not logged on, not connected); ${summary}` }
    if (counts.calls < this.thresholds.samplesMin) return { level, score, counts, detail: `${summary} (fewer than ${this.thresholds.samplesMin}: no evidence)` }
    return { level, score, counts, detail: summary }
  }

  private advance(nowMs: number): void {
    const oldestKeptMs = nowMs - this.thresholds.windowMs
    while (this.head < this.samples.length && (this.samples[this.head] as CallSample).atMs <= oldestKeptMs) this.count(this.samples[this.head++] as CallSample, -1)
    this.compact()
  }

  /** Adds (`sign` 1) or takes out (−1) `sample`'s share of the counts and the penalty. */
  private count(sample: CallSample, sign: 1 | -1): void {
    this.counts.calls += sign
    this.counts[sample.result] += sign
    this.penalty += sign * WEIGHTS_PERCENT[sample.result]
    if (sample.latencyMs > this.thresholds.slowCallMs) {
      this.counts.slow += sign
      this.penalty += sign * WEIGHTS_PERCENT.slow
    }
  }

  /** Drops the consumed prefix once it is most of the array, so memory stays within samplesMax and the work amortised. */
  private compact(): void {
    if (this.head > 0 && this.head * 2 >= this.samples.length) {
      this.samples.splice(0, this.head)
      this.head = 0
    }
  }
}

/**
 * A venue's score from its order entry's window and its queries' window: the lower of the two, each window judged on
 * its own (its own samplesMin). Pooled, the read-backs of a sweep (up to a hundred every few seconds, answered) hid
 * places that all failed, and a handful of places hid read-backs that all timed out; such a venue cannot converge an
 * Unknown order, so new ones are held as for failing places.
 */
export function combinedScore(orders: VenueScore, queries: VenueScore): VenueScore {
  const worse = queries.score < orders.score ? queries : orders
  return { level: worse.level, score: worse.score, counts: orders.counts, queries: queries.counts, detail: `orders: ${orders.detail}; queries: ${queries.detail}` }
}

export function levelOf(score: number, thresholds: Pick<ScoreThresholds, 'degradedScoreMax' | 'criticalScoreMax'>): HealthLevel {
  if (score <= thresholds.criticalScoreMax) return 'CRITICAL'
  return score <= thresholds.degradedScoreMax ? 'DEGRADED' : 'OK'
}
