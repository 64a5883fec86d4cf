/**
 * The reads of open orders back from their venues that the gateway makes on its own, each through the executor's
 * reconcile (status and trades, read-back.ts): the periodic sweep of the orders open at a venue that have had no news
 * for an interval (open-order-sweep.ts, over venue-open-orders.ts), and an order whose fill reports showed the venue
 * ahead of egress's books for longer than a grace (fill-gap-watch.ts). Report intake asks for read-backs here too,
 * paced per order and within the executor's call budget (report-read-backs.ts).
 */

import type { Clock } from '../domain/clock.ts'
import type { Units } from '../domain/decimal.ts'
import { orderIdFromClientId } from '../domain/orders.ts'
import type { AppliedEvent, Engine } from './engine.ts'
import type { Executor } from './executor.ts'
import { FillGapWatch, type FillGapStats } from './fill-gap-watch.ts'
import { OpenOrderSweep, type SweepReport } from './open-order-sweep.ts'
import { REPORT_READ_BACK_PACE_MS, REPORT_READ_BACKS_WAITING_MAX, ReportReadBacks } from './report-read-backs.ts'
import { VenueOpenOrders } from './venue-open-orders.ts'

export interface OrderReadBacksOptions {
  engine: Engine
  executor: Executor
  clock: Clock
  /** The sweep's interval (0: no periodic sweep; GatewayOptions.reconcileSweepMs). */
  sweepIntervalMs: number
  /** Orders one sweep reads back at most. */
  sweepOrdersMax: number
  fillGapGraceMs: number
  /** OpenOrderSweepOptions.tradeHistoryMsOf: how long each venue lists an order's trades (null: no trade query). */
  tradeHistoryMsOf?: (venue: string) => number | null | undefined
  /** At most one read-back per order in this long for its venue's reports (default REPORT_READ_BACK_PACE_MS). */
  reportReadBackPaceMs?: number
  onError: (error: unknown, context: string) => void
}

export class OrderReadBacks {
  private readonly options: OrderReadBacksOptions
  /** The sweep's candidates: the orders open at a venue, not every order the kernel holds. */
  private readonly venueOpen: VenueOpenOrders
  /** When each order was last read back by the sweep (runtime pacing only; not a decision, so not in the log). */
  private readonly openOrderSweep: OpenOrderSweep
  /** Orders whose fill reports showed the venue ahead of egress's books: read back if the gap stays open. */
  private readonly fillGapWatch: FillGapWatch
  /** Orders a venue's reports asked to have read back (an invalid report, one not recorded): paced, within the budget. */
  private readonly reportReadBacks: ReportReadBacks
  private sweepCancel: (() => void) | null = null

  constructor(options: OrderReadBacksOptions) {
    this.options = options
    const { engine, executor, clock } = options
    // The order's venue's room (Executor.callsLeftFor): a venue at its share of the budget takes no read-back.
    const callsLeftFor = (orderId?: string): number => {
      const venue = orderId === undefined ? undefined : engine.state.orders.get(orderId)?.venue
      return venue === undefined ? executor.callsBudgetLeft : executor.callsLeftFor(venue)
    }
    this.venueOpen = new VenueOpenOrders(engine.state)
    this.openOrderSweep = new OpenOrderSweep({
      clock,
      state: engine.state,
      venueOpen: this.venueOpen,
      callsBudgetLeft: callsLeftFor,
      listOpenOrders: (venue) => executor.listOpenOrders(venue),
      readBack: (orderId) => this.readBack(orderId),
      intervalMs: options.sweepIntervalMs,
      ordersMax: options.sweepOrdersMax,
      ...(options.tradeHistoryMsOf === undefined ? {} : { tradeHistoryMsOf: options.tradeHistoryMsOf }),
    })
    this.fillGapWatch = new FillGapWatch({
      clock,
      graceMs: options.fillGapGraceMs,
      orderOf: (orderId) => engine.state.orders.get(orderId),
      readBack: (orderId) => this.readBack(orderId),
      callsBudgetLeft: callsLeftFor,
    })
    this.reportReadBacks = new ReportReadBacks({
      clock,
      paceMs: options.reportReadBackPaceMs ?? REPORT_READ_BACK_PACE_MS,
      ordersMax: REPORT_READ_BACKS_WAITING_MAX,
      holds: (orderId) => engine.state.orders.has(orderId),
      callsBudgetLeft: callsLeftFor,
      readBack: (orderId) => this.readBack(orderId),
    })
  }

  /** A venue's report asks for its order to be read back (report-intake.ts): paced (report-read-backs.ts). */
  askedByReport(orderId: string): void {
    this.reportReadBacks.want(orderId)
  }

  /** Reads an open order back from its venue (the executor's reconcile: status and trades). */
  readBack(orderId: string): void {
    this.openOrderSweep.noteReadBack(orderId)
    void this.options.executor.reconcileOrder(orderId)
  }

  /**
   * Reads back the order a venue client id (order, cancel or amend id) names, when it is one of ours: a venue sent news
   * of it that is no report to apply (VenueAdapter.onReadBackWanted). Other ids are not ours to ask about. Paced like
   * every read-back a venue's own messages ask for (report-read-backs.ts).
   */
  readBackClientId(clientOrderId: string): void {
    const orderId = orderIdFromClientId(clientOrderId)
    if (orderId !== null && this.options.engine.state.orders.has(orderId)) this.askedByReport(orderId)
  }

  /**
   * Reads back every order open at `venue` (OPEN_AT_VENUE, and ended ones holding synthetic quantity): the venue's
   * reports for a span may be lost for all of them (VenueAdapter.onVenueReadBackWanted). Paced and bounded like the
   * read-backs reports ask for; an order past the bound is left to the open-order sweep.
   */
  readBackVenue(venue: string): void {
    for (const orderId of [...this.venueOpen.values()]) {
      if (this.options.engine.state.orders.get(orderId)?.venue === venue) this.askedByReport(orderId)
    }
  }

  /** What the fill-gap watch has done (running totals) and the gaps open now, for /metrics. */
  get fillGaps(): { stats: Readonly<FillGapStats>; openCount: number } {
    return { stats: this.fillGapWatch.stats, openCount: this.fillGapWatch.openCount }
  }

  /** A fill report's cumulative quantity for the order, for the fill-gap watch. */
  noteFill(orderId: string, venueCumQty: Units): void {
    this.fillGapWatch.noteFill(orderId, venueCumQty)
  }

  /** A durable batch's events: the orders open at a venue kept current, closed ones dropped from the watches. */
  noteDurable(events: readonly AppliedEvent[]): void {
    this.venueOpen.note(events, (orderId) => {
      this.openOrderSweep.closed(orderId)
      this.fillGapWatch.closed(orderId)
    })
  }

  /** Checks the open orders that have had no news for a sweep interval (open-order-sweep.ts). */
  sweep(): Promise<SweepReport> {
    return this.openOrderSweep.sweep()
  }

  /** Schedules the periodic sweep (none when its interval is 0). */
  armSweep(): void {
    const { sweepIntervalMs, clock, onError } = this.options
    if (sweepIntervalMs <= 0) return
    this.sweepCancel = clock.schedule(sweepIntervalMs, () => {
      this.sweep().catch((error: unknown) => onError(error, 'open-order sweep'))
      this.armSweep()
    })
  }

  /** No sweep is scheduled, no fill gap watched, from here on. */
  stop(): void {
    this.sweepCancel?.()
    this.sweepCancel = null
    this.fillGapWatch.stop()
    this.reportReadBacks.stop()
  }
}
