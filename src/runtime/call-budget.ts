/**
 * The executor's call budget (ExecutorOptions.callsInFlightMax, all venues) and each venue's share of it. Every venue
 * call is counted from its start to its settling (a send's from its decision: executor.ts; a query's while it is out:
 * query-call.ts), per venue, in O(1).
 *
 * A venue's calls hold at most VENUE_SHARE of the budget: at its share, no more of its Lanes 1–3 work is picked
 * (nextWork's venueHeld), and the rest of the budget is the other venues'. Before, one venue that stopped answering
 * held every call the budget freed, each until its deadline (twice its request timeout): its queued places took them
 * at each round, its cancels the rest, and no place to a healthy venue went for as long as it had work queued.
 *
 * Lane0 (cancels, closes) is never held by the budget, nor by a venue's share: it counts in its venue's calls, so a
 * venue whose cancels are out has its places wait, but a venue's calls count in the budget only up to its share. So the
 * other venues keep a quarter of it whatever one venue holds; a Lanes 1–3 call starts only below its venue's share and
 * below the budget counted so, so Lanes 1–3 hold at most callsInFlightMax in all, as before. With a single venue
 * attached its share is the whole budget: nothing changes.
 *
 * Why three quarters: a venue that is out for good leaves the others a quarter (128 calls of the default 512: a healthy
 * venue answering in 10 ms sends 12,800 a second in them), while one venue busy alone — the others idle — still has
 * most of the budget; half would halve the calls one venue may pipeline when it is the only one with work.
 */

import { assert } from '../domain/assert.ts'
import type { WorkKind } from '../kernel/index.ts'
import type { ExecutorStats } from './executor-options.ts'
import { READ_BACK_CALLS } from './read-back.ts'

/** The share of callsInFlightMax one venue's calls may hold (see the header). */
export const VENUE_SHARE = 0.75
/** The share of callsInFlightMax the read-backs under way may hold before no other is picked (CallBudget.readBacksHeld). */
const READ_BACKS_SHARE = 0.5

export class CallBudget {
  private readonly callsMax: number
  /** The most calls of one venue counted in the budget; at it, no Lanes 1–3 work of the venue is picked. */
  readonly venueShare: number
  private readonly stats: Pick<ExecutorStats, 'callsInFlight'>
  /** Calls in flight per venue, every lane's. */
  private readonly byVenue = new Map<string, number>()
  /** Calls counted in the budget: each venue's up to its share. */
  private counted = 0

  /** `venues`: how many are attached (one: its share is the whole budget). */
  constructor(callsMax: number, venues: number, stats: Pick<ExecutorStats, 'callsInFlight'>) {
    this.callsMax = callsMax
    // At least a read-back's calls, or a venue's read-backs would never be picked.
    this.venueShare = venues <= 1 ? callsMax : Math.max(this.callsNeeded('reconcile'), Math.floor(callsMax * VENUE_SHARE))
    this.stats = stats
  }

  /** Venue calls one item has out at once: a read-back's two (at most the whole budget, or 1 would hold it for good). */
  callsNeeded(kind: WorkKind): number {
    return kind === 'reconcile' ? Math.min(READ_BACK_CALLS, this.callsMax) : 1
  }

  /** A call to `venue` starts. */
  started(venue: string): void {
    const calls = (this.byVenue.get(venue) ?? 0) + 1
    this.byVenue.set(venue, calls)
    if (calls <= this.venueShare) this.counted++
    this.stats.callsInFlight++
  }

  /** A call to `venue` settled. */
  ended(venue: string): void {
    const calls = (this.byVenue.get(venue) ?? 0) - 1
    if (calls < 0) assert(false, `calls in flight to ${venue} would go negative`)
    if (calls === 0) this.byVenue.delete(venue)
    else this.byVenue.set(venue, calls)
    if (calls < this.venueShare) this.counted--
    this.stats.callsInFlight--
  }

  /** Calls that may still start under callsInFlightMax, each venue's counted up to its share. */
  get left(): number {
    return Math.max(0, this.callsMax - this.counted)
  }

  /**
   * Whether `venue`'s calls hold its share (nextWork's venueHeld): its Lanes 1–3 work is not picked. Held with less than
   * a read-back's calls left, whatever the work: a held venue is passed over, not a break of the pick, so a place taking
   * the last call would pass a read-back ranked above it (a wanted cancel's) at every call freed, for as long as the
   * venue's places were queued.
   */
  venueHeld(venue: string): boolean {
    return (this.byVenue.get(venue) ?? 0) + this.callsNeeded('reconcile') > this.venueShare
  }

  /**
   * Whether `readBacks` read-backs under way hold their share of the budget (READ_BACKS_SHARE): then no other is picked
   * (nextWork's readBacksHeld), and Lanes 1–2 keep the rest. Before, a venue that answered nothing after a mass cancel
   * left every canceled order Unknown with its cancel wanted; their read-backs, picked right after Lane0, took every
   * call the budget freed, each for a request timeout, and no place to any other venue went for as long as it was out.
   */
  readBacksHeld(readBacks: number): boolean {
    const shareCalls = Math.max(READ_BACK_CALLS, Math.floor(this.callsMax * READ_BACKS_SHARE))
    return (readBacks + 1) * READ_BACK_CALLS > shareCalls
  }

  /** Calls in flight to `venue` (specs, metrics). */
  callsTo(venue: string): number {
    return this.byVenue.get(venue) ?? 0
  }
}
