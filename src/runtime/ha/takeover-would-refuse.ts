/**
 * A standby's early warning that its takeover would be refused: a leader start on this node's config would find
 * orders open (or ended awaiting a true-up) on a venue the config no longer lists (VENUE_GONE_ORDERS_OPEN, venue-gone.ts). Said only at a failover
 * before — the takeover refused, the lease given back (and retried after a wait, takeover-backoff.ts) — when the pair
 * had just lost its leader. Now a standby that has caught up with the leader checks its log the way such a start would
 * (goneVenueOrders, the same check), and says so once in its log and in /health (`ha.takeover_would_refuse`) while it
 * holds; the line and the field clear once those orders end (or once this node leads: its start passed).
 *
 * Checked when the replicator is connected with no lag (the log is the leader's as of its last envelope), only once
 * the log's end has moved since the last check, and at most once per `intervalMs` (TAKEOVER_WOULD_REFUSE_CHECK_MS by
 * default): one pass over the orders.
 */

import type { Gateway } from '../gateway.ts'
import { describeGoneVenue, goneVenueOrders, type GoneVenueOrders } from '../venue-gone.ts'
import type { ReplicatorStatus } from './replicator.ts'

/** `/health` → `ha.takeover_would_refuse`. */
export type TakeoverWouldRefuseJson = {
  code: 'VENUE_GONE_ORDERS_OPEN'
  /** When this node first found it (wall clock, ms). */
  at_ms: number
  /** Where this node's log ended at the last check. */
  log_last_lsn: number
  /**
   * Each venue the config no longer lists that orders still need: those not ended on it (how many, the first order
   * ids), and those ended on it awaiting the true-up of a synthetic fill (venue-gone.ts).
   */
  venues: { venue: string; count: number; order_ids: string[]; awaiting_true_up: { count: number; order_ids: string[] } }[]
}

/**
 * The default least time between two checks: each walks every order the standby holds (an hour of ended ones at the
 * default retention) on the loop that applies the leader's records and acknowledges them — under synchronous
 * replication, what the leader's answers wait for. An early warning needs no fresher reading than this.
 */
export const TAKEOVER_WOULD_REFUSE_CHECK_MS = 60_000

export class TakeoverWouldRefuse {
  private last: TakeoverWouldRefuseJson | null = null
  private checkedLsn = -1
  private checkedAtMs = Number.NEGATIVE_INFINITY

  constructor(
    private readonly log: (line: string) => void,
    private readonly intervalMs: number,
    private readonly monotonicNowMs: () => number = () => performance.now(),
  ) {}

  get status(): TakeoverWouldRefuseJson | null {
    return this.last
  }

  /**
   * Checks `gateway`'s log (a standby's) against `served` — the venues a leader start on this config has adapters for
   * (null: not known, nothing checked) — once the replicator has caught up with the leader.
   */
  check(gateway: Gateway, served: ReadonlySet<string> | null, replication: ReplicatorStatus | undefined, nowMs = Date.now()): void {
    if (served === null || replication?.connected !== true || replication.lagRecords > 0) return
    const lsn = gateway.engine.wal.lastLsn
    const monotonicMs = this.monotonicNowMs()
    if (lsn === this.checkedLsn || monotonicMs - this.checkedAtMs < this.intervalMs) return
    this.checkedLsn = lsn
    this.checkedAtMs = monotonicMs
    const gone = goneVenueOrders(gateway.engine.state.orders.values(), served)
    if (gone.length === 0) return this.clear(`the orders it named have ended, none awaiting a true-up (log at LSN ${lsn})`)
    const venues = gone.map(venueJson)
    const changed = this.last === null || JSON.stringify(this.last.venues) !== JSON.stringify(venues)
    this.last = { code: 'VENUE_GONE_ORDERS_OPEN', at_ms: this.last?.at_ms ?? nowMs, log_last_lsn: lsn, venues }
    if (changed) {
      this.log(
        `ha: warning: a takeover by this standby would be refused (VENUE_GONE_ORDERS_OPEN): its log, caught up with the leader at LSN ${lsn}, holds orders not ended (or ended awaiting a true-up) on ` +
          `${gone.map(describeGoneVenue).join('; ')}, which this node's config no longer lists. Put the venue's entry back in this node's venues[] and restart it before a failover needs it, ` +
          'or cancel those orders on the leader (or let them settle) until none is open and none awaits a true-up',
      )
    }
  }

  /** This node leads (its start passed the check), or the orders ended: nothing would be refused now. */
  clear(why = 'this node leads'): void {
    if (this.last === null) return
    this.last = null
    this.log(`ha: a takeover by this node would no longer be refused for VENUE_GONE_ORDERS_OPEN: ${why}`)
  }
}

function venueJson(gone: GoneVenueOrders): TakeoverWouldRefuseJson['venues'][number] {
  return { venue: gone.venue, count: gone.count, order_ids: gone.orderIds, awaiting_true_up: { count: gone.awaitingTrueUp.count, order_ids: gone.awaitingTrueUp.orderIds } }
}
