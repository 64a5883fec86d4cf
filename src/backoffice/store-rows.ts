/**
 * The query model's rows as SQLite returns them (bun:sqlite with safe integers: INTEGER columns come back as bigint,
 * amounts as canonical decimal text) and the ledger records they are read back as. Amounts are read with
 * parseComputedDecimal: the store writes what the back office computed (cash = quantity × price, balances are sums),
 * which can pass the 20 whole digits parseDecimal allows input; read with it, a fill of 10 at 99999999999999999999 made
 * every later read of balances, postings and fills throw.
 */

import { parseComputedDecimal } from '../domain/decimal.ts'
import type { FillRecord, Liquidity, Posting, PostingKind } from './ledger-state.ts'
import type { Position } from './positions.ts'

export interface PostingRow {
  lsn: bigint
  seq: bigint
  book: string
  account_id: string
  asset: string
  amount: string
  kind: string
  ref: string
  at_ms: bigint
}

export interface FillRow {
  lsn: bigint
  exec_id: string
  order_id: string
  account_id: string
  venue: string
  symbol: string
  side: string
  qty: string
  price: string
  fee: string
  fee_asset: string
  liquidity: string | null
  synthetic: bigint
  cash: string
  venue_time_ms: bigint
  at_ms: bigint
}

export interface PositionRow {
  account_id: string
  venue: string
  symbol: string
  base_asset: string
  quote_asset: string
  net_qty: string
  cost_basis: string
  realized_pnl: string
  fees: string
  bought_qty: string
  sold_qty: string
  fill_count: bigint
  last_lsn: bigint
}

export interface BalanceRowSql {
  account_id: string
  asset: string
  total: string
  reserved: string
}

export function postingOf(row: PostingRow): Posting {
  return {
    lsn: Number(row.lsn),
    seq: Number(row.seq),
    book: row.book,
    accountId: row.account_id,
    asset: row.asset,
    amount: parseComputedDecimal(row.amount),
    kind: row.kind as PostingKind,
    ref: row.ref,
    atMs: Number(row.at_ms),
  }
}

export function fillOf(row: FillRow): FillRecord {
  return {
    lsn: Number(row.lsn),
    execId: row.exec_id,
    orderId: row.order_id,
    accountId: row.account_id,
    venue: row.venue,
    symbol: row.symbol,
    side: row.side === 'buy' ? 'buy' : 'sell',
    qty: parseComputedDecimal(row.qty),
    price: parseComputedDecimal(row.price),
    fee: parseComputedDecimal(row.fee),
    feeAsset: row.fee_asset,
    liquidity: row.liquidity as Liquidity | null,
    synthetic: row.synthetic !== 0n,
    cash: parseComputedDecimal(row.cash),
    venueTimeMs: Number(row.venue_time_ms),
    atMs: Number(row.at_ms),
  }
}

export function positionOf(row: PositionRow): Position {
  const fees = JSON.parse(row.fees) as Record<string, string>
  return {
    accountId: row.account_id,
    venue: row.venue,
    symbol: row.symbol,
    baseAsset: row.base_asset,
    quoteAsset: row.quote_asset,
    netQty: parseComputedDecimal(row.net_qty),
    costBasis: parseComputedDecimal(row.cost_basis),
    realizedPnl: parseComputedDecimal(row.realized_pnl),
    fees: new Map(Object.entries(fees).map(([asset, fee]) => [asset, parseComputedDecimal(fee)])),
    boughtQty: parseComputedDecimal(row.bought_qty),
    soldQty: parseComputedDecimal(row.sold_qty),
    fillCount: Number(row.fill_count),
    lastLsn: Number(row.last_lsn),
  }
}
