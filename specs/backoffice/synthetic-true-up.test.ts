/**
 * The whole path on the sim venue: a venue with no trade query whose fill reports are late. The order goes Unknown,
 * reconciliation books a synthetic fill at the limit price with no fee, and the real reports (a better price, a taker
 * fee) arrive afterwards. The back office's reconcile then finds nothing: the ledger, the kernel, the query model and
 * the venue's own balances agree — the real fill's numbers won (src/kernel/synthetic-cover.ts). With a trade query
 * that lags (an order's trades listed only after its reports), the trades check runs too, and finds the covered
 * trades equal to what egress recorded of them (src/backoffice/covered-fills.ts).
 */
import { describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { initialLedger } from '../../src/backoffice/ledger-state.ts'
import { applyEvent } from '../../src/backoffice/ledger.ts'
import { positionKey } from '../../src/backoffice/positions.ts'
import { QueryModelRebuild } from '../../src/backoffice/rebuild.ts'
import { Store } from '../../src/backoffice/store.ts'
import { replaceStoreFile } from '../../src/backoffice/store-file.ts'
import { STORED_QUERY_MODEL, verifyQueryModel } from '../../src/runtime/snapshot/verify-query-model.ts'
import { openReadOnly } from '../../wal/index.ts'
import { join } from 'node:path'
import type { DomainEvent, EventOf } from '../../src/domain/events/index.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { formatDecimal, parseDecimal } from '../../src/domain/decimal.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { drive, run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'
import { LaggingTradesVenue, LateReportsVenue, placeLost } from './late-reports.ts'

const worlds = worldsStoppedAfterEach()

describe('a synthetic fill trued up by late fill reports, on the sim venue', () => {
  test('after the real reports, reconcile finds the ledger equal to the kernel, the query model and the venue', async () => {
    const seed = 71
    const clock = new SimClock({ startMs: T0 })
    const venue = new LateReportsVenue(clock, seed)
    const world = await startWorld({ seed, clock, venue, params: { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 } })
    worlds.push(world)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const orderId = await placeLost(world, venue, 'late-1')
    await run(world, 5_000)
    const kernel = world.gateway.engine.state
    expect(kernel.orders.get(orderId)).toMatchObject({ status: 'Filled', syntheticPendingQty: parseDecimal('0.01') })
    // Booked at the limit price with no fee, while the venue charged less and a fee: the venue's balances disagree.
    const before = await drive(world, office.reconcile())
    expect(before.observations.map((observation) => observation.check)).toContain('venue_balances')

    expect(venue.release()).toBeGreaterThan(0)
    await run(world, 1_000)
    const order = kernel.orders.get(orderId)
    expect(order).toMatchObject({ status: 'Filled', cumQty: parseDecimal('0.01'), syntheticPendingQty: 0n })
    // One fill record (the synthetic one); the real fill is a true-up of it, not a second fill.
    expect(office.projector.ledger.counters.fills).toBe(1)
    const after = await drive(world, office.reconcile())
    // The trades check cannot run on a venue without a trade query; every other check does.
    expect(after.skipped.map((skipped) => skipped.check)).toEqual(['venue_trades'])
    expect([...after.checks].sort()).toContain('venue_balances')
    expect(after.observations).toEqual([])
    expect(office.openBreaks).toEqual([])
  })

  test('with a trade query that lags: the trades check compares the covered trades and finds them as egress recorded them', async () => {
    const seed = 72
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingTradesVenue(clock, seed)
    const world = await startWorld({ seed, clock, venue, params: { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 } })
    worlds.push(world)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const orderId = await placeLost(world, venue, 'lag-1')
    await run(world, 5_000)
    const kernel = world.gateway.engine.state
    expect(kernel.orders.get(orderId)).toMatchObject({ status: 'Filled', syntheticPendingQty: parseDecimal('0.01') })
    expect(venue.release()).toBeGreaterThan(0)
    await run(world, 1_000)
    expect(kernel.orders.get(orderId)).toMatchObject({ status: 'Filled', cumQty: parseDecimal('0.01'), syntheticPendingQty: 0n })
    // Every real fill was covered by the synthetic one: the query model holds no fill record of any of them.
    const covered = office.projector.ledger.orders.get(orderId)?.coveredFills ?? []
    expect(covered.length).toBeGreaterThan(0)
    expect(office.projector.store.fills({ orderId, limit: 10 }).map((fill) => fill.synthetic)).toEqual([true])
    const trades = await drive(world, venue.trades({ account: 'acct-a' }))
    if (trades.kind !== 'ok') throw new Error('expected the venue to list its trades')
    expect(trades.value.map((trade) => trade.execId).sort()).toEqual(covered.map((fill) => fill.execId).sort())
    const after = await drive(world, office.reconcile())
    expect(after.skipped).toEqual([])
    expect([...after.checks]).toContain('venue_trades')
    expect(after.observations).toEqual([])
    expect(office.openBreaks).toEqual([])
  })
})

/** Every domain event the world's log holds, in order. */
function loggedEvents(world: World): DomainEvent[] {
  const wal = world.gateway.engine.wal
  const events: DomainEvent[] = []
  for (const frame of wal.read(1, { toLsn: wal.lastLsn })) {
    const event = domainEventOf(frame)
    if (event !== null) events.push(event)
  }
  return events
}

/**
 * The log as it would read had the real fills come first: each synthetic fill replaced, where it stands, by the venue
 * fills that covered it (in venue order, at their price and fee), and the covering and true-up records dropped.
 */
function realFillsFirst(events: readonly DomainEvent[]): DomainEvent[] {
  const covers = events.filter((event): event is EventOf<'order.fill_covered'> => event.type === 'order.fill_covered')
  const out: DomainEvent[] = []
  for (const event of events) {
    if (event.type === 'order.synthetic_pending' || event.type === 'order.fill_covered' || event.type === 'order.fill_trued_up') continue
    if (event.type !== 'order.fill' || !event.synthetic) {
      out.push(event)
      continue
    }
    const mine = covers.filter((cover) => cover.orderId === event.orderId).sort((a, b) => (a.venueCumQty < b.venueCumQty ? -1 : 1))
    expect(mine.reduce((sum, cover) => sum + cover.coveredQty, 0n)).toBe(event.lastQty)
    let cumQty = event.cumQty - event.lastQty
    for (const cover of mine) {
      cumQty += cover.coveredQty
      out.push({ ...event, execId: cover.execId, lastQty: cover.coveredQty, lastPrice: cover.lastPrice, fee: cover.fee, feeAsset: cover.feeAsset, cumQty, synthetic: false })
    }
  }
  return out
}

describe('a synthetic fill trued up in a position that holds other fills, on the sim venue', () => {
  /**
   * A real long, a lost buy booked synthetically at its limit, a sale of 2/3 of the position, then the held real
   * reports: a true-up in a mixed position, which the rule before lots splits otherwise than the lots do.
   */
  async function mixedPositionTrueUp() {
    const seed = 73
    const clock = new SimClock({ startMs: T0 })
    const venue = new LateReportsVenue(clock, seed)
    const world = await startWorld({ seed, clock, venue, params: { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 } })
    worlds.push(world)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const marketable = async (side: 'buy' | 'sell', qty: string, tag: string): Promise<void> => {
      const reference = venue.referencePrice('BTC-USD')?.price ?? 0n
      const price = formatDecimal(side === 'buy' ? reference + parseDecimal('100') : reference - parseDecimal('100'))
      const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side, type: 'limit', qty, price, tif: 'IOC', client_order_id: tag }, null)
      expect(placed.reply.kind).toBe('accepted')
      await run(world, 1_000)
    }
    // A real long first, its reports delivered at once.
    venue.holding = false
    await marketable('buy', '0.02', 'real-buy')
    // The lost order's reports are held: a status-only reconcile books it synthetically, at its limit.
    venue.holding = true
    const orderId = await placeLost(world, venue, 'late-m')
    await run(world, 5_000)
    expect(world.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'Filled', syntheticPendingQty: parseDecimal('0.01') })
    // A sale of 2/3 of the position while the synthetic cash is in its basis; then the real reports arrive.
    venue.holding = false
    await marketable('sell', '0.02', 'real-sell')
    expect(venue.release()).toBeGreaterThan(0)
    await run(world, 1_000)
    expect(world.gateway.engine.state.orders.get(orderId)?.syntheticPendingQty).toBe(0n)
    return { world, office, seed, clock, venue }
  }

  test('after a sale between the synthetic fill and its real reports, the position is as if the real fills came first; every check agrees', async () => {
    const { world, office } = await mixedPositionTrueUp()

    const events = loggedEvents(world)
    expect(events.some((event) => event.type === 'order.fill_trued_up' && event.cash !== event.syntheticCash)).toBe(true)
    const key = positionKey('acct-a', 'sim', 'BTC-USD')
    const live = office.projector.ledger.positions.get(key)
    const reference = initialLedger()
    realFillsFirst(events).forEach((event, index) => applyEvent(reference, event, index + 1))
    const expected = reference.positions.get(key)
    if (live === undefined || expected === undefined) throw new Error('expected a BTC-USD position in both ledgers')
    expect(live.netQty).toBe(expected.netQty)
    expect(live.realizedPnl - live.costBasis).toBe(expected.realizedPnl - expected.costBasis)
    // Three fills and a true-up: a unit of rounding each at most.
    const off = live.costBasis - expected.costBasis
    expect(off <= 4n && off >= -4n).toBe(true)
    expect(live.syntheticLots).toBeUndefined()

    // The reconcile's checks (the kernel, a replay from genesis, the query model, the venue) and replay-verify's
    // comparison (a rebuild of the query model from the log) agree.
    const after = await drive(world, office.reconcile())
    expect(after.checks).toEqual(expect.arrayContaining(['ledger_vs_kernel', 'ledger_vs_replay', 'ledger_vs_store', 'venue_balances']))
    expect(after.observations).toEqual([])
    office.projector.flush()
    const stored = office.projector.store.contentDigest()
    const rebuild = QueryModelRebuild.fromGenesis()
    try {
      for (const frame of world.gateway.engine.wal.read(1, { toLsn: stored.lastLsn })) rebuild.apply(frame)
      expect(rebuild.digest().digest).toBe(stored.digest)
    } finally {
      rebuild.close()
    }
  })
  test('a query model written by a build before lots: replay-verify and a restart without a section fold by its rule (no lots through its LSN), and agree with it', async () => {
    const first = await mixedPositionTrueUp()
    await first.world.gateway.stop()
    const dir = first.world.dir
    const log = openReadOnly(join(dir, 'log'))
    // What the build before lots stored: every true-up split by its rule, and no lots_rule row.
    const old = QueryModelRebuild.fromGenesis(log.lastLsn)
    let image: Uint8Array
    try {
      for (const frame of log.read(1, { toLsn: log.lastLsn })) old.apply(frame)
      old.digest()
      image = old.store.image()
    } finally {
      old.close()
    }
    const path = join(dir, STORED_QUERY_MODEL)
    replaceStoreFile(path, image)
    const store = Store.open(path)
    store.transaction((db) => db.exec('DELETE FROM lots_rule'))
    expect(store.lotsUntrackedThroughLsn()).toBeNull()
    const storedLsn = store.lastLsn
    // The rules differ here: a rebuild keeping lots throughout does not give that store.
    const withLots = QueryModelRebuild.fromGenesis()
    try {
      for (const frame of log.read(1, { toLsn: storedLsn })) withLots.apply(frame)
      expect(withLots.digest().digest).not.toBe(store.contentDigest().digest)
    } finally {
      withLots.close()
      store.close()
    }
    // replay-verify rebuilds from genesis by the stored query model's rule.
    const verified = verifyQueryModel(dir, log, [], null)
    expect(verified.checks).toEqual([expect.objectContaining({ source: 'stored', lsn: storedLsn, status: 'match' })])
    // Restarted on it with no section: the ledger folds by the same rule, and the store, the replay and the kernel agree.
    const second = await startWorld({ seed: first.seed, dir, clock: first.clock, venue: first.venue })
    worlds.push(second)
    const office = backOfficeOf(second.gateway, { reconcileIntervalMs: null })
    expect(office.stats()).toMatchObject({ sectionLsn: null, rebuiltStore: false })
    expect(office.projector.ledger.lotsUntrackedThroughLsn).toBe(storedLsn)
    const result = await drive(second, office.reconcile())
    expect(result.checks).toEqual(expect.arrayContaining(['ledger_vs_kernel', 'ledger_vs_replay', 'ledger_vs_store']))
    expect(result.observations).toEqual([])
  })
})
