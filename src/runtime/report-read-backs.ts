/**
 * The read-backs a venue's own reports ask for (report-intake.ts): a report refused as invalid, one the kernel did not
 * record, one dropped while the log had no room. Each asks for its order to be read back from the venue (status and
 * trades). Unlike the open-order sweep's and the fill-gap watch's, these read-backs went straight to the executor, so
 * a venue repeating such reports had an order read back again as soon as the last read-back ended, past the
 * executor's call budget (callsInFlightMax) that bounds every other venue call: a broken venue session could spend
 * the calls new orders need, or trip the venue's own rate limits.
 *
 * Paced here: an order is read back at most once per `paceMs` for its reports (a request inside that waits for the
 * end of it, and any number of requests meanwhile make one read-back), and never with the last free calls
 * (readBackMayStart, as the fill-gap watch): then the request is looked at again `paceMs` later. Runtime only: nothing
 * is logged. Bounded: at most `ordersMax` orders wait, and as many read-back times are kept (the oldest forgotten
 * first); a request past the bound is dropped and counted, its order left to the open-order sweep.
 */

import type { Clock } from '../domain/clock.ts'
import { readBackMayStart } from './read-back.ts'

/** At most one report-asked read-back per order in this long. */
export const REPORT_READ_BACK_PACE_MS = 1_000
/** Orders waiting for a report-asked read-back, and read-back times remembered, at most. */
export const REPORT_READ_BACKS_WAITING_MAX = 10_000

export interface ReportReadBacksOptions {
  clock: Clock
  paceMs: number
  ordersMax: number
  /** Whether the kernel still holds the order (a retired one is not read back). */
  holds: (orderId: string) => boolean
  /** Calls that may still start to the order's venue (Executor.callsLeftFor). */
  callsBudgetLeft: (orderId: string) => number
  readBack: (orderId: string) => void
}

export class ReportReadBacks {
  private readonly options: ReportReadBacksOptions
  /** When each order was last read back for its reports: insertion order is age (refreshed on each read-back). */
  private readonly readAtMs = new Map<string, number>()
  /** Orders whose read-back waits for its pace or for free calls, with the timer that looks again. */
  private readonly waiting = new Map<string, () => void>()
  private stopped = false
  /** Requests dropped because `ordersMax` orders were waiting already. */
  dropped = 0

  constructor(options: ReportReadBacksOptions) {
    this.options = options
  }

  get waitingCount(): number {
    return this.waiting.size
  }

  /** A report asks for `orderId` to be read back. */
  want(orderId: string): void {
    if (this.stopped || this.waiting.has(orderId) || !this.options.holds(orderId)) return
    const dueInMs = this.dueInMs(orderId)
    if (dueInMs <= 0 && readBackMayStart(this.options.callsBudgetLeft(orderId))) return this.read(orderId)
    if (this.waiting.size >= this.options.ordersMax) {
      this.dropped++
      return
    }
    this.wait(orderId, Math.max(dueInMs, 1))
  }

  /** Cancels every timer; later requests are ignored. */
  stop(): void {
    this.stopped = true
    for (const cancel of this.waiting.values()) cancel()
    this.waiting.clear()
  }

  private dueInMs(orderId: string): number {
    const readAtMs = this.readAtMs.get(orderId)
    return readAtMs === undefined ? 0 : readAtMs + this.options.paceMs - this.options.clock.nowMs()
  }

  private wait(orderId: string, delayMs: number): void {
    this.waiting.set(orderId, this.options.clock.schedule(delayMs, () => this.due(orderId)))
  }

  private due(orderId: string): void {
    this.waiting.delete(orderId)
    if (this.stopped || !this.options.holds(orderId)) return
    if (!readBackMayStart(this.options.callsBudgetLeft(orderId))) return this.wait(orderId, this.options.paceMs)
    this.read(orderId)
  }

  private read(orderId: string): void {
    this.readAtMs.delete(orderId)
    this.readAtMs.set(orderId, this.options.clock.nowMs())
    if (this.readAtMs.size > this.options.ordersMax) {
      const oldest = this.readAtMs.keys().next().value
      if (oldest !== undefined) this.readAtMs.delete(oldest)
    }
    this.options.readBack(orderId)
  }
}
