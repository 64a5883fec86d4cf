/**
 * When a venue check's difference becomes a break. The internal checks compare at one instant (reconcile waits for the
 * engine to settle, then reads the kernel, the ledger and the query model with no await in between), so what they see
 * is a break at once. The venue checks cannot: the venue answers from its own present, and news it sent before that
 * answer may still be on its way to egress — a fill report still in flight when the balances, open orders or trades
 * are read shows at the venue and not yet in the ledger. Found by specs/backoffice/venue-in-flight.test.ts: a fill
 * report held back for a moment opened four breaks (both traded balances, "open in egress, not open at the venue",
 * the order's filled quantity) that the next run cleared.
 *
 * So a venue check's difference is first a suspect. Seeing its key again at the next run of the same check was not
 * enough: fills can be in flight at two runs in a row — a stream of fills on one account (a large order worked in
 * partial fills), or a venue whose reports lag more than the reconcile interval — and each such run showed the key,
 * the second opened a break and the next cleared it (specs/backoffice/venue-in-flight-stream.test.ts). The rule is
 * now, for a key seen by the previous run of its check too:
 *
 *  - **Stable and unexplained: a break.** The difference is the same (the same expected and actual: same account,
 *    instrument or order, same amounts) as at the previous sighting, and none of the account's venue trades that the
 *    ledger lacks is younger than VENUE_REPORT_LAG_MS_MAX (the trades check passes on each trade the ledger lacks
 *    for an order the venue shows more filled, venue-trades.ts; reconcileVenue weighs their venue times: `inFlight`).
 *    Nothing moved between two runs and no report can still be coming: a genuine divergence opens one run after its
 *    first sighting, as before.
 *  - **Changing, or explained by young trades: still a suspect.** A difference whose amounts moved between the runs is
 *    what fills arriving look like (the venue made more, or the ledger booked some); one whose account has venue trades
 *    the ledger lacks, all made within the report lag bound, may be exactly those reports, still on their way.
 *  - **Persistent: a break whatever it does.** A key seen by VENUE_SUSPECT_BOUNDS.sightingsMax runs of its check in a
 *    row, or seen continuously for VENUE_SUSPECT_BOUNDS.spanMsMax, opens a break even if it changes at every run or
 *    young trades are about: no divergence is hidden for longer than that.
 *  - **Accounted for: never a break while so.** A difference that the account's young trades the ledger lacks add up
 *    to exactly (in-flight-fills.ts: the balance, filled quantity or trades total they would make) is not one egress
 *    knows to be wrong, whatever the bounds. Before, a large order worked in fills for over a minute with one in
 *    flight at every run opened a false break at VENUE_SUSPECT_BOUNDS.spanMsMax (specs/backoffice/
 *    venue-in-flight-stream.test.ts). A residue beside them, or a trade of theirs overdue, is judged by the rules above,
 *    so a standing divergence behind a stream of fills still opens within the bounds.
 *
 * Why the venue's trade times, not egress's own state (reports held in its intake, the ledger's LSN against the
 * log's): those name only reports that have reached egress. One still on the venue's side of the wire — a lagging
 * venue, the case here — leaves no trace in egress at all; the one thing egress sees of it is the venue's trade, with
 * the venue's time, and that covers reports held inside egress too. "Same difference twice" alone would still break on one report lagging
 * over two runs with nothing else moving; "a recent trade is missing" alone would let a stream of fills hide a
 * standing difference; together, with the bounds, neither. Per run the trades check reads the venue after the
 * balances and open orders: a report that lands in between leaves that run's differences unexplained, and the
 * stable rule judges them as it did before.
 *
 * A break is dated from the key's first sighting. A check that did not run (its venue unreachable) keeps the suspects
 * its last run saw. A suspect of the windowed check (venue_trades) that left its window is forgotten, not kept:
 * nothing brings it back into the window to be seen again, so keeping it would only hold memory for good.
 *
 * Suspects are recorded with each run (`backoffice.reconciled` v2, `recorded()`), and a back office takes them from
 * the last run in its log before its first run (`fromRecorded`): they are what venue answers said, not in the log
 * otherwise, so nothing could rebuild them. Before, they lived in memory only, and a restart (a crash, an upgrade, a
 * standby taking over) reset them: the first run after it only suspected again, so a divergence first seen before the
 * restart opened one interval later, dated from after it — and a process restarting more often than every other
 * interval never opened one.
 */

import * as v from 'valibot'
import { boundedText, RECORDED_SUSPECT_SCHEMA, type ReconcileCheck, type Reconciled, type RecordedSuspect } from './breaks.ts'
import type { Observation } from './internal-checks.ts'

const VENUE_CHECKS: ReadonlySet<ReconcileCheck> = new Set<ReconcileCheck>(['venue_balances', 'venue_open_orders', 'venue_trades'])

/**
 * How long a venue difference may stay a suspect while it changes or fills in flight explain it: it opens a break at
 * its `sightingsMax`-th sighting in a row, or once seen continuously for `spanMsMax` (at its second sighting at the
 * earliest). With the default reconcile interval (10 s) that is at most a minute.
 */
export const VENUE_SUSPECT_BOUNDS = { sightingsMax: 6, spanMsMax: 60_000 } as const

/**
 * How late a fill report may reach egress after the venue's trade (its venue time, against egress's clock: a venue
 * clock running ahead makes a trade look younger, by VENUE_CLOCK_TOLERANCE_MS or so). A venue trade the ledger lacks
 * and younger than this may be in flight and explains its account's differences; an older one is overdue, a
 * divergence. Three reconcile intervals at the default: a report that late is itself worth a break.
 */
export const VENUE_REPORT_LAG_MS_MAX = 30_000

