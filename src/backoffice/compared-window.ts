/**
 * Which of an account's held orders the trades check compares (venue-trades.ts): those not done when the run started,
 * and those that had ended by then within the venue's trade history (`fromMs` on); of them, each that has not ended
 * before the check's own horizon, nor been retired, by the time the check looks (`inWindowNow`).
 *
 * Two ways to get at them, with the same answers:
 *  - listed (`listedWindow`): every such order in a list, taken when the run starts (the open-order index and a walk
 *    of every end since `fromMs`, held-order-index.ts). What a run costs grows with the traffic of the trade history
 *    (five minutes of it for the sim venue), although most orders end with no fill and nothing to compare;
 *  - indexed (`indexedRun`): the run starts from the orders not done and the ended orders with a fill since `fromMs`
 *    (filled-ends.ts), and looks any other order up when a venue trade or an open break names it: `startedIn` says
 *    whether it was in the window when the run started, from what the index kept (the orders not done then, the
 *    ledger's LSN then, and the reopenings and late fills since, run-changes.ts). Every order in the window with a fill
 *    or a venue trade is among the candidates, so the check compares exactly what the listed way compares, and covers
 *    the keys of the others lazily (CoveredKeys.addLazy): an open break's key is answered as of the check (the run's
 *    open breaks are taken when it starts), any other key when asked.
 * The indexed way needs the ended-order list in end-time order over the walk's reach (endedOutOfOrderThroughMs): after
 * the wall clock stepped back, the listed way's walk stops at the step, and runs take it until the step is older than
 * the trade history.
 */

import { isTerminal } from '../domain/states.ts'
import { endedOutOfOrderThroughMs, newestEnded } from '../kernel/ended-order-list.ts'
import type { WorkSlices } from '../runtime/work-slices.ts'
import type { CoveredKeys } from './covered-keys.ts'
import { ENDED_WALK_SLACK_MS, endedFillsOf, endedFillsSince, endedSince, watchRun } from './held-order-index.ts'
import type { LedgerState } from './ledger-state.ts'
import type { TrackedOrder } from './orders.ts'
import { RunChanges } from './run-changes.ts'

/** One account's window of a run's trades check. */
export interface AccountWindow {
  /**
   * The orders to look at: every order in the window that has a fill (or that `traded`, the held orders the venue's
   * trades name, holds) is among them; some may not be in the window, some may come twice.
   */
  candidates(traded: ReadonlyMap<string, TrackedOrder>, slices: WorkSlices): Iterable<TrackedOrder> | Promise<Iterable<TrackedOrder>>
  /** Whether `order` (of this account and venue) was in the window when the run started. */
  startedIn(order: TrackedOrder): boolean
  /** Whether it is in the window now: not ended before `ordersFromMs`, not retired. */
  inWindowNow(order: TrackedOrder, ordersFromMs: number): boolean
  /** Covers `prefix + orderId` for the orders in the window the check did not look at (`looked`: those it did). */
  coverRest(covered: CoveredKeys, prefix: string, ordersFromMs: number, looked: ReadonlySet<string>): void
}

/** A run's windows, per account; `close` when the run's checks end. */
export interface RunWindows {
  /** Whether the run went the indexed way (else the listed way, after the wall clock stepped back). */
  readonly indexed: boolean
  windowOf(accountId: string): AccountWindow
  close(): void
}

/** The listed way: `orders` are the window (the caller's list), nothing else is. */
export function listedWindow(ledger: LedgerState, orders: readonly TrackedOrder[]): AccountWindow {
  return {
    candidates: () => orders,
    startedIn: () => true,
    inWindowNow: (order, ordersFromMs) => {
      const endedAtMs = ledger.endedOrders.get(order.orderId)
      if (endedAtMs !== undefined) return endedAtMs >= ordersFromMs
      // Retired during a pause (it left endedOrders with the ledger's orders): not compared, as if already gone.
      return ledger.orders.get(order.orderId) === order
    },
    coverRest: () => undefined,
  }
}

