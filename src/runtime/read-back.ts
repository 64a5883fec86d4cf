/**
 * Reading one order back from its venue for reconcile: its status by client order id and its trades. They are two
 * calls, made together, and the venue reads each when that call reaches it, so the status may be read just after a
 * fill the trades list was read just before. Seed 30051 (`bun scripts/sim.ts --seed 30051 --steps 300 --step-ms
 * 400`): a price step filled three resting orders between the sweep's two reads of each; every status said filled,
 * every trades list was empty. The kernel takes a status its trades do not explain for a venue that cannot list the
 * trades, and books the difference as a synthetic fill at the limit price without fee. The order is then Filled and
 * never read again, so when the real trade's report is lost too, egress never learns its execId, price or fee.
 *
 * So when the status counts more filled than the trades listed and the fills egress holds, the trades are asked
 * again: asked after the status was read, the list holds every trade the status counted (a venue lists the trades
 * of its recent orders completely: VenueAdapter.tradeHistoryMs). What still differs after that is for the kernel to
 * judge (trades the venue no longer lists, a venue without a trade query).
 */

import type { Units } from '../domain/decimal.ts'
import { orderIdFromClientId } from '../domain/orders.ts'
import type { VenueAdapter, VenueOrder, VenueOutcome, VenueTrade } from '../venues/adapter.ts'

export interface ReadBack {
  /** The venue's view of the order; null when it says it does not know the id. */
  venueOrder: VenueOrder | null
  trades: VenueTrade[]
}

/**
 * The venue did not answer one of the read-back's calls. `retryAfterMs`: the longest wait a `retryable` answer asked
 * for (a venue throttling its queries), null when none did (unknown, a timeout): the caller backs off by it.
 */
export interface ReadBackUnanswered {
  retryAfterMs: number | null
}

/**
 * The longest wait a venue's Retry-After on a read-back is taken at: a minute. The order stays Unknown meanwhile, so a
 * venue (or a broken one) asking for more is asked again after this; a wait past it would leave the order unconverged
 * for as long as the venue cared to say.
 */
export const READ_BACK_RETRY_AFTER_MS_MAX = 60_000

/**
 * Venue calls one read-back has in flight at once, at most: the status and the trades together (the trades asked
 * again only after both answered). What a caller keeps free in the executor's call budget for each read-back.
 */
export const READ_BACK_CALLS = 2

/**
 * Whether an unplanned read-back (a fill gap's, a report's) may start with `callsBudgetLeft` free calls: never with
 * the last free calls, which new orders' sends need; several due at once would otherwise spend them all. The open-
 * order sweep and the start's read-backs take a share of the budget instead (at most half).
 */
export function readBackMayStart(callsBudgetLeft: number): boolean {
  return callsBudgetLeft > READ_BACK_CALLS
}

/** Makes one venue call, guarded (see `guarded`) and counted against the executor's call budget while it is out. */
export type VenueCall = <T>(call: () => Promise<VenueOutcome<T>>) => Promise<VenueOutcome<T>>

export interface ReadBackRequest {
  orderId: string
  /** The id the venue knows the order by now (its last applied amend's). */
  clientOrderId: string
  /** The quantity egress holds fills for, read when the answers are back (reports may land meanwhile). */
  heldCumQty: () => Units
  /**
   * The id of an amend under way (sent, its answer lost): a venue whose replace renames the order may know it only by
   * this one, so "not found" by `clientOrderId` is asked again by it before it is taken.
   */
  amendClientOrderId?: string | undefined
}

/**
 * The order's status and trades, the trades read after the status when they did not explain it; unanswered when the
 * venue did not answer a call (with the wait it asked for, if it did). Every venue call goes through `call` (default:
 * `guarded`, uncounted), so the executor counts each one.
 */
