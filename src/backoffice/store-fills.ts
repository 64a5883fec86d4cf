/**
 * The query model's SQL over its two fill tables: `fills` (the ledger's fill records) and `true_up_fills` (the real
 * executions behind true-ups, true-up-fills.ts), which share every column but `synthetic`. Writing their rows, the
 * filter every fill read shares, the fill list's merge of both in log order (fill-list.ts), and what the list needs to
 * mark synthetic fills superseded. Functions over the store's database, so store.ts stays the store's lifecycle.
 */

import type { Database } from 'bun:sqlite'
import { formatDecimal, parseComputedDecimal, type Units } from '../domain/decimal.ts'
import type { FillRecord } from './ledger-state.ts'
import type { FillRow } from './store-rows.ts'
import type { TrueUpFill } from './true-up-fills.ts'

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

/** The columns both tables have, in the order `fills` declares them (`synthetic` comes after `liquidity` there). */
const HEAD_COLUMNS = 'lsn, exec_id, order_id, account_id, venue, symbol, side, qty, price, fee, fee_asset, liquidity'
const TAIL_COLUMNS = 'cash, venue_time_ms, at_ms'
const SHARED_COLUMNS = `${HEAD_COLUMNS}, ${TAIL_COLUMNS}`
const SHARED_PLACEHOLDERS = Array.from({ length: SHARED_COLUMNS.split(',').length }, (_, index) => `?${index + 1}`).join(', ')

/** The values of the shared columns, in SHARED_COLUMNS order. */
function sharedValues(fill: TrueUpFill): (string | number | null)[] {
  const { lsn, execId, orderId, accountId, venue, symbol, side, feeAsset, liquidity, venueTimeMs, atMs } = fill
  return [lsn, execId, orderId, accountId, venue, symbol, side, formatDecimal(fill.qty), formatDecimal(fill.price), formatDecimal(fill.fee), feeAsset, liquidity, formatDecimal(fill.cash), venueTimeMs, atMs]
}

/** Inserts fill records into `fills`. */
export function insertFills(db: Database, fills: readonly FillRecord[]): void {
  if (fills.length === 0) return
  const synthetic = `?${SHARED_COLUMNS.split(',').length + 1}`
  const insert = db.query(`INSERT INTO fills (${SHARED_COLUMNS}, synthetic) VALUES (${SHARED_PLACEHOLDERS}, ${synthetic})`)
  for (const fill of fills) insert.run(...sharedValues(fill), fill.synthetic ? 1 : 0)
}

/** Inserts the real executions of true-ups into `true_up_fills`. */
export function insertTrueUpFills(db: Database, fills: readonly TrueUpFill[]): void {
  if (fills.length === 0) return
  const insert = db.query(`INSERT INTO true_up_fills (${SHARED_COLUMNS}) VALUES (${SHARED_PLACEHOLDERS})`)
  for (const fill of fills) insert.run(...sharedValues(fill))
}

/** The conditions of `query` (without the limit), their parameters appended to `params` and numbered by position. */
function fillConditions(query: Omit<FillQuery, 'limit'>, params: (string | number)[]): string[] {
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
  return where
}

function whereOf(conditions: readonly string[]): string {
  return conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''
}

/** The WHERE clause of `query` (without the limit), its parameters appended to `params` and numbered by position. */
export function fillWhere(query: Omit<FillQuery, 'limit'>, params: (string | number)[]): string {
  return whereOf(fillConditions(query, params))
}

/**
 * Fill records and true-up fills matching `query`, merged by LSN (the two never share one: each row is its own
 * record's), at most `query.limit`. Each side is limited first, so a page reads at most twice the limit.
 *
 * A true-up fill of quantity 0 is not listed: its true-up repriced nothing (a synthetic fill logged before pending
 * quantity was kept, or covered quantity beyond what was pending) and booked only the real fee, so the quantity stays
 * the synthetic fill's at its price, in the books and in the list (fill-list.ts). It is kept in the table all the same:
 * what is stored, and so the content digest, does not change.
 */
