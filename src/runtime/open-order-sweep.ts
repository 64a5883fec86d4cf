/**
 * The open-order sweep: every `intervalMs`, the orders open at a venue that have had no news for an interval are
 * checked against the venue, so a report the venue sent and egress never got (a fill, a cancel, an expiry) is found.
 *
 * Each venue with quiet orders is asked for its open orders, one call (open-order-listing.ts). An order the list shows
 * as egress holds it is confirmed and counts as news; every other quiet order (missing from the list, or listed
 * differently) is read back one by one (the executor's reconcile: status and trades). Before, every quiet
 * order was read back, at most `ordersMax` per sweep: a book of 10,000 open orders took 500 s to cover and cost 20
 * reads a second for ever. A venue that cannot list (a FIX session without mass status) or does not answer falls
 * back to that: its quiet orders are read back, `ordersMax` per sweep.
 *
 * Read-backs are the lowest-priority calls: a sweep takes at most half of the call budget left (and one when there is
 * room for one), so that a venue timing out every read (an outage) still leaves room for new orders' sends (seed
 * 30344 had 83 reads over a bound of 64). Orders left over are read next time, the longest-quiet first.
 *
 * An ended order holding synthetic quantity not yet trued up is swept like an open one (venue-open-orders.ts
 * awaitsVenueNews): never in a venue's open list, it is read back each interval while quiet, until its trades come —
 * but only while a read-back can bring them: its venue has a trade query (VenueAdapter.tradesQueryable) and still
 * lists the order's trades (VenueAdapter.tradeHistoryMs after its last news). Before, it was read back every interval
 * for as long as the kernel held it (retention retires ended orders only past terminalOrdersKeptMax, 10,000): on a FIX
 * venue, whose read-back is a status query that can never true it up, and on the sim once it had forgotten the order,
 * one status query per such order every interval, for good, taking sweep slots from the open orders.
 */

import type { Clock } from '../domain/clock.ts'
import type { Order } from '../domain/orders.ts'
import type { KernelState } from '../kernel/index.ts'
import { OPEN_AT_VENUE } from './bootstrap.ts'
import type { VenueOrder, VenueOutcome } from '../venues/adapter.ts'
import { LIST_THROTTLED, listedAsHeld, openOrderListOf, type OpenOrderList } from './open-order-listing.ts'
import { awaitsVenueNews, type VenueOpenOrders } from './venue-open-orders.ts'
import { READ_BACK_CALLS } from './read-back.ts'

export interface OpenOrderSweepOptions {
  clock: Clock
  state: KernelState
  venueOpen: VenueOpenOrders
  /** Calls that may still start (Executor.callsBudgetLeft); given an order, to its venue (Executor.callsLeftFor). */
  callsBudgetLeft: (orderId?: string) => number
  /** One venue's open orders (Executor.listOpenOrders); null when not asked (no call free, executor stopped). */
  listOpenOrders: (venue: string) => Promise<VenueOutcome<VenueOrder[]> | null>
  /** Starts one order's read-back (status and trades) and notes it as swept. */
  readBack: (orderId: string) => void
  intervalMs: number
  /** Read-backs per sweep at most. */
  ordersMax: number
  /**
   * How long after an order's last news its venue still lists the order's trades (VenueAdapter.tradeHistoryMs;
   * undefined: for good), or null when the venue has no trade query (VenueAdapter.tradesQueryable false). Decides how
   * long an ended order holding synthetic quantity is swept (sweepable). Default: every venue lists every trade.
   */
  tradeHistoryMsOf?: (venue: string) => number | null | undefined
}

/** What one sweep did. */
export interface SweepReport {
  /** Quiet open orders found. */
  dueCount: number
  /** Of those, confirmed by their venue's list of open orders. */
  confirmedCount: number
  /** Read-backs started. */
  readBackCount: number
}

const LIST_BUSY = Symbol('list busy')

export class OpenOrderSweep {
  private readonly options: OpenOrderSweepOptions
  /** When each open order was last swept (read back or confirmed): that counts as news. */
  private readonly sweptAtMs = new Map<string, number>()
  /** Venues whose list is being asked for: a slow venue is not asked again until it answers. */
  private readonly listing = new Set<string>()

  constructor(options: OpenOrderSweepOptions) {
    this.options = options
  }

  /** The order left the venue's open set: nothing more to remember of it. */
  closed(orderId: string): void {
    this.sweptAtMs.delete(orderId)
  }

  /**
   * Notes a read-back started outside the sweep (a fill gap, a report's request) as news, for an order the sweep
   * watches only: closed() forgets an order when it leaves the venue's open set, so one read back outside it (ended,
   * Unknown, Failed) was remembered for good (review: one entry per such read-back, never removed).
   */
  noteReadBack(orderId: string): void {
    if (this.options.venueOpen.has(orderId)) this.sweptAtMs.set(orderId, this.options.clock.nowMs())
  }

