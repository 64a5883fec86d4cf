/**
 * Orders whose send decision threw (executor.ts `send`: a kernel assertion in decide, a market or gate-facts source
 * that failed), and when each may be decided again. Held for SEND_REFUSED_RETRY_MS at every throw, an order whose
 * decision throws for good was decided again ten times a second, each throw an error line: 864,000 a day per order.
 * Now each repeat waits twice as long as the one before, from SEND_THROW_RETRY_MS up to SEND_THROW_RETRY_MS_MAX, and
 * is reported once in full, then as a count every SEND_THROW_SUMMARY_MS: about 9,000 tries and 150 lines a day.
 *
 * The order is never given up: it stays where it is in its lane, held only from being picked, and is decided again
 * at the end of every wait — nothing was sent (the decision never returned, so no send record exists), so nothing can
 * be sent twice. Only the order is held (the orders behind it go on), and only while it is unchanged: any record of it
 * (a cancel asked for, which is Lane0 work) ends the wait at once and starts the waits over, so a back-off never holds
 * back a risk-reducing cancel. A decision that no longer throws forgets the order. Bounded: SEND_THROWS_HELD_MAX
 * orders; past it the longest held is forgotten, which only makes its next throw count as a first. Ended orders are
 * forgotten by a sweep at most every SEND_THROW_RETRY_MS (forgetEnded).
 *
 * The pick sets a held order's work aside until its wait ends (NextWorkOptions.sendHeldUntilMs: parked in the work
 * index, which also times the wake); looked at again by every pick, a wave of n throws cost n²/2 looks.
 */

import { isTerminal, type OrderState } from '../domain/states.ts'
import type { Clock } from '../domain/clock.ts'
import type { WorkItem } from '../kernel/index.ts'
import type { Engine } from './engine.ts'

/** The first wait after a send decision threw. */
export const SEND_THROW_RETRY_MS = 100
/** The longest wait between two tries of a send decision that keeps throwing. */
export const SEND_THROW_RETRY_MS_MAX = 10_000
/** How often a send decision that keeps throwing is reported again (with how many times it threw since). */
export const SEND_THROW_SUMMARY_MS = 10 * 60_000
/** Orders whose throws are remembered at once. */
export const SEND_THROWS_HELD_MAX = 10_000

interface SendThrowsOptions {
  engine: Pick<Engine, 'state'>
  clock: Clock
  /** Where a throw is reported (the executor's onError). */
  report: (error: unknown, context: string) => void
}

interface Throwing {
  /** The order as it was at the throw: any record of it since ends the wait. */
  status: OrderState
  updatedAtMs: number
  waitMs: number
  dueMs: number
  /** Throws since the last report, and when that report was made. */
  unreported: number
  reportedAtMs: number
}

export class SendThrows {
  private readonly throwing = new Map<string, Throwing>()
  /** When forgetEnded last swept. */
  private sweptAtMs = Number.NEGATIVE_INFINITY
  private readonly options: SendThrowsOptions
  /**
   * Until when the order is not picked (NextWorkOptions.sendHeldUntilMs): the end of its wait while nothing happened
   * to it since its decision threw; 0 once anything did (the hold is over), or for an order not remembered.
   */
  readonly heldUntilMs = (orderId: string): number => {
    const entry = this.throwing.get(orderId)
    return entry !== undefined && this.unchanged(orderId, entry) ? entry.dueMs : 0
  }

  constructor(options: SendThrowsOptions) {
    this.options = options
  }

  /**
   * The send decision of `item` threw `error`: its order waits, and the throw is reported or counted. The wait is set
   * before the report, which may throw itself (a logger that failed): the order is held all the same.
   */
  thrown(item: WorkItem, error: unknown): void {
    const nowMs = this.options.clock.nowMs()
    const order = this.options.engine.state.orders.get(item.orderId)
    const before = this.throwing.get(item.orderId)
    const moved = before !== undefined && !this.unchanged(item.orderId, before)
    const waitMs = before === undefined || moved ? SEND_THROW_RETRY_MS : Math.min(SEND_THROW_RETRY_MS_MAX, before.waitMs * 2)
    const summarized = before !== undefined && nowMs - before.reportedAtMs >= SEND_THROW_SUMMARY_MS
    const reported = before === undefined || summarized
    if (before === undefined && this.throwing.size >= SEND_THROWS_HELD_MAX) this.forgetOldest()
    this.throwing.delete(item.orderId)
    this.throwing.set(item.orderId, {
      status: order?.status ?? 'Enqueued',
      updatedAtMs: order?.updatedAtMs ?? 0,
      waitMs,
      dueMs: nowMs + waitMs,
      unreported: reported ? 0 : (before?.unreported ?? 0) + 1,
      reportedAtMs: reported ? nowMs : (before?.reportedAtMs ?? nowMs),
    })
    const context = `send decision for ${item.orderId}`
    if (before === undefined) this.options.report(error, context)
    else if (summarized) {
      const sinceS = Math.round((nowMs - before.reportedAtMs) / 1000)
      this.options.report(error, `${context}: threw again, ${before.unreported + 1} times in the last ${sinceS} s (tried again every ${waitMs} ms at most)`)
    }
  }

  /** The order's send decision did not throw: its next throw is a first again. */
  decided(orderId: string): void {
    if (this.throwing.size > 0) this.throwing.delete(orderId)
  }

  /** When the order's wait ends (the executor's wake after a throw); +Infinity for an order not remembered. */
  waitEndMs(orderId: string): number {
    return this.throwing.get(orderId)?.dueMs ?? Number.POSITIVE_INFINITY
  }

  /**
   * Forgets orders that ended or are gone (the picks pass sendHeldUntilMs only while any is remembered), at most once
   * per SEND_THROW_RETRY_MS: a sweep per pump cost O(remembered) each time (10,000 at the bound). A clock stepped back
   * sweeps at once.
   */
  forgetEnded(nowMs: number): void {
    if (this.throwing.size === 0 || (nowMs >= this.sweptAtMs && nowMs < this.sweptAtMs + SEND_THROW_RETRY_MS)) return
    this.sweptAtMs = nowMs
    for (const orderId of this.throwing.keys()) {
      const order = this.options.engine.state.orders.get(orderId)
      if (order === undefined || isTerminal(order.status)) this.throwing.delete(orderId)
    }
  }

  /** Orders remembered now (for the specs and the bound). */
  get size(): number {
    return this.throwing.size
  }

  private unchanged(orderId: string, entry: Throwing): boolean {
    const order = this.options.engine.state.orders.get(orderId)
    return order !== undefined && order.status === entry.status && order.updatedAtMs === entry.updatedAtMs
  }

  private forgetOldest(): void {
    for (const orderId of this.throwing.keys()) {
      this.throwing.delete(orderId)
      return
    }
  }
}
