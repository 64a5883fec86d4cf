/**
 * External reconciliation: the ledger against what a venue says through its adapter — balances, open orders and
 * trades, per account. A venue that cannot be asked (an adapter call that does not come back `ok`) skips the check
 * rather than inventing a difference; its breaks stay as they were.
 *
 * Balances are compared on one of two bases. `total`: the venue holds the whole account, so its balance must equal the
 * ledger's. `trading`: the venue knows only what traded there (the sim venue starts every account empty; paper
 * funding never reached it), so its balance must equal the ledger's movements from fills and fees on that venue.
 */

import { formatDecimal, type Units } from '../domain/decimal.ts'
import type { VenueAdapter, VenueOrder, VenueTrade } from '../venues/adapter.ts'
import type { ReconcileCheck } from './breaks.ts'
import { diffAmounts, type Observation } from './internal-checks.ts'
import type { FillRecord, LedgerState } from './ledger.ts'
import type { TrackedOrder } from './orders.ts'

export type BalanceBasis = 'total' | 'trading'

export interface VenueSource {
  adapter: VenueAdapter
  balanceBasis: BalanceBasis
}

export interface ExternalResult {
  ran: ReconcileCheck[]
  skipped: { check: ReconcileCheck; detail: string }[]
  observations: Observation[]
}

/** A venue clock may run ahead of egress's: a trade of a known-unknown order this close after the window is let pass. */
const VENUE_CLOCK_TOLERANCE_MS = 5_000

/** States in which egress holds an order for open at the venue with nothing in flight about it. */
const SETTLED_OPEN = new Set(['AckedOpen', 'Partial'])
const TERMINAL = new Set(['Filled', 'Canceled', 'Rejected', 'Expired', 'Failed'])

/**
 * Where the trades check starts (epoch ms): orders that ended before it and trades before it are not compared. It is
 * the later of two horizons. The ledger's: the latest end among the orders it retired (retention.ts) — their trades
 * have no order left to match. The venue's: `adapter.tradeHistoryMs` before now — an older trade the venue may have
 * forgotten (the sim venue forgets ended orders, with their trades, once they are that old and it needs the room), so
 * a booked fill it no longer lists is not a break. Without either, every held order and every trade is compared.
 */
export function tradeWindowStartMs(ledger: LedgerState, adapter: VenueAdapter, nowMs: number): number {
  const venueHorizonMs = adapter.tradeHistoryMs === undefined ? 0 : nowMs - adapter.tradeHistoryMs
  return Math.max(ledger.retiredThroughAtMs, venueHorizonMs)
}

/**
 * Every check for every account on the venue. The ledger's orders are grouped by account once, so each account's
 * checks look at its own orders only; `pause` (an event-loop turn) runs between two accounts' checks, so a venue
 * that answers at once (the sim venue) does not turn the whole run into one synchronous stretch. `fillsOf` gives an
 * account's fills on the venue from an LSN on: the trades check asks only from the first acceptance in its window.
 */
export async function reconcileVenue(
  source: VenueSource,
  ledger: LedgerState,
  fillsOf: (accountId: string, venue: string, fromLsn: number) => FillRecord[],
  options: { nowMs: number; pause?: () => Promise<void> },
): Promise<ExternalResult> {
  const venue = source.adapter.venue
  const pause = options.pause ?? (async () => undefined)
  const windowStartMs = tradeWindowStartMs(ledger, source.adapter, options.nowMs)
  const ordersOf = ordersByAccount(ledger, venue)
  const accounts = [...ordersOf.keys()].sort()
  const result: ExternalResult = { ran: [], skipped: [], observations: [] }
  const checks: [ReconcileCheck, (accountId: string, orders: readonly TrackedOrder[]) => Promise<Observation[] | string>][] = [
    ['venue_balances', (accountId) => balances(source, ledger, accountId)],
    ['venue_open_orders', (accountId, orders) => openOrders(source.adapter, orders, accountId)],
    ['venue_trades', (accountId, orders) => trades(source.adapter, windowOf(ledger, orders, windowStartMs, (fromLsn) => fillsOf(accountId, venue, fromLsn)), accountId)],
  ]
  for (const [check, run] of checks) {
    const found: Observation[] = []
    let failure: string | null = null
    for (const accountId of accounts) {
      await pause()
      const outcome = await run(accountId, ordersOf.get(accountId) ?? [])
      if (typeof outcome === 'string') {
        failure = `${venue}/${accountId}: ${outcome}`
        break
      }
      found.push(...outcome)
    }
    if (failure === null) {
      result.ran.push(check)
      result.observations.push(...found)
    } else {
      result.skipped.push({ check, detail: failure })
    }
  }
  return result
}