/** Whether a check compares with a venue's answer (its differences are confirmed by a later run). */
export function isVenueCheck(check: ReconcileCheck): boolean {
  return VENUE_CHECKS.has(check)
}

interface Sighting {
  /** The atMs of the first run in the unbroken series that saw the key. */
  firstSeenMs: number
  /** How many runs of the check in a row saw it (the last included). */
  sightings: number
  expected: string
  actual: string
}

export class VenueSuspects {
  /** Per venue check: the keys its last run saw, with what it saw of each. */
  private readonly lastSeen = new Map<ReconcileCheck, ReadonlyMap<string, Sighting>>()

  /** Suspects as a run recorded them (`recorded`); a venue check's only (another check's are not suspects). */
  static fromRecorded(recorded: readonly RecordedSuspect[]): VenueSuspects {
    const byCheck = new Map<ReconcileCheck, Map<string, Sighting>>()
    for (const { check, key, ...sighting } of recorded) {
      if (!isVenueCheck(check)) continue
      let seen = byCheck.get(check)
      if (seen === undefined) byCheck.set(check, (seen = new Map()))
      seen.set(key, sighting)
    }
    const suspects = new VenueSuspects()
    for (const [check, seen] of byCheck) suspects.lastSeen.set(check, seen)
    return suspects
  }

  /**
   * The suspects the last run in the log recorded (none before any, or in a version 1 record). A run read from the log
   * was validated there; one from a snapshot section was not, so they are checked here: any that do not parse are
   * dropped (the first run then suspects afresh, which costs an interval, never a false break).
   */
  static ofLastRun(lastRun: Reconciled | null): VenueSuspects {
    const parsed = v.safeParse(v.array(RECORDED_SUSPECT_SCHEMA), lastRun?.suspects ?? [])
    return VenueSuspects.fromRecorded(parsed.success ? parsed.output : [])
  }

  /** A copy: a run works out the suspects after it on one, and adopts it once its record is in the log. */
  clone(): VenueSuspects {
    const copy = new VenueSuspects()
    for (const [check, seen] of this.lastSeen) copy.lastSeen.set(check, seen)
    return copy
  }

  /**
   * What to record of the suspects: every key the venue checks' last runs saw except those `isBreak` names (an open
   * break is not confirmed again: what was seen of it is never read).
   */
  recorded(isBreak: (key: string) => boolean, countMax = Number.POSITIVE_INFINITY): RecordedSuspect[] {
    const recorded: RecordedSuspect[] = []
    for (const [check, seen] of this.lastSeen) {
      for (const [key, sighting] of seen) if (!isBreak(key)) recorded.push({ check, key, ...sighting, expected: boundedText(sighting.expected), actual: boundedText(sighting.actual) })
    }
    if (recorded.length <= countMax) return recorded
    // The longest seen first (closest to a break), then by check and key: the same ones whatever the map's order.
    recorded.sort((a, b) => a.firstSeenMs - b.firstSeenMs || (a.check < b.check ? -1 : a.check > b.check ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    return recorded.slice(0, countMax)
  }

  /**
   * When the difference was first seen, if it opens a break now (see the header): an internal check's at once
   * (`atMs`); a venue check's if its last run saw the same key and the difference is stable and not explained by fills
   * in flight (`inFlight`: its account has venue trades the ledger lacks, all recent), or has persisted past the bounds
   * — unless those trades account for it exactly (`explained`, in-flight-fills.ts): then never, however long.
   * Null while it is only a suspect.
   */
  confirmedSinceMs(observation: Observation, atMs: number, evidence: { inFlight: boolean; explained?: boolean }): number | null {
    if (!isVenueCheck(observation.check)) return atMs
    if (evidence.explained === true) return null
    const inFlight = evidence.inFlight
    const before = this.lastSeen.get(observation.check)?.get(observation.key)
    if (before === undefined) return null
    const persisted = before.sightings + 1 >= VENUE_SUSPECT_BOUNDS.sightingsMax || atMs - before.firstSeenMs >= VENUE_SUSPECT_BOUNDS.spanMsMax
    const stable = before.expected === observation.expected && before.actual === observation.actual
    return persisted || (stable && !inFlight) ? before.firstSeenMs : null
  }

  /**
   * Remembers what each venue check that ran saw this run (`atMs`); a check that did not run keeps what it saw before.
   * A check skipped for some venues only (`skippedVenues`: its venues that did not answer) ran for the others: their
   * keys are remembered as for a check that ran, and the skipped venues' keep what they were. (Before, such a check
   * counted as not run for every venue: a difference first seen on a venue that answered, while another venue stayed
   * unreachable, was never remembered and stayed a suspect — never a break — for as long as that venue was down.)
   */
  noteRun(run: { atMs: number; ran: readonly ReconcileCheck[]; observations: readonly Observation[]; skippedVenues?: ReadonlyMap<ReconcileCheck, ReadonlySet<string>> }): void {
    for (const check of VENUE_CHECKS) {
      const skipped = run.skippedVenues?.get(check)
      if (!run.ran.includes(check) && skipped === undefined) continue
      const before = this.lastSeen.get(check)
      const seen = new Map<string, Sighting>()
      if (skipped !== undefined && before !== undefined) {
        for (const [key, sighting] of before) if ([...skipped].some((venue) => key.startsWith(`${check}:${venue}:`))) seen.set(key, sighting)
      }
      for (const { key, check: of, expected, actual } of run.observations) {
        if (of !== check) continue
        const prior = before?.get(key)
        seen.set(key, { firstSeenMs: prior?.firstSeenMs ?? run.atMs, sightings: (prior?.sightings ?? 0) + 1, expected, actual })
      }
      this.lastSeen.set(check, seen)
    }
  }
}
