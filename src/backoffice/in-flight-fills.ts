/**
 * Which venue differences the fills in flight account for exactly. A venue trade the ledger lacks, younger than
 * VENUE_REPORT_LAG_MS_MAX, may be a fill whose report is still on its way (venue-suspects.ts); this works out, for one
 * account whose every lacking trade is that young, which of the run's differences vanish once those trades are added
 * to the ledger's side:
 *  - a balance (`venue_balances`): the ledger's amount plus what the trades move in the asset (base ± qty, quote ∓ the
 *    cash rounded against the account, as the venue charges it, and the fee in its asset) equals the venue's;
 *  - a filled quantity (`venue_open_orders` cum_qty): the ledger's plus the order's lacking trades equals the venue's;
 *  - an order open in egress and not open at the venue: the ledger's filled quantity plus the order's lacking trades
 *    is the whole order (the venue filled it);
 *  - a trades total (`venue_trades` per order): what the ledger booked plus the order's lacking trades.
 * The balances and open orders are read before the trades, so a trade made in between is in the trades and not in
 * what was read before: those two compare with the trades made up to some moment (a prefix by venue time), any of them.
 *
 * A difference accounted for to the unit is not one egress knows to be wrong: it stays a suspect however long a stream
 * of fills keeps it there, and is judged again as soon as one of its trades is overdue (then nothing of the account is
 * explained). One that is not — a residue beside the fills, or a difference of another kind — is judged as before.
 */

import { mulUnits, parseComputedDecimal, type Units } from '../domain/decimal.ts'
import type { VenueTrade } from '../venues/adapter.ts'
import { venueBalanceKey } from './breaks.ts'
import { heldOrderOf } from './held-order-index.ts'
import type { Observation } from './internal-checks.ts'
import type { LedgerState } from './ledger-state.ts'

export interface InFlightAccount {
  venue: string
  accountId: string
  /** The venue trades of the account the ledger lacks, all young (in flight). */
  trades: readonly VenueTrade[]
}

/** The keys among `observations` that the account's trades in flight account for exactly (see the header). */
export function explainedByFills(ledger: LedgerState, account: InFlightAccount, observations: readonly Observation[]): Set<string> {
  const { venue, accountId } = account
  const trades = [...account.trades].sort((a, b) => a.venueTimeMs - b.venueTimeMs)
  // Per balance key and per order: the running totals after each trade, by venue time (index 0: none yet).
  const balanceSteps = new Map<string, Units[]>()
  const orderSteps = new Map<string, Units[]>()
  const step = (steps: Map<string, Units[]>, key: string, delta: Units): void => {
    let totals = steps.get(key)
    if (totals === undefined) steps.set(key, (totals = [0n]))
    totals.push((totals.at(-1) ?? 0n) + delta)
  }
  for (const trade of trades) {
    const order = heldOrderOf(ledger.orders, venue, accountId, trade.clientOrderId)
    // A trade of an order the ledger does not hold moves assets it cannot name: nothing is explained by guesswork.
    if (order === undefined) return new Set()
    const buy = trade.side === 'buy'
    const cash = mulUnits(trade.qty, trade.price, buy ? 'up' : 'down')
    const moves = new Map<string, Units>([[order.baseAsset, buy ? trade.qty : -trade.qty]])
    moves.set(order.quoteAsset, (moves.get(order.quoteAsset) ?? 0n) + (buy ? -cash : cash))
    moves.set(trade.feeAsset, (moves.get(trade.feeAsset) ?? 0n) - trade.fee)
    for (const [asset, delta] of moves) step(balanceSteps, venueBalanceKey(venue, accountId, asset), delta)
    step(orderSteps, order.orderId, trade.qty)
  }
  const explained = new Set<string>()
  const byKey = new Map(observations.map((observation) => [observation.key, observation]))
  const amountsMatch = (key: string, totals: readonly Units[], anyPrefix: boolean): void => {
    const observation = byKey.get(key)
    if (observation === undefined) return
    const expected = amountOf(observation.expected)
    const actual = amountOf(observation.actual)
    if (expected === null || actual === null) return
    const candidates = anyPrefix ? totals : totals.slice(-1)
    if (candidates.some((delta) => expected + delta === actual)) explained.add(key)
  }
  for (const [key, totals] of balanceSteps) amountsMatch(key, totals, true)
  for (const [orderId, totals] of orderSteps) {
    amountsMatch(`venue_open_orders:${venue}:${orderId}:cum_qty`, totals, true)
    amountsMatch(`venue_trades:${venue}:order:${orderId}`, totals, false)
    const order = ledger.orders.get(orderId)
    const notOpen = byKey.get(`venue_open_orders:${venue}:${orderId}`)
    if (order !== undefined && notOpen?.actual === 'not open' && totals.some((delta) => order.cumQty + delta === order.qty)) explained.add(notOpen.key)
  }
  return explained
}

/** An observation's amount, or null for one that is not an amount (a status). */
function amountOf(text: string): Units | null {
  try {
    return parseComputedDecimal(text)
  } catch {
    return null
  }
}
