/**
 * What `GET /v1/fills` shows once a synthetic fill has been trued up, on the sim venue. A lost order is booked by a
 * status-only read-back as a synthetic fill at its limit price with no fee; the real reports (another price, a taker
 * fee) arrive later and true it up (src/kernel/synthetic-cover.ts). The books then hold the real numbers; the fill list
 * must too.
 *
 * What a back-office user expects of the list after the true-up:
 *  - each real execution, under the venue's execution id, at the venue's price and fee (`replaces_synthetic: true`:
 *    its quantity was first booked by the order's synthetic fill);
 *  - the synthetic fill still listed, and marked `superseded` with the quantity real executions replaced
 *    (`superseded_qty`). It stays rather than disappears because it is still in the books: its cash postings in
 *    `/v1/ledger` carry its execution id, the true-up postings only the difference; because the list is an
 *    append-only log paged by LSN, a reader that already took the synthetic row must learn it was replaced, not lose
 *    it silently; and because a true-up may replace only part of it (the rest of the real reports still to come);
 *  - so for an order, Σ (qty − superseded_qty) over its rows is its filled quantity, at every moment.
 * Before the fix the list showed the synthetic row alone, at the limit price with no fee, after the true-up too.
 */
import { describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { QueryModelRebuild } from '../../src/backoffice/rebuild.ts'
import { parseConfig } from '../../src/config/index.ts'
import { formatDecimal, parseDecimal, type Units } from '../../src/domain/decimal.ts'
import { createVerifier, mintHs256Token } from '../../src/http/auth/index.ts'
import { createHttpService } from '../../src/http/index.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { drive, run, startWorld, T0, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'
import { LaggingTradesVenue, placeLost } from './late-reports.ts'

const worlds = worldsStoppedAfterEach()
const SECRET = 'fills-after-true-up-secret-0123456789abcdef'

type FillRow = Record<string, unknown>

/** `GET <path>` through the Hono app over the world's gateway, as an auditor. */
async function get<T>(world: World, path: string): Promise<T> {
  const config = parseConfig({ dataDir: world.dir, auth: { hs256Secret: SECRET } })
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 10 })
  const http = createHttpService({ gateway: world.gateway, verifier, configDigest: 'sim-config', backpressure: config.backpressure, sse: config.sse, log: () => {} })
  try {
    const token = await mintHs256Token(SECRET, { sub: 'audrey', roles: ['auditor'], accounts: [], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
    const response = await http.app.request(path, { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(200)
    return (await response.json()) as T
  } finally {
    http.close()
    verifier.close()
  }
}

async function getFills(world: World, query: string): Promise<{ fills: FillRow[]; next_cursor: string | null }> {
  return get(world, `/v1/fills?${query}`)
}

async function fillsOf(world: World, orderId: string): Promise<FillRow[]> {
  return (await getFills(world, `order_id=${orderId}`)).fills
}

const units = (row: FillRow, field: string): Units => parseDecimal(String(row[field]))

/** Σ (qty − superseded_qty) over an order's rows: what they say the order filled. */
function listedQty(rows: readonly FillRow[]): Units {
  return rows.reduce((sum, row) => sum + units(row, 'qty') - units(row, 'superseded_qty'), 0n)
}

describe('GET /v1/fills after a synthetic fill is trued up, on the sim venue', () => {
  test('lists the real executions at the venue price, fee and exec id, and the synthetic fill marked superseded', async () => {
    const seed = 81
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingTradesVenue(clock, seed)
    const world = await startWorld({ seed, clock, venue, params: { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 } })
    worlds.push(world)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const orderId = await placeLost(world, venue, 'listed-1')
    await run(world, 5_000)
    const kernel = world.gateway.engine.state
    const limit = kernel.orders.get(orderId)?.price
    expect(kernel.orders.get(orderId)).toMatchObject({ status: 'Filled', syntheticPendingQty: parseDecimal('0.01') })

    // Before the real reports: the synthetic fill alone, at the limit price, nothing superseded yet.
    const before = await fillsOf(world, orderId)
    expect(before).toHaveLength(1)
    expect(before[0]).toMatchObject({ synthetic: true, qty: '0.01', price: formatDecimal(limit ?? 0n), fee: '0', superseded_qty: '0', superseded: false })
    expect(listedQty(before)).toBe(parseDecimal('0.01'))

    expect(venue.release()).toBeGreaterThan(0)
    await run(world, 1_000)
    const order = kernel.orders.get(orderId)
    expect(order).toMatchObject({ status: 'Filled', cumQty: parseDecimal('0.01'), syntheticPendingQty: 0n })
    const trades = await drive(world, venue.trades({ account: 'acct-a' }))
    if (trades.kind !== 'ok') throw new Error('expected the venue to list its trades')
    const venueTrades = trades.value.filter((trade) => trade.clientOrderId === order?.venueClientOrderId)
    expect(venueTrades.length).toBeGreaterThan(0)
    // The venue traded below the limit and charged a fee: the guess and the truth differ where it shows.
    expect(venueTrades.every((trade) => trade.price !== limit && trade.fee > 0n)).toBe(true)

    const after = await fillsOf(world, orderId)
    const real = after.filter((row) => row.synthetic === false)
    const listedTrades = real.map((row) => ({ execId: row.exec_id, qty: row.qty, price: row.price, fee: row.fee, feeAsset: row.fee_asset, liquidity: row.liquidity }))
    const expectedTrades = venueTrades.map((trade) => ({ execId: trade.execId, qty: formatDecimal(trade.qty), price: formatDecimal(trade.price), fee: formatDecimal(trade.fee), feeAsset: trade.feeAsset, liquidity: trade.liquidity ?? null }))
    expect(listedTrades).toEqual(expect.arrayContaining(expectedTrades))
    expect(listedTrades).toHaveLength(expectedTrades.length)
    expect(real.every((row) => row.replaces_synthetic === true && row.superseded_qty === '0')).toBe(true)
    expect(real.reduce((sum, row) => sum + units(row, 'qty'), 0n)).toBe(order?.cumQty ?? -1n)
    const synthetic = after.filter((row) => row.synthetic === true)
    expect(synthetic).toHaveLength(1)
    expect(synthetic[0]).toMatchObject({ qty: '0.01', superseded_qty: '0.01', superseded: true })
    expect(listedQty(after)).toBe(order?.cumQty ?? -1n)
    // Listed in log order: the synthetic fill first, the real executions at the LSNs of their true-ups.
    const lsns = after.map((row) => Number(row.lsn))
    expect(lsns).toEqual([...lsns].sort((a, b) => a - b))
    expect(after[0]?.synthetic).toBe(true)

    // Paged one row at a time by the cursor, the account's list holds the same rows, in the same order.
    const paged: FillRow[] = []
    for (let cursor: string | null = '', pages = 0; cursor !== null && pages < 50; pages++) {
      const page = await getFills(world, `account=acct-a&limit=1${cursor === '' ? '' : `&cursor=${cursor}`}`)
      paged.push(...page.fills)
      cursor = page.next_cursor
    }
    expect(paged.filter((row) => row.order_id === orderId)).toEqual(after)

    // Asked up to the synthetic fill's LSN (before any true-up), the list reads as it did then: nothing superseded yet.
    const upTo = await getFills(world, `order_id=${orderId}&to_lsn=${String(after[0]?.lsn)}`)
    expect(upTo.fills).toEqual(before)

    // The books and every check still agree (the trades check included: the venue lists its trades).
    const reconciled = await drive(world, office.reconcile())
    expect(reconciled.checks).toEqual(expect.arrayContaining(['ledger_vs_store', 'ledger_vs_replay', 'venue_trades', 'venue_balances']))
    expect(reconciled.observations).toEqual([])
    expect(office.projector.ledger.counters.fills).toBe(1)
    const stats = await get<{ store: Record<string, number> }>(world, '/v1/stats')
    expect(stats.store).toMatchObject({ fills: 1, true_up_fills: real.length, model_version: 2, true_ups_untracked_through_lsn: 0 })
    // A rebuild of the query model from genesis gives the same rows, the true-up fill included.
    office.projector.flush()
    const stored = office.projector.store.contentDigest()
    expect(stored.tables.true_up_fills?.rows).toBe(real.length)
    const rebuild = QueryModelRebuild.fromGenesis()
    try {
      for (const frame of world.gateway.engine.wal.read(1, { toLsn: stored.lastLsn })) rebuild.apply(frame)
      expect(rebuild.digest()).toEqual(stored)
    } finally {
      rebuild.close()
    }
  })
})
