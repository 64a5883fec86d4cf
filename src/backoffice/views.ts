/**
 * The back office's answers as API JSON: amounts as canonical decimal strings, snake_case names. Read from the query
 * model (SQLite), so each answer says which log position it reflects (`as_of_lsn`). Marks for unrealized PnL come
 * from the venue's reference price at the time of the request.
 */

import { formatDecimal, type Units } from '../domain/decimal.ts'
import type { BackOffice } from './backoffice.ts'
import type { OpenBreak } from './breaks.ts'
import type { ListedFill } from './fill-list.ts'
import type { Posting } from './ledger-state.ts'
import { averageCost, unrealizedPnl, type Position } from './positions.ts'
import type { BalanceRow } from './store.ts'

const text = formatDecimal

export function positionView(office: BackOffice, position: Position): Record<string, unknown> {
  const mark = office.markPrice(position.venue, position.symbol)
  const average = averageCost(position)
  return {
    account: position.accountId,
    venue: position.venue,
    symbol: position.symbol,
    base_asset: position.baseAsset,
    quote_asset: position.quoteAsset,
    net_qty: text(position.netQty),
    avg_cost: average === null ? null : text(average),
    cost_basis: text(position.costBasis),
    realized_pnl: text(position.realizedPnl),
    mark_price: mark === null ? null : text(mark),
    unrealized_pnl: mark === null ? null : text(unrealizedPnl(position, mark)),
    fees: Object.fromEntries([...position.fees].map(([asset, fee]) => [asset, text(fee)])),
    bought_qty: text(position.boughtQty),
    sold_qty: text(position.soldQty),
    fills: position.fillCount,
    last_lsn: position.lastLsn,
  }
}

export function balanceView(row: BalanceRow): Record<string, unknown> {
  return { account: row.accountId, asset: row.asset, total: text(row.total), reserved: text(row.reserved), available: text(row.total - row.reserved) }
}

/**
 * A row of the fill list (fill-list.ts): a fill record or the real execution behind a true-up (`replaces_synthetic`),
 * a synthetic fill with the quantity real executions have replaced (`superseded_qty`, null when not known) and whether
 * that is all of it (`superseded`).
 */
export function fillView(fill: ListedFill): Record<string, unknown> {
  return {
    lsn: fill.lsn,
    exec_id: fill.execId,
    order_id: fill.orderId,
    account: fill.accountId,
    venue: fill.venue,
    symbol: fill.symbol,
    side: fill.side,
    qty: text(fill.qty),
    price: text(fill.price),
    fee: text(fill.fee),
    fee_asset: fill.feeAsset,
    liquidity: fill.liquidity,
    synthetic: fill.synthetic,
    replaces_synthetic: fill.replacesSynthetic,
    superseded_qty: fill.supersededQty === null ? null : text(fill.supersededQty),
    superseded: fill.supersededQty === null ? null : fill.synthetic && fill.supersededQty === fill.qty,
    cash: text(fill.cash),
    venue_time_ms: fill.venueTimeMs,
    at_ms: fill.atMs,
  }
}

export function postingView(posting: Posting): Record<string, unknown> {
  return {
    lsn: posting.lsn,
    seq: posting.seq,
    book: posting.book,
    account: posting.accountId,
    asset: posting.asset,
    amount: text(posting.amount),
    kind: posting.kind,
    ref: posting.ref,
    at_ms: posting.atMs,
  }
}

/**
 * PnL per account and asset: realized, unrealized at the marks, fees, and net of fees. Realized and unrealized PnL are
 * in a position's quote asset; each fee counts in the row of the asset it was paid in (a venue may charge it in the
 * base asset or a third one), so an asset only fees were paid in has a row of its own.
 */
export function pnlView(office: BackOffice, positions: readonly Position[]): Record<string, unknown>[] {
  type Row = { account: string; asset: string; realized: Units; unrealized: Units; fees: Units; unmarked: string[] }
  const byKey = new Map<string, Row>()
  const rowOf = (account: string, asset: string): Row => {
    const key = `${account}\n${asset}`
    let row = byKey.get(key)
    if (row === undefined) {
      row = { account, asset, realized: 0n, unrealized: 0n, fees: 0n, unmarked: [] }
      byKey.set(key, row)
    }
    return row
  }
  for (const position of positions) {
    const row = rowOf(position.accountId, position.quoteAsset)
    row.realized += position.realizedPnl
    for (const [asset, fee] of position.fees) rowOf(position.accountId, asset).fees += fee
    const mark = office.markPrice(position.venue, position.symbol)
    if (mark === null && position.netQty !== 0n) row.unmarked.push(`${position.venue}:${position.symbol}`)
    else if (mark !== null) row.unrealized += unrealizedPnl(position, mark)
  }
  return [...byKey.values()].map((row) => ({
    account: row.account,
    asset: row.asset,
    realized_pnl: text(row.realized),
    unrealized_pnl: text(row.unrealized),
    fees: text(row.fees),
    net_pnl: text(row.realized + row.unrealized - row.fees),
    /** Open positions with no mark price: their unrealized PnL is not in the figures above. */
    unmarked: row.unmarked,
  }))
}

export function breakView(item: OpenBreak): Record<string, unknown> {
  return {
    key: item.key,
    check: item.check,
    what: item.what,
    expected: item.expected,
    actual: item.actual,
    first_seen_ms: item.firstSeenMs,
    opened_lsn: item.lsn,
    as_of_lsn: item.asOfLsn,
  }
}
