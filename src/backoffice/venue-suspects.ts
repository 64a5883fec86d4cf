/**
 * When a venue check's difference becomes a break. The internal checks compare at one instant (reconcile waits for the
 * engine to settle, then reads the kernel, the ledger and the query model with no await in between), so what they see
 * is a break at once. The venue checks cannot: the venue answers from its own present, and news it sent before that
 * answer may still be on its way to egress — a fill report still in flight when the balances, open orders or trades
 * are read shows at the venue and not yet in the ledger. Found by specs/backoffice/venue-in-flight.test.ts: a fill
 * report held back for a moment opened four breaks (both traded balances, "open in egress, not open at the venue",
 * the order's filled quantity) that the next run cleared.
 *
 * So a venue check's difference is first a suspect, and becomes a break when the next run of the same check sees the
 * same key again: a report in flight lands long before the next run (reconcileIntervalMs, 10 s by default), a genuine
 * mismatch is still there. A genuine break is reported one run later, never absorbed; a check that did not run (its
 * venue unreachable) keeps the suspects its last run saw. A suspect of the windowed check (venue_trades) that left its
 * window is forgotten, not kept: nothing brings it back into the window to be seen again, so keeping it would only
 * hold memory for good. Suspects live in memory: after a restart the first run of
 * each venue check only suspects.
 */

import type { ReconcileCheck } from './breaks.ts'
import type { Observation } from './internal-checks.ts'

const VENUE_CHECKS: ReadonlySet<ReconcileCheck> = new Set<ReconcileCheck>(['venue_balances', 'venue_open_orders', 'venue_trades'])

/** Whether a check compares with a venue's answer (its differences are confirmed by a second run). */
export function isVenueCheck(check: ReconcileCheck): boolean {
  return VENUE_CHECKS.has(check)
}

export class VenueSuspects {
  /** Per venue check: the keys its last run saw, each with when it was first seen (a run's atMs). */
  private readonly lastSeen = new Map<ReconcileCheck, ReadonlyMap<string, number>>()

  /**
   * When the difference was first seen, if it opens a break now: an internal check's at once (`atMs`), a venue check's
   * if its last run saw the same key (that run's first sighting); null while it is only a suspect.
   */
  confirmedSinceMs(observation: Observation, atMs: number): number | null {
    if (!isVenueCheck(observation.check)) return atMs
    return this.lastSeen.get(observation.check)?.get(observation.key) ?? null
  }

  /** Remembers what each venue check that ran saw this run (`atMs`); a check that did not run keeps what it saw before. */
  noteRun(run: { atMs: number; ran: readonly ReconcileCheck[]; observations: readonly Observation[] }): void {
    for (const check of run.ran) {
      if (!isVenueCheck(check)) continue
      const before = this.lastSeen.get(check)
      const seen = new Map<string, number>()
      for (const { key, check: of } of run.observations) if (of === check) seen.set(key, before?.get(key) ?? run.atMs)
      this.lastSeen.set(check, seen)
    }
  }
}
