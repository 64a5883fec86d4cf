// GET /v1/reconcile for a reader scoped to accounts finds each break's account (break-account.ts); a break keyed by an
// order the ledger no longer holds (retired) and recorded without its account (a build before break_opened v2) is the
// account of that order's fills in the query model. They were read one SQLite statement per such break, over every
// open break (the page's count is over all of them), not the page only: with thousands open, thousands of statements
// on the event loop at each read of /v1/reconcile and /v1/stats. Now they are read in one statement per batch of
// order ids (Store.accountsOfOrders), once per break while it is open, and the answer is the same.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Database } from 'bun:sqlite'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { insertFills } from '../../src/backoffice/store-fills.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { auth, json, startTestGateway, type TestGateway } from '../http/fixture.ts'

/** Retired orders with a break each, every fifth demo-1's, the rest demo-2's. */
const ORDERS = 2_000

let gw: TestGateway
let trader: string
let auditor: string
let db: Database

const orderIdOf = (index: number): string => `retired-${String(index).padStart(5, '0')}`
const accountOf = (index: number): string => (index % 5 === 0 ? 'demo-1' : 'demo-2')

beforeAll(async () => {
  gw = await startTestGateway()
  trader = await gw.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  auditor = await gw.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
  const office = backOfficeOf(gw.gateway)
  db = (office.projector.store as unknown as { db: Database }).db
  // Each order's fill as the query model keeps it after the ledger retired the order: far past the log's LSNs.
  const zero = parseDecimal('0')
  insertFills(db, Array.from({ length: ORDERS }, (_, index) => ({
    lsn: 1_000_000_000 + index, execId: `x-${index}`, orderId: orderIdOf(index), accountId: accountOf(index), venue: 'sim', symbol: 'BTC-USD', side: 'buy' as const,
    qty: parseDecimal('0.01'), price: parseDecimal('60000'), fee: zero, feeAsset: 'USD', liquidity: null, synthetic: false, cash: parseDecimal('-600'), venueTimeMs: 1, atMs: 1,
  })))
  const breaks = office.projector.breaks
  for (let index = 0; index < ORDERS; index++) {
    const orderId = orderIdOf(index)
    expect(office.projector.ledger.orders.has(orderId)).toBe(false)
    // Alternately keyed by the order and by its filled quantity: both name the order (break-account.ts).
    const key = index % 2 === 0 ? `venue_open_orders:sim:${orderId}` : `venue_open_orders:sim:${orderId}:cum_qty`
    breaks.apply({ kind: 'break_opened', value: { key, check: 'venue_open_orders', what: key, expected: '1', actual: '2', firstSeenMs: 1, asOfLsn: 1, runId: 'spec' } }, breaks.lastLsn + 1)
  }
})

afterAll(async () => {
  await gw.stop()
})

/** The reads of fills `db` prepares while `read` runs (bun:sqlite's query and prepare: every statement goes through one). */
async function statementsDuring<T>(read: () => Promise<T>): Promise<{ value: T; statements: number }> {
  const target = db as unknown as { query: (sql: string) => unknown; prepare: (sql: string) => unknown }
  const { query, prepare } = target
  let statements = 0
  // Only reads of fills by order: the query model's own work (its timer's flush) may land while the request runs.
  const count = (sql: string): void => {
    if (/^\s*select\b/i.test(sql) && /\bfills\b/i.test(sql) && /\border_id\b/i.test(sql)) statements++
  }
  target.query = (sql) => (count(sql), query.call(db, sql))
  target.prepare = (sql) => (count(sql), prepare.call(db, sql))
  try {
    return { value: await read(), statements }
  } finally {
    target.query = query
    target.prepare = prepare
  }
}

describe('/v1/reconcile: the accounts of retired orders', () => {
  test("a trader sees every break of its retired orders, read in a few statements, not one per break", async () => {
    const { value: body, statements } = await statementsDuring(async () => json(await gw.request('/v1/reconcile?limit=1000', { headers: auth(trader) })))
    const expected = Array.from({ length: ORDERS }, (_, index) => index).filter((index) => accountOf(index) === 'demo-1')
    expect(body.open_break_count).toBe(expected.length)
    expect((body.open_breaks as { key: string }[]).map((item) => item.key)).toEqual(expected.map((index) => (index % 2 === 0 ? `venue_open_orders:sim:${orderIdOf(index)}` : `venue_open_orders:sim:${orderIdOf(index)}:cum_qty`)))
    expect(statements).toBeLessThanOrEqual(10)
  })

  test('/v1/stats counts them the same way without reading them again, and an every-account reader needs no lookup', async () => {
    const stats = await statementsDuring(async () => json(await gw.request('/v1/stats', { headers: auth(trader) })))
    expect(stats.value.open_breaks).toBe(ORDERS / 5)
    // Their accounts were found by the read before: not looked up again.
    expect(stats.statements).toBe(0)
    const all = await statementsDuring(async () => json(await gw.request('/v1/reconcile', { headers: auth(auditor) })))
    expect(all.value.open_break_count).toBe(ORDERS)
    expect(all.statements).toBe(0)
  })
})
