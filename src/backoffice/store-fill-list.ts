/**
 * The query model's SQL for reading fills: the filter every fill read shares, the fill list's merge of fill records
 * and true-up fills in log order (fill-list.ts), and per order what its synthetic fills booked and its true-ups
 * repriced. Functions over the store's database, so store.ts stays the store's lifecycle and writes.
 */

import type { Database } from 'bun:sqlite'
import { parseDecimal, type Units } from '../domain/decimal.ts'
import type { FillRow } from './store-rows.ts'

export interface FillQuery {
  accountId?: string
  venue?: string
  symbol?: string
  orderId?: string
  fromLsn?: number
  toLsn?: number
  fromMs?: number
  toMs?: number
  afterLsn?: number
  limit: number
}

/** A row of the fill list: a fill record (replaces_synthetic 0) or a true-up fill (synthetic 0, replaces_synthetic 1). */
export interface ListedFillRow extends FillRow {
  replaces_synthetic: bigint
}

const COLUMNS = 'lsn, exec_id, order_id, account_id, venue, symbol, side, qty, price, fee, fee_asset, liquidity'
const TAIL_COLUMNS = 'cash, venue_time_ms, at_ms'

/** The WHERE clause of `query` (without the limit), its parameters appended to `params` and numbered by position. */
export function fillWhere(query: Omit<FillQuery, 'limit'>, params: (string | number)[]): string {
  const where: string[] = []
  if (query.accountId !== undefined) where.push(`account_id = ?${params.push(query.accountId)}`)
  if (query.venue !== undefined) where.push(`venue = ?${params.push(query.venue)}`)
  if (query.symbol !== undefined) where.push(`symbol = ?${params.push(query.symbol)}`)
  if (query.orderId !== undefined) where.push(`order_id = ?${params.push(query.orderId)}`)
  if (query.fromLsn !== undefined) where.push(`lsn >= ?${params.push(query.fromLsn)}`)
  if (query.toLsn !== undefined) where.push(`lsn <= ?${params.push(query.toLsn)}`)
  if (query.fromMs !== undefined) where.push(`at_ms >= ?${params.push(query.fromMs)}`)
  if (query.toMs !== undefined) where.push(`at_ms <= ?${params.push(query.toMs)}`)
  if (query.afterLsn !== undefined) where.push(`lsn > ?${params.push(query.afterLsn)}`)
  return where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
}

/**
 * Fill records and true-up fills matching `query`, merged by LSN (the two never share one: each row is its own
 * record's), at most `query.limit`. Each side is limited first, so a page reads at most twice the limit.
 */
export function listedFillRows(db: Database, query: FillQuery): ListedFillRow[] {
  const params: (string | number)[] = []
  const where = fillWhere(query, params)
  const limit = `?${params.push(query.limit)}`
  const sql = `SELECT * FROM (SELECT ${COLUMNS}, synthetic, ${TAIL_COLUMNS}, 0 AS replaces_synthetic FROM fills ${where} ORDER BY lsn LIMIT ${limit})
    UNION ALL SELECT * FROM (SELECT ${COLUMNS}, 0 AS synthetic, ${TAIL_COLUMNS}, 1 AS replaces_synthetic FROM true_up_fills ${where} ORDER BY lsn LIMIT ${limit})
    ORDER BY lsn LIMIT ${limit}`
  return db.query(sql).all(...params) as ListedFillRow[]
}

/** The synthetic fills of `orderId`, in log order: their LSN and quantity. */
export function syntheticFillsOf(db: Database, orderId: string): { lsn: number; qty: Units }[] {
  const rows = db.query('SELECT lsn, qty FROM fills WHERE order_id = ?1 AND synthetic = 1 ORDER BY lsn').all(orderId) as { lsn: bigint; qty: string }[]
  return rows.map((row) => ({ lsn: Number(row.lsn), qty: parseDecimal(row.qty) }))
}

/** The quantity the true-ups of `orderId` repriced, all together. */
export function trueUpQtyOf(db: Database, orderId: string): Units {
  const rows = db.query('SELECT qty FROM true_up_fills WHERE order_id = ?1').all(orderId) as { qty: string }[]
  return rows.reduce((sum, row) => sum + parseDecimal(row.qty), 0n)
}
