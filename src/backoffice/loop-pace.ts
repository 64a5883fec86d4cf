/**
 * How much of the event loop the back office's own work there may take: its reads of the query model before a
 * reconcile run and its walks over held orders in the venue checks go in slices, each followed by a wait that keeps
 * the work to a tenth of the loop (src/runtime/loop-share.ts), at most 50 ms a wait.
 *
 * Why a tenth: at bench:http's half load the loop is already ~60 % busy with orders, and a quarter more for a run
 * took it past 80 %, where intake queued behind it. With the reconcile every 3 s (so that every latency round has
 * runs in it; EGRESS_BACKOFFICE_RECONCILE_MS=3000 BENCH_HALF_RATE=3500, three pairs of bench:http runs), the median
 * of the rounds' p99 was 20.3 ms at a quarter and 12.1 ms at a tenth. A run takes longer (~1 s of wall time for
 * ~100 ms of CPU over 40k held orders), well within the 10 s between runs.
 */

import { loopSharePause } from '../runtime/loop-share.ts'

export const BACKOFFICE_LOOP_SHARE = { shareMax: 0.1, waitMsMax: 50 } as const

/** A fresh pause paced to the back office's share of the loop. */
export function backOfficePause(): () => Promise<void> {
  return loopSharePause(BACKOFFICE_LOOP_SHARE)
}

/**
 * How the back office paces its work on the loop: a fresh pause for each stretch of slices, and the clock a walk's
 * slices are timed by. Injected (BackOfficeOptions.pacing) so the deterministic simulation can run a reconcile whose
 * steps do not depend on the wall clock; everything else takes BACKOFFICE_PACING.
 */
export interface BackOfficePacing {
  /** A fresh pause to await between two slices (or pages) of one stretch of work. */
  pause: () => () => Promise<void>
  /** The clock slices are timed by. */
  sliceNowMs: () => number
}

/** Production pacing: a tenth of the loop in real time, slices timed by performance.now. */
export const BACKOFFICE_PACING: BackOfficePacing = { pause: backOfficePause, sliceNowMs: () => performance.now() }

/**
 * Pacing that reads no real time (the deterministic simulation): a walk is never cut for time (its slices' clock stands
 * still) and a pause between pages is a microtask, so a reconcile run holds the loop until it awaits a venue, the log
 * or the replay worker — each of which the simulation drives at defined points.
 */
export const UNPACED_BACKOFFICE: BackOfficePacing = { pause: () => async () => undefined, sliceNowMs: () => 0 }