  /** Orders remembered as swept (for the specs: bounded by the venue's open set). */
  get sweptCount(): number {
    return this.sweptAtMs.size
  }

  /** One sweep; resolves when the lists asked for have answered and the read-backs have started. */
  async sweep(): Promise<SweepReport> {
    const due = this.dueOrders()
    const report: SweepReport = { dueCount: due.length, confirmedCount: 0, readBackCount: 0 }
    if (due.length === 0) return report
    const byVenue = new Map<string, string[]>()
    for (const { orderId, venue } of due) {
      const ids = byVenue.get(venue)
      if (ids === undefined) byVenue.set(venue, [orderId])
      else ids.push(orderId)
    }
    const toRead: string[] = []
    await Promise.all(
      [...byVenue].map(async ([venue, orderIds]) => {
        const listed = await this.listOf(venue)
        // A list still being asked for (a slow venue), or a venue that asked for time: its orders wait a sweep.
        if (listed === LIST_BUSY || listed === LIST_THROTTLED) return
        for (const orderId of orderIds) {
          if (listed !== null && this.confirmedBy(orderId, listed)) report.confirmedCount++
          else toRead.push(orderId)
        }
      }),
    )
    // Longest-quiet first again (the venues answered in any order); an order that had news meanwhile waits.
    const rank = new Map(due.map(({ orderId }, index) => [orderId, index]))
    toRead.sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0))
    // Half the free call budget, each read-back taking READ_BACK_CALLS of it; at least one while it has room for one.
    const left = this.options.callsBudgetLeft()
    const limit = Math.min(this.options.ordersMax, left < READ_BACK_CALLS ? 0 : Math.max(1, Math.floor(left / 2 / READ_BACK_CALLS)))
    for (const orderId of toRead) {
      if (report.readBackCount >= limit) break
      if (!this.stillDue(orderId)) continue
      // A venue at its share of the budget takes none: its order waits for the next sweep.
      if (this.options.callsBudgetLeft(orderId) < READ_BACK_CALLS) continue
      this.options.readBack(orderId)
      report.readBackCount++
    }
    return report
  }

  /** The quiet open orders, longest-quiet first. */
  private dueOrders(): { orderId: string; venue: string }[] {
    const nowMs = this.options.clock.nowMs()
    const quietSinceMs = nowMs - this.options.intervalMs
    const due: { orderId: string; venue: string; quietSinceMs: number }[] = []
    for (const orderId of this.options.venueOpen.values()) {
      const order = this.options.state.orders.get(orderId)
      if (order === undefined || !this.sweepable(order, nowMs)) continue
      const lastNewsMs = Math.max(order.updatedAtMs, this.sweptAtMs.get(orderId) ?? 0)
      if (lastNewsMs <= quietSinceMs) due.push({ orderId, venue: order.venue, quietSinceMs: lastNewsMs })
    }
    due.sort((a, b) => a.quietSinceMs - b.quietSinceMs || (a.orderId < b.orderId ? -1 : 1))
    return due
  }

  /** Is the order still open and quiet (no news while the lists were asked for)? */
  private stillDue(orderId: string): boolean {
    const order = this.options.state.orders.get(orderId)
    const nowMs = this.options.clock.nowMs()
    if (order === undefined || !this.sweepable(order, nowMs)) return false
    const quietSinceMs = nowMs - this.options.intervalMs
    return Math.max(order.updatedAtMs, this.sweptAtMs.get(orderId) ?? 0) <= quietSinceMs
  }

  /**
   * Whether a read-back may still bring the order news: open at its venue, or ended holding synthetic quantity whose
   * trades its venue can still list (a read-back books them, truing the synthetic fills up). Such an order past its
   * venue's trade history, or at a venue without a trade query, is left to its real reports (and the back office's
   * venue_trades break names the trade while it can).
   */
  private sweepable(order: Order, nowMs: number): boolean {
    if (!awaitsVenueNews(order)) return false
    if (OPEN_AT_VENUE.has(order.status)) return true
    const historyMs = this.options.tradeHistoryMsOf?.(order.venue)
    if (historyMs === null) return false
    return historyMs === undefined || nowMs - order.updatedAtMs <= historyMs
  }

  /** The venue's open orders by client id (see openOrderListOf); LIST_BUSY while it is being asked already. */
  private async listOf(venue: string): Promise<OpenOrderList | null | typeof LIST_BUSY | typeof LIST_THROTTLED> {
    if (this.listing.has(venue)) return LIST_BUSY
    this.listing.add(venue)
    try {
      return await openOrderListOf(venue, this.options.listOpenOrders)
    } finally {
      this.listing.delete(venue)
    }
  }

  /** Does the list show the order as egress holds it? Then it is noted as swept (news). */
  private confirmedBy(orderId: string, list: OpenOrderList): boolean {
    const order = this.options.state.orders.get(orderId)
    if (order === undefined || !listedAsHeld(order, list)) return false
    this.sweptAtMs.set(orderId, this.options.clock.nowMs())
    return true
  }
}
