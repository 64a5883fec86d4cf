/**
 * The wait between a standby's failed takeovers (following.ts `takeOverIfExpired`).
 *
 * A takeover whose leader start is refused the same way every time (VENUE_GONE_ORDERS_OPEN: the config lost a venue
 * with orders open there; venue-gone.ts) was tried again at every tick (leaseTtl/4): the lease taken, the log replayed
 * twice, the whole refusal logged, the lease given back and the epoch raised, forever — CPU burnt, the log flooded, the
 * epochs inflated, and a correctly configured node's take of the lease delayed by the lease this one kept taking. Now
 * the node waits before trying again: one lease TTL after the first failure, doubling up to a bound (30 s by default),
 * and the lease stays free meanwhile for another node to take. The wait starts over once the node sees a live leader
 * (its replicator connected) or a takeover succeeds; since it is bounded, a node whose cause went away (a transient
 * failure) takes over at most one bound late. The refusal is logged in full when it first happens or changes, and a
 * repeat of the same one in one short line.
 *
 * Not here: a take refused by the takeover guard (LEASE_LOG_BEHIND, takeover-guard.ts) never takes the lease and is
 * tried at every tick (it clears as the node catches up), and a start that lost its lease meanwhile (a LeaseError)
 * follows again without a wait (another node leads, or its lease runs out).
 */

/** The default bound of the wait between failed takeovers. */
export const TAKEOVER_BACKOFF_MS_MAX = 30_000

export class TakeoverBackoff {
  /** The wait after the last failure; 0: none failed since the last reset. */
  private delayMs = 0
  private notBeforeMs = 0
  private lastCause: string | null = null
  private failuresInRow = 0

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly monotonicNowMs: () => number = () => performance.now(),
  ) {}

  /** Whether a takeover may be tried now (the wait after the last failure is over). */
  ready(): boolean {
    return this.monotonicNowMs() >= this.notBeforeMs
  }

  /** The wait in force now, in ms (0: none). */
  get waitMs(): number {
    return Math.max(0, Math.ceil(this.notBeforeMs - this.monotonicNowMs()))
  }

  /**
   * A takeover at `epoch` failed with `cause` (its start refused, the lease given back): the next one waits. Returns the
   * line to log: the whole cause when it is new, a short one when it repeats the last.
   */
  failed(epoch: number, cause: string): string {
    this.delayMs = this.delayMs === 0 ? this.minMs : Math.min(this.maxMs, this.delayMs * 2)
    this.notBeforeMs = this.monotonicNowMs() + this.delayMs
    this.failuresInRow++
    const repeated = cause === this.lastCause
    this.lastCause = cause
    // Ends as the line did before the wait ("…; lease released, following again"): operators and specs match on it.
    const next = `next takeover attempt in ${this.delayMs} ms at the earliest`
    if (repeated) return `takeover at epoch ${epoch} failed again for the same cause (${this.failuresInRow} in a row); ${next}; lease released, following again`
    return `takeover at epoch ${epoch} failed (${cause}); ${next} (doubling up to ${this.maxMs} ms while it fails); lease released, following again`
  }

  /** A live leader was seen, or a takeover succeeded: the next failure waits the least again. */
  reset(): void {
    this.delayMs = 0
    this.notBeforeMs = 0
    this.lastCause = null
    this.failuresInRow = 0
  }
}