/** The orders on `venue` per account that placed any there (one pass over the ledger's orders). */
function ordersByAccount(ledger: LedgerState, venue: string): Map<string, TrackedOrder[]> {
  const byAccount = new Map<string, TrackedOrder[]>()
  for (const order of ledger.orders.values()) {
    if (order.venue !== venue) continue
    const orders = byAccount.get(order.accountId)
    if (orders === undefined) byAccount.set(order.accountId, [order])
    else orders.push(order)
  }
  return byAccount
}

async function balances(source: VenueSource, ledger: LedgerState, accountId: string): Promise<Observation[] | string> {
  const venue = source.adapter.venue
  const answer = await source.adapter.balances(accountId)
  if (answer.kind !== 'ok') return `balances: ${answer.kind} (${'reason' in answer ? answer.reason : ''})`
  const atVenue = new Map<string, Units>(answer.value.map((balance) => [balance.asset, balance.total]))
  const expected = source.balanceBasis === 'total' ? new Map(ledger.books.get(`acct:${accountId}`) ?? []) : tradingFlows(ledger, accountId, venue)
  return diffAmounts('venue_balances', expected, atVenue, (asset) => ({
    key: `venue_balances:${venue}:${accountId}:${asset}`,
    what: `${source.balanceBasis === 'total' ? 'balance' : 'traded balance'} of ${accountId} in ${asset}: ledger vs ${venue}`,
  }))
}

/** What fills and fees on `venue` moved in the account, per asset (from its positions there). */
export function tradingFlows(ledger: LedgerState, accountId: string, venue: string): Map<string, Units> {
  const flows = new Map<string, Units>()
  const add = (asset: string, amount: Units): void => void flows.set(asset, (flows.get(asset) ?? 0n) + amount)
  for (const position of ledger.positions.values()) {
    if (position.accountId !== accountId || position.venue !== venue) continue
    add(position.baseAsset, position.netQty)
    // realized − costBasis is exactly the cash the fills moved (see positions.ts).
    add(position.quoteAsset, position.realizedPnl - position.costBasis)
    for (const [asset, fee] of position.fees) add(asset, -fee)
  }
  return flows
}

/** `orders`: the account's orders on this venue. */
async function openOrders(adapter: VenueAdapter, orders: readonly TrackedOrder[], accountId: string): Promise<Observation[] | string> {
  const venue = adapter.venue
  const answer = await adapter.openOrders(accountId)
  if (answer.kind !== 'ok') return `openOrders: ${answer.kind}`
  const byClientId = new Map<string, TrackedOrder>()
  for (const order of orders) for (const id of order.clientIds) byClientId.set(id, order)
  const found: Observation[] = []
  const seen = new Set<string>()
  for (const venueOrder of answer.value) {
    const order = byClientId.get(venueOrder.clientOrderId)
    if (order === undefined) {
      found.push(openBreak(venue, venueOrder.clientOrderId, 'an order open at the venue that egress never placed', 'absent', describe(venueOrder)))
      continue
    }
    seen.add(order.orderId)
    if (TERMINAL.has(order.status)) found.push(openBreak(venue, order.orderId, `order ${order.orderId} open at the venue, done in egress`, order.status, describe(venueOrder)))
    else if (venueOrder.cumQty !== order.cumQty) found.push(openBreak(venue, `${order.orderId}:cum_qty`, `filled quantity of ${order.orderId}`, formatDecimal(order.cumQty), formatDecimal(venueOrder.cumQty)))
  }
  for (const order of byClientId.values()) {
    if (seen.has(order.orderId) || !SETTLED_OPEN.has(order.status)) continue
    seen.add(order.orderId)
    found.push(openBreak(venue, order.orderId, `order ${order.orderId} open in egress, not open at the venue`, order.status, 'not open'))
  }
  return found
}

function openBreak(venue: string, id: string, what: string, expected: string, actual: string): Observation {
  return { key: `venue_open_orders:${venue}:${id}`, check: 'venue_open_orders', what, expected, actual }
}

