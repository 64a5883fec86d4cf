/**
 * The venue's request budget per venue×symbol (the instrument's `rateLimitPerSecond`), spent by the executor's picks:
 * a token bucket refilled at the rate, holding at most one second's worth (the burst). A venue that is sent more than
 * its budget throttles the client or drops its session, so a place or amend (Lanes 1–2) whose instrument has no token
 * left is not picked (nextWork's instrumentPaced): no send is decided and nothing is logged for it, and it keeps its
 * place in its lane. A timer wakes the executor when the budget returns (dueMsBefore).
 *
 * Cancels and a flatten's closes (Lane0) are counted — the venue counts them too — but never held: a risk-reducing
 * call must not wait behind places. They may spend the budget into debt, at most one second's worth, which the places
 * behind them then wait out. Read-backs (Lane3) are queries, not order entry: not counted, bounded by the executor's
 * callsInFlightMax and their back-offs instead.
 *
 * Runtime only, like the rest of the pick: the budget is this process's and starts full; it is not logged, and replay,
 * which sends nothing, never spends it. Amounts are integer milli-tokens, so a simulated clock paces exactly.
 */

import type { Clock } from '../domain/clock.ts'
import { instrumentKey } from '../domain/instruments.ts'

/** A token in the bucket's unit (milli-tokens: a ms of refill at rate r adds r). */
const TOKEN = 1_000

interface Bucket {
  readonly venue: string
  /** Refill per ms, in milli-tokens: the rate per second. */
  readonly ratePerSecond: number
  /** The burst: one second's worth. */
  readonly capacity: number
  tokens: number
  atMs: number
  /** Whether places or amends were found waiting for this budget since it was last spent (counted once per wait). */
  waiting: boolean
}

export interface SendPacingStats {
  /** Per venue: times a venue×symbol's budget ran out with a place or amend waiting for it (each wait counted once). */
  readonly waitsByVenue: ReadonlyMap<string, number>
}

export class SendPacing {
  private readonly buckets = new Map<string, Bucket>()
  private readonly waits = new Map<string, number>()
  readonly stats: SendPacingStats = { waitsByVenue: this.waits }
  /** The time of the pick under way. */
  private pickNowMs = 0
  /** The earliest time a budget found spent since the last pump began returns. */
  private wakeMs = Number.POSITIVE_INFINITY

  /**
   * The budgets start full at the clock's now. `rates`: the instruments' rateLimitPerSecond (an integer ≥ 1; an
   * instrument with less, or not listed, is not paced).
   */
  constructor(clock: Clock, rates: Iterable<{ venue: string; symbol: string; rateLimitPerSecond: number }>) {
    const nowMs = clock.nowMs()
    for (const { venue, symbol, rateLimitPerSecond } of rates) {
      if (!(Number.isSafeInteger(rateLimitPerSecond) && rateLimitPerSecond >= 1)) continue
      const capacity = rateLimitPerSecond * TOKEN
      this.buckets.set(instrumentKey(venue, symbol), { venue, ratePerSecond: rateLimitPerSecond, capacity, tokens: capacity, atMs: nowMs, waiting: false })
    }
  }

  /** Whether any instrument is paced (none: the pick need not ask). */
  get active(): boolean {
    return this.buckets.size > 0
  }

  /** A pump begins: the wake time is found again by its picks. */
  pumpAt(nowMs: number): void {
    this.pickNowMs = nowMs
    this.wakeMs = Number.POSITIVE_INFINITY
  }

  /** A pick at `nowMs` follows. */
  pickAt(nowMs: number): void {
    this.pickNowMs = nowMs
  }

  /**
   * nextWork's instrumentPaced: the instrument's budget has less than a token now, so its places and amends wait. One
   * bound function for every pick (no allocation on the order path).
   */
  readonly spent = (key: string): boolean => {
    const bucket = this.buckets.get(key)
    if (bucket === undefined) return false
    const nowMs = this.pickNowMs
    refill(bucket, nowMs)
    if (bucket.tokens >= TOKEN) return false
    const dueMs = nowMs + Math.ceil((TOKEN - bucket.tokens) / bucket.ratePerSecond)
    if (dueMs < this.wakeMs) this.wakeMs = dueMs
    if (!bucket.waiting) {
      bucket.waiting = true
      this.waits.set(bucket.venue, (this.waits.get(bucket.venue) ?? 0) + 1)
    }
    return true
  }

  /** A call of the instrument was picked (any lane but Lane3): one token spent, a Lane0 call's into debt if need be. */
  took(venue: string, symbol: string): void {
    const bucket = this.buckets.get(instrumentKey(venue, symbol))
    if (bucket === undefined) return
    refill(bucket, this.pickNowMs)
    bucket.tokens = Math.max(bucket.tokens - TOKEN, -bucket.capacity)
    bucket.waiting = false
  }

  /** The earlier of `dueMs` and when a budget found spent by this pump's picks returns (the executor's timer). */
  dueMsBefore(dueMs: number): number {
    return Math.min(dueMs, this.wakeMs)
  }
}

function refill(bucket: Bucket, nowMs: number): void {
  const elapsedMs = nowMs - bucket.atMs
  if (elapsedMs <= 0) return
  bucket.atMs = nowMs
  // Two seconds refill the deepest debt (one second's worth) and the burst; below that the product stays a safe integer.
  bucket.tokens = elapsedMs >= 2_000 ? bucket.capacity : Math.min(bucket.capacity, bucket.tokens + elapsedMs * bucket.ratePerSecond)
}