export async function readBack(adapter: VenueAdapter, request: ReadBackRequest, call: VenueCall = guarded): Promise<ReadBack | ReadBackUnanswered> {
  const { clientOrderId } = request
  const [status, trades] = await Promise.all([
    call(() => adapter.orderStatus(clientOrderId)),
    // A venue with no trade query would answer unknown forever, and the order would never be reconciled.
    adapter.tradesQueryable === false ? NO_TRADE_QUERY : call(() => adapter.trades({ clientOrderId })),
  ])
  if (status.kind !== 'ok' || trades.kind !== 'ok') return unanswered([status, trades])
  let venueOrder = status.value
  // Not found by the id asked, the order may be at the venue under its amend's: "not found" means by neither.
  const { amendClientOrderId } = request
  let renamedTo: string | null = null
  if (venueOrder === null && amendClientOrderId !== undefined && amendClientOrderId !== clientOrderId) {
    const renamed = await call(() => adapter.orderStatus(amendClientOrderId))
    if (renamed.kind !== 'ok') return unanswered([renamed])
    venueOrder = renamed.value
    if (venueOrder !== null) renamedTo = amendClientOrderId
  }
  if (adapter.tradesQueryable === false || venueOrder === null || explained(venueOrder, trades.value, request)) return { venueOrder, trades: trades.value }
  // Found under its amend's id, its trades since the replace are listed under that id too: asked by it, and added to
  // those listed under the old one. Asked by the old id alone, they were missing, and their quantity was booked as a
  // synthetic fill (RECONCILE_SYNTHETIC_FILL) the venue's own trades then had to true up.
  const later = await call(() => adapter.trades({ clientOrderId: renamedTo ?? clientOrderId }))
  if (later.kind !== 'ok') return unanswered([later])
  return { venueOrder, trades: renamedTo === null ? later.value : withoutRepeats(trades.value, later.value) }
}

/** `first` and then those of `then` whose execution id `first` does not list (the same trade under both of an order's ids). */
function withoutRepeats(first: readonly VenueTrade[], then: readonly VenueTrade[]): VenueTrade[] {
  const listed = new Set(first.map((trade) => trade.execId))
  return [...first, ...then.filter((trade) => !listed.has(trade.execId))]
}

/** Whether the read-back went unanswered. */
export function isUnanswered(result: ReadBack | ReadBackUnanswered): result is ReadBackUnanswered {
  return 'retryAfterMs' in result
}

/** The longest Retry-After among the outcomes (a finite, non-negative one), or null when none gave one. */
function unanswered(outcomes: readonly VenueOutcome<unknown>[]): ReadBackUnanswered {
  let retryAfterMs: number | null = null
  for (const outcome of outcomes) {
    if (outcome.kind !== 'retryable' || !Number.isFinite(outcome.retryAfterMs) || outcome.retryAfterMs < 0) continue
    retryAfterMs = Math.max(retryAfterMs ?? 0, outcome.retryAfterMs)
  }
  return { retryAfterMs }
}

/** Whether the trades listed for the order, or the fills egress holds, account for the venue's cumulative quantity. */
function explained(venueOrder: VenueOrder, trades: readonly VenueTrade[], request: ReadBackRequest): boolean {
  // Each execution once: a venue listing one twice explains no more (the kernel books it once, src/kernel/reconcile.ts).
  const counted = new Set<string>()
  let listedQty = 0n
  for (const trade of trades) {
    if (orderIdFromClientId(trade.clientOrderId) !== request.orderId || counted.has(trade.execId)) continue
    counted.add(trade.execId)
    listedQty += trade.qty
  }
  return venueOrder.cumQty <= listedQty || venueOrder.cumQty <= request.heldCumQty()
}

/** What reconcile takes for trades on a venue without a trade query (VenueAdapter.tradesQueryable): the status decides. */
const NO_TRADE_QUERY: Promise<VenueOutcome<VenueTrade[]>> = Promise.resolve({ kind: 'ok', value: [] })

/** An adapter must never reject; if one does anyway, the outcome is unknown — never a guess that it failed. */
export async function guarded<T>(call: () => Promise<VenueOutcome<T>>): Promise<VenueOutcome<T>> {
  try {
    return await call()
  } catch (error) {
    return thrownOutcome(error)
  }
}

/** A venue call's answer when its adapter threw (or its promise rejected): unknown, the call may have been made. */
export function thrownOutcome(error: unknown): VenueOutcome<never> {
  return { kind: 'unknown', reason: `adapter threw: ${String(error)}` }
}
