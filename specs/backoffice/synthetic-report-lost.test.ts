/**
 * A synthetic fill whose real fill report never comes. A read-back finds the venue's cumulative quantity ahead of the
 * trades it lists for the order (a lagging per-order trade list) and books a synthetic fill at the limit price with no
 * fee; the real report is then lost. The order is Filled, so nothing reads it back again, and the books keep the
 * guessed price for good. The venue_balances check shows the account's quote balance off by the price difference and
 * the fee, but named no trade: the venue_trades check took the venue's trade as one the synthetic fill may stand for
 * (the order's quantity matched) and said nothing, however old it was. An auditor could not tell which execution the
 * difference came from. Now a venue trade a synthetic fill stands for, with no record of it in egress, is a
 * venue_trades difference naming the trade (its price and fee, which egress lacks); like a trade whose report is late,
 * it is in flight while younger than VENUE_REPORT_LAG_MS_MAX and a break once older, and it clears when the real
 * report arrives (the true-up records the covered part).
 */

import { describe, expect, test } from 'bun:test'
import type { ReconcileResult } from '../../src/backoffice/backoffice.ts'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { VENUE_REPORT_LAG_MS_MAX } from '../../src/backoffice/venue-suspects.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { drive, RECONCILE_SWEEP_MS, run, startWorld, T0, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'
import { LaggingTradesVenue, LateReportsVenue, placeLost, type HeldReportsVenue } from './late-reports.ts'

const worlds = worldsStoppedAfterEach()

/**
 * One reconcile run, the clock moving 5 ms per turn of the event loop while it is under way (as serve's timers would),
 * not `drive`'s thousands of steps at once: the trade's age at the run is what this spec is about.
 */
async function reconcile(world: World): Promise<ReconcileResult> {
  let done = false
  const running = backOfficeOf(world.gateway).reconcile().finally(() => (done = true))
  for (let step = 0; step < 10_000 && !done; step++) {
    await new Promise((resolve) => setTimeout(resolve, 0))
    if (!done) await world.clock.advanceAsync(5)
  }
  return running
}

/**
 * A world on a venue whose reports can be held (by default one whose per-order trade list lags too; seed 74), and an order whose place answer was lost: a read-back
 * finds the venue's cumulative quantity ahead of the trades it lists and books it Filled with synthetic quantity.
 */
async function filledSynthetically<TVenue extends HeldReportsVenue = LaggingTradesVenue>(
  clientOrderId: string,
  makeVenue: (clock: SimClock, seed: number) => TVenue = (clock, seed) => new LaggingTradesVenue(clock, seed) as TVenue,
) {
  const seed = 74
  const clock = new SimClock({ startMs: T0 })
  const venue = makeVenue(clock, seed)
  const world = await startWorld({ seed, clock, venue, params: { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 } })
  worlds.push(world)
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const orderId = await placeLost(world, venue, clientOrderId)
  await run(world, 5_000)
  expect(world.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'Filled', syntheticPendingQty: parseDecimal('0.01') })
  return { world, venue, office, orderId }
}

describe('a synthetic fill whose real report is lost', () => {
  test('the venue trade it stands for is a venue_trades break once overdue, naming the trade; the late report clears it', async () => {
    const { world, venue, office, orderId } = await filledSynthetically('lost-1')
    // The real reports stay held (lost, as far as egress can tell), and the venue's per-order trade list keeps lagging,
    // so the sweep's read-backs of the Filled order (venue-open-orders.ts awaitsVenueNews) find no trade to true it up.
    const trades = await drive(world, venue.trades({ account: 'acct-a' }))
    if (trades.kind !== 'ok') throw new Error('expected the venue to list its trades')
    expect(trades.value.length).toBeGreaterThan(0)
    const tradeKeys = trades.value.map((trade) => `venue_trades:sim:${trade.execId}`).sort()

    // Young: a difference, but explained as in flight: no break.
    const young = await reconcile(world)
    expect(young.observations.filter((observation) => observation.check === 'venue_trades').map((observation) => observation.key).sort()).toEqual(tradeKeys)
    const again = await reconcile(world)
    expect(again.opened.filter((key) => key.startsWith('venue_trades:'))).toEqual([])

    // Overdue: two runs later the trade is a break of its own, next to the balance it moves. The sweep read the order
    // back meanwhile, without writing a record each time.
    const lsnBefore = world.gateway.engine.wal.lastLsn
    const statusReads = venue.inspect().requests.calls.orderStatus
    await run(world, VENUE_REPORT_LAG_MS_MAX, 50)
    expect(venue.inspect().requests.calls.orderStatus - statusReads).toBeGreaterThan(0)
    expect(world.gateway.engine.wal.lastLsn).toBe(lsnBefore)
    await reconcile(world)
    await reconcile(world)
    const open = office.openBreaks.map((open) => open.key)
    for (const key of tradeKeys) expect(open).toContain(key)
    expect(open).toContain('venue_balances:sim:acct-a:USD')
    const named = office.openBreaks.find((open) => open.key === tradeKeys[0])
    expect(named?.expected).toBe('absent')
    expect(named?.actual).toContain('@')

    // The real report arrives after all: trued up, everything clears.
    expect(venue.release()).toBeGreaterThan(0)
    await run(world, 1_000)
    expect(world.gateway.engine.state.orders.get(orderId)?.syntheticPendingQty).toBe(0n)
    const after = await reconcile(world)
    expect(after.observations).toEqual([])
    expect(office.openBreaks).toEqual([])
  })

  test('once the venue lists the trade for the order, the sweep reads the Filled order back and trues it up: no report needed, no break', async () => {
    const { world, venue, office, orderId } = await filledSynthetically('lost-2')
    // The per-order trade list catches up; the real reports stay held. An ended order was never read back again, so
    // the guess stayed (and only the back office's break above told of it).
    venue.holding = false
    await run(world, 2 * RECONCILE_SWEEP_MS, 50)
    const order = world.gateway.engine.state.orders.get(orderId)
    expect({ status: order?.status, pending: order?.syntheticPendingQty }).toEqual({ status: 'Filled', pending: 0n })
    await reconcile(world)
    await reconcile(world)
    expect(office.openBreaks).toEqual([])
  })

  test('on a venue without a trade query (a FIX session) the sweep leaves the Filled order to its report: no read-back can true it up', async () => {
    // Before, the sweep read it back every interval for as long as the kernel held it (until 10,000 ended orders made
    // retention retire it): a status query each time, whose answer never lists the trade the synthetic fill stands for.
    const { world, venue, orderId } = await filledSynthetically('lost-3', (clock, seed) => new LateReportsVenue(clock, seed))
    const statusReads = venue.inspect().requests.calls.orderStatus
    await run(world, 4 * RECONCILE_SWEEP_MS, 50)
    expect(venue.inspect().requests.calls.orderStatus - statusReads).toBe(0)
    // Its real report still trues it up when it comes.
    expect(venue.release()).toBeGreaterThan(0)
    await run(world, 1_000)
    expect(world.gateway.engine.state.orders.get(orderId)?.syntheticPendingQty).toBe(0n)
  })
})