/**
 * The windows of a run starting now, `open` being the orders not done per account (taken just before, with no pause
 * between). Indexed when the ended-order list allows it (see the header), else listed (with a walk of the recent ends).
 * `openBreakKeys`: the open breaks' keys, for the order keys among them to be answered as of the check.
 */
export async function runWindows(
  ledger: LedgerState,
  venue: string,
  fromMs: number,
  open: ReadonlyMap<string, readonly TrackedOrder[]>,
  slices: WorkSlices,
  openBreakKeys: Iterable<string> = [],
): Promise<RunWindows> {
  const stopBeforeMs = fromMs - ENDED_WALK_SLACK_MS
  if (fromMs !== Number.NEGATIVE_INFINITY && stopBeforeMs <= endedOutOfOrderThroughMs(ledger.endedOrders)) {
    const ended = await endedSince(ledger, venue, fromMs, slices)
    return { indexed: false, windowOf: (accountId) => listedWindow(ledger, [...(open.get(accountId) ?? []), ...(ended.get(accountId) ?? [])]), close: () => undefined }
  }
  const run = new IndexedRun(ledger, venue, fromMs, open, openBreakKeys)
  const filledSince = await endedFillsSince(run.filled, venue, fromMs, slices)
  return { indexed: true, windowOf: (accountId) => run.windowOf(accountId, filledSince.get(accountId) ?? []), close: () => run.close() }
}

/** What the indexed way keeps of a run's start (see the header). */
class IndexedRun {
  readonly filled
  readonly #ledger: LedgerState
  readonly #venue: string
  readonly #fromMs: number
  readonly #startLsn: number
  readonly #open: ReadonlyMap<string, readonly TrackedOrder[]>
  readonly #openIds = new Map<string, ReadonlySet<string>>()
  readonly #changes = new RunChanges()
  readonly #unwatch: () => void
  /** Per account, the held orders an open venue_trades order break names. */
  readonly #named = new Map<string, TrackedOrder[]>()

  constructor(ledger: LedgerState, venue: string, fromMs: number, open: ReadonlyMap<string, readonly TrackedOrder[]>, openBreakKeys: Iterable<string>) {
    this.#ledger = ledger
    this.#venue = venue
    this.#fromMs = fromMs
    this.#startLsn = ledger.lastLsn
    this.#open = open
    this.filled = endedFillsOf(ledger.orders)
    this.#unwatch = watchRun(ledger.orders, this.#changes)
    const prefix = `venue_trades:${venue}:order:`
    for (const key of openBreakKeys) {
      if (!key.startsWith(prefix)) continue
      const order = ledger.orders.get(key.slice(prefix.length))
      if (order === undefined || order.venue !== venue) continue
      const named = this.#named.get(order.accountId)
      if (named === undefined) this.#named.set(order.accountId, [order])
      else named.push(order)
    }
  }

  close(): void {
    this.#unwatch()
  }

  windowOf(accountId: string, filledSince: readonly TrackedOrder[]): AccountWindow {
    return {
      candidates: (traded, slices) => this.#candidates(accountId, filledSince, traded, slices),
      startedIn: (order) => this.#startedIn(order),
      inWindowNow: (order, ordersFromMs) => this.#inWindowNow(order, ordersFromMs),
      coverRest: (covered, prefix, ordersFromMs, looked) => this.#coverRest(accountId, covered, prefix, ordersFromMs, looked),
    }
  }