export function listedFillRows(db: Database, query: FillQuery): ListedFillRow[] {
  const params: (string | number)[] = []
  const conditions = fillConditions(query, params)
  const limit = `?${params.push(query.limit)}`
  const sql = `SELECT * FROM (SELECT ${HEAD_COLUMNS}, synthetic, ${TAIL_COLUMNS}, 0 AS replaces_synthetic FROM fills ${whereOf(conditions)} ORDER BY lsn LIMIT ${limit})
    UNION ALL SELECT * FROM (SELECT ${HEAD_COLUMNS}, 0 AS synthetic, ${TAIL_COLUMNS}, 1 AS replaces_synthetic FROM true_up_fills ${whereOf([...conditions, "qty <> '0'"])} ORDER BY lsn LIMIT ${limit})
    ORDER BY lsn LIMIT ${limit}`
  return db.query(sql).all(...params) as ListedFillRow[]
}

/** What marking an order's synthetic fills superseded needs: those fills (log order) and what its true-ups repriced. */
export interface OrderSupersession {
  synthetic: { lsn: number; qty: Units }[]
  trueUpQty: Units
}

/** How far supersession reads: every row at or below `lsn`, and at or before `ms` when given (a query's to_ms). */
export interface SupersessionBound {
  lsn: number
  ms?: number
}

/**
 * For each of `orderIds`, its synthetic fills and the quantity its true-ups repriced, both within `through`: one
 * statement for all of them (each side by its table's order index), however many orders a page holds. The bound is the
 * listing's own (to_lsn, to_ms), so a true-up the page does not list never supersedes a fill it does.
 */
export function supersessionOf(db: Database, orderIds: readonly string[], through: SupersessionBound): Map<string, OrderSupersession> {
  const byOrder = new Map<string, OrderSupersession>(orderIds.map((orderId) => [orderId, { synthetic: [], trueUpQty: 0n }]))
  if (orderIds.length === 0) return byOrder
  const untilMs = through.ms === undefined ? '' : ' AND at_ms <= ?3'
  const sql = `SELECT order_id, lsn, qty, 1 AS synthetic FROM fills WHERE order_id IN (SELECT value FROM json_each(?1)) AND synthetic = 1 AND lsn <= ?2${untilMs}
    UNION ALL SELECT order_id, lsn, qty, 0 AS synthetic FROM true_up_fills WHERE order_id IN (SELECT value FROM json_each(?1)) AND lsn <= ?2${untilMs}
    ORDER BY lsn`
  const params = through.ms === undefined ? [JSON.stringify(orderIds), through.lsn] : [JSON.stringify(orderIds), through.lsn, through.ms]
  const rows = db.query(sql).all(...params) as { order_id: string; lsn: bigint; qty: string; synthetic: bigint }[]
  for (const row of rows) {
    const order = byOrder.get(row.order_id)
    if (order === undefined) continue
    const qty = parseComputedDecimal(row.qty)
    if (row.synthetic !== 0n) order.synthetic.push({ lsn: Number(row.lsn), qty })
    else order.trueUpQty += qty
  }
  return byOrder
}

/**
 * The account of each order of `orderIds` that has a fill record (all of an order's fills are its account's), in
 * statements of ORDER_IDS_PER_STATEMENT ids each: the reader of many orders' accounts (GET /v1/reconcile for a scoped
 * reader) made one statement per order before.
 */
export function accountsOfOrders(db: Database, orderIds: readonly string[]): Map<string, string> {
  const accounts = new Map<string, string>()
  const statement = db.query('SELECT order_id, account_id, min(lsn) FROM fills WHERE order_id IN (SELECT value FROM json_each(?1)) GROUP BY order_id')
  for (let start = 0; start < orderIds.length; start += ORDER_IDS_PER_STATEMENT) {
    const rows = statement.all(JSON.stringify(orderIds.slice(start, start + ORDER_IDS_PER_STATEMENT))) as { order_id: string; account_id: string }[]
    for (const row of rows) accounts.set(row.order_id, row.account_id)
  }
  return accounts
}

/** How many order ids one statement of accountsOfOrders looks up. */
export const ORDER_IDS_PER_STATEMENT = 1_000