function describe(order: VenueOrder): string {
  return `${order.status} ${order.side} ${formatDecimal(order.cumQty)}/${formatDecimal(order.qty)} as ${order.clientOrderId}`
}

/** What the trades check compares for one account: the orders in the window, their fills, and where it starts. */
interface TradesWindow {
  /** The account's held orders on the venue (a trade of any of them is known, compared or not). */
  orders: readonly TrackedOrder[]
  /** The ids of those open or ended since the window's start: their fills and trades are compared. */
  compared: ReadonlySet<string>
  fills: FillRecord[]
  startMs: number
}

function windowOf(ledger: LedgerState, orders: readonly TrackedOrder[], startMs: number, fillsFrom: (fromLsn: number) => FillRecord[]): TradesWindow {
  const compared = new Set<string>()
  let fromLsn = Number.POSITIVE_INFINITY
  for (const order of orders) {
    const endedAtMs = ledger.endedOrders.get(order.orderId)
    if (endedAtMs !== undefined && endedAtMs < startMs) continue
    compared.add(order.orderId)
    if (order.acceptedLsn < fromLsn) fromLsn = order.acceptedLsn
  }
  const fills = compared.size === 0 ? [] : fillsFrom(fromLsn).filter((fill) => compared.has(fill.orderId))
  return { orders, compared, fills, startMs }
}

/** The account's trades at the venue against its booked fills, for the orders in the window. */
async function trades(adapter: VenueAdapter, window: TradesWindow, accountId: string): Promise<Observation[] | string> {
  const venue = adapter.venue
  const answer = await adapter.trades({ account: accountId })
  if (answer.kind !== 'ok') return `trades: ${answer.kind}`
  const orderOf = new Map<string, string>()
  for (const order of window.orders) for (const id of order.clientIds) orderOf.set(id, order.orderId)
  const booked = new Map(window.fills.map((fill) => [fill.execId, fill]))
  const found: Observation[] = []
  const tradeBreak = (id: string, what: string, expected: string, actual: string): void =>
    void found.push({ key: `venue_trades:${venue}:${id}`, check: 'venue_trades', what, expected, actual })
  const venueQty = new Map<string, Units>()
  for (const trade of answer.value) {
    const orderId = orderOf.get(trade.clientOrderId)
    if (orderId === undefined) {
      // Before the window: a trade of an order the ledger retired, or one the venue may soon forget.
      if (trade.venueTimeMs <= window.startMs + VENUE_CLOCK_TOLERANCE_MS) continue
      tradeBreak(trade.execId, `venue trade ${trade.execId} for an order egress does not hold`, 'absent', tradeText(trade))
      continue
    }
    if (!window.compared.has(orderId)) continue
    venueQty.set(orderId, (venueQty.get(orderId) ?? 0n) + trade.qty)
    const fill = booked.get(trade.execId)
    if (fill === undefined) continue // a synthetic fill may stand for it; the per-order total below decides
    booked.delete(trade.execId)
    if (fill.qty !== trade.qty || fill.price !== trade.price || fill.fee !== trade.fee) tradeBreak(trade.execId, `fill ${trade.execId} differs from the venue's trade`, fillText(fill), tradeText(trade))
  }
  for (const fill of booked.values()) if (!fill.synthetic) tradeBreak(fill.execId, `fill ${fill.execId} booked, no such trade at the venue`, fillText(fill), 'absent')
  const bookedQty = new Map<string, Units>()
  for (const fill of window.fills) bookedQty.set(fill.orderId, (bookedQty.get(fill.orderId) ?? 0n) + fill.qty)
  found.push(
    ...diffAmounts('venue_trades', bookedQty, venueQty, (orderId) => ({ key: `venue_trades:${venue}:order:${orderId}`, what: `filled quantity of ${orderId}: ledger vs ${venue} trades` })),
  )
  return found
}

function tradeText(trade: VenueTrade): string {
  return `${trade.side} ${formatDecimal(trade.qty)} @ ${formatDecimal(trade.price)} fee ${formatDecimal(trade.fee)} ${trade.feeAsset}`
}

function fillText(fill: FillRecord): string {
  return `${fill.side} ${formatDecimal(fill.qty)} @ ${formatDecimal(fill.price)} fee ${formatDecimal(fill.fee)} ${fill.feeAsset}`
}