  #candidates(accountId: string, filledSince: readonly TrackedOrder[], traded: ReadonlyMap<string, TrackedOrder>, slices: WorkSlices): TrackedOrder[] | Promise<TrackedOrder[]> {
    const ofAccount = (order: TrackedOrder): boolean => order.accountId === accountId && order.venue === this.#venue
    const found = [...(this.#open.get(accountId) ?? []), ...filledSince, ...traded.values()]
    for (const { order } of this.#changes.reopened.values()) if (ofAccount(order)) found.push(order)
    if (!this.#changes.lateFilledOverflowed) {
      for (const order of this.#changes.lateFilled.values()) if (ofAccount(order)) found.push(order)
      return found
    }
    // Too many late fills to have kept: the list of ended orders with fills as it is now has them all.
    return endedFillsSince(this.filled, this.#venue, this.#fromMs, slices).then((now) => [...found, ...(now.get(accountId) ?? [])])
  }

  #startedIn(order: TrackedOrder): boolean {
    if (this.#openIdsOf(order.accountId).has(order.orderId)) return true
    if (order.acceptedLsn > this.#startLsn) return false
    // Held when the run started and not open then: ended, at the time it had then (a reopening since says which).
    const reopened = this.#changes.reopened.get(order.orderId)
    if (reopened === undefined && !isTerminal(order.status)) return this.#changes.reopenedOverflowed
    const endedAtMs = reopened === undefined ? this.#endedAtOf(order) : reopened.endedAtMs
    return endedAtMs !== undefined && endedAtMs >= this.#fromMs
  }

  #inWindowNow(order: TrackedOrder, ordersFromMs: number): boolean {
    const endedAtMs = this.#endedAtOf(order)
    if (endedAtMs !== undefined) return endedAtMs >= ordersFromMs
    return this.#ledger.orders.get(order.orderId) === order
  }

  /** Its end time in the ledger (only an ended order has one; the list of ended orders with fills has most). */
  #endedAtOf(order: TrackedOrder): number | undefined {
    if (!isTerminal(order.status)) return undefined
    return this.filled.get(order.orderId)?.endedAtMs ?? this.#ledger.endedOrders.get(order.orderId)
  }

  #openIdsOf(accountId: string): ReadonlySet<string> {
    let ids = this.#openIds.get(accountId)
    if (ids === undefined) this.#openIds.set(accountId, (ids = new Set((this.#open.get(accountId) ?? []).map((order) => order.orderId))))
    return ids
  }

  #coverRest(accountId: string, covered: CoveredKeys, prefix: string, ordersFromMs: number, looked: ReadonlySet<string>): void {
    const inWindow = (order: TrackedOrder): boolean => !looked.has(order.orderId) && this.#startedIn(order) && this.#inWindowNow(order, ordersFromMs)
    // As of the check: the orders the open breaks name.
    const asOfCheck = new Map<string, boolean>()
    for (const order of this.#named.get(accountId) ?? []) asOfCheck.set(order.orderId, inWindow(order))
    const has = (orderId: string): boolean => {
      const answer = asOfCheck.get(orderId)
      if (answer !== undefined) return answer
      const order = this.#ledger.orders.get(orderId)
      return order !== undefined && order.accountId === accountId && order.venue === this.#venue && inWindow(order)
    }
    const ledger = this.#ledger
    const venue = this.#venue
    const stopBeforeMs = this.#fromMs - ENDED_WALK_SLACK_MS
    const open = this.#open.get(accountId) ?? []
    const reopened = this.#changes.reopened
    covered.addLazy(prefix, {
      has,
      // For tests and reports: the orders that were open, reopened, or ended within the walk's reach.
      *each() {
        for (const order of open) if (has(order.orderId)) yield order.orderId
        for (const { order } of reopened.values()) if (has(order.orderId)) yield order.orderId
        for (const order of recentEnds(ledger, venue, accountId, stopBeforeMs)) if (has(order.orderId)) yield order.orderId
      },
    })
  }
}

/** The held orders of the account on `venue` whose end is listed from the newest back to one before `stopBeforeMs`. */
function* recentEnds(ledger: LedgerState, venue: string, accountId: string, stopBeforeMs: number): Generator<TrackedOrder> {
  for (let entry = newestEnded(ledger.endedOrders); entry !== null && entry.endedAtMs >= stopBeforeMs; entry = entry.previous) {
    const order = ledger.orders.get(entry.orderId)
    if (order !== undefined && order.venue === venue && order.accountId === accountId) yield order
  }
}
