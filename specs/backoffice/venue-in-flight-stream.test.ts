/**
 * Fills in flight at two venue check runs in a row (src/backoffice/venue-suspects.ts). A venue whose reports reach
 * egress later than the venue's own answers show its trades — one lagging more than the time between two reconcile
 * runs, or a stream of fills on one account — showed a difference at both runs, and the second opened a break (with
 * its alert) that the next run, once the reports had landed, cleared. The difference here even changes between the
 * runs (a second fill arrives): the fills explain it, and it must stay a suspect.
 */

import { describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { reconcileVenue } from '../../src/backoffice/external-checks.ts'
import { VENUE_REPORT_LAG_MS_MAX, VENUE_SUSPECT_BOUNDS } from '../../src/backoffice/venue-suspects.ts'
import { unslicedWork } from '../../src/runtime/work-slices.ts'
import { formatDecimal, parseDecimal } from '../../src/domain/decimal.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { foreignTrade } from './foreign-trade.ts'
import { drive, makeVenue, run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

/** A world whose venue reports reach egress only while not held (the gate stands in for a lagging report stream). */
async function gatedWorld(seed: number, reconcileSweepMs?: number): Promise<{ world: World; hold: () => void; release: () => void }> {
  const clock = new SimClock({ startMs: T0 })
  const venue = makeVenue(clock, seed, { seed })
  let held: ExecutionReport[] | null = null
  const handlers: ((report: ExecutionReport) => void)[] = []
  const subscribe = venue.onReport.bind(venue)
  venue.onReport = (handler) => {
    handlers.push(handler)
    return subscribe((report) => (held === null ? handler(report) : void held.push(report)))
  }
  const world = await startWorld({ seed, clock, venue, ...(reconcileSweepMs === undefined ? {} : { reconcileSweepMs }) })
  worlds.push(world)
  const release = (): void => {
    const reports = held ?? []
    held = null
    for (const report of reports) for (const handler of handlers) handler(report)
  }
  return { world, hold: () => void (held = []), release }
}

const balanceKey = 'venue_balances:sim:acct-a:BTC'

/**
 * Drives the simulated clock at about the wall clock's pace until `promise` settles. A reconcile run waits on its
 * replay worker in wall time; the harness's `drive` steps simulated time back to back meanwhile, and a run could span
 * fifty simulated seconds, more on a busy machine: past the bounds these specs stay within.
 */
async function driveAtWallPace<T>(world: World, promise: Promise<T>): Promise<T> {
  let done = false
  const settled = promise.finally(() => (done = true))
  const deadlineMs = performance.now() + 60_000
  while (!done && performance.now() < deadlineMs) {
    await Bun.sleep(2)
    await world.clock.advanceAsync(2)
  }
  if (!done) throw new Error('the reconcile run did not settle within a minute')
  return settled
}

describe('venue checks and fills in flight at two runs', () => {
  test('a difference that changes between two runs because more fills arrive at the venue is not a break', async () => {
    // No open-order sweep: nothing reads the filled orders back, egress learns of the fills only from their reports.
    const { world, hold, release } = await gatedWorld(41, 0)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const reference = world.venue.referencePrice('BTC-USD')?.price ?? 0n
    const tick = parseDecimal('0.01')
    const firstPrice = (reference * 99n) / 100n - ((reference * 99n) / 100n) % tick
    const secondPrice = (reference * 98n) / 100n - ((reference * 98n) / 100n) % tick
    const orderIds: string[] = []
    for (const [clientOrderId, qty, price] of [['stream-1', '0.5', firstPrice], ['stream-2', '0.3', secondPrice]] as const) {
      const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty, price: formatDecimal(price), client_order_id: clientOrderId }, null)
      if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${placed.reply.kind}`)
      orderIds.push(placed.reply.orderId)
    }
    await run(world, 200)
    for (const orderId of orderIds) expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
    // From here the venue's reports lag. Each run's balances read is the moment one more order fills at the venue
    // (a run takes a while in simulated time: the moment it reads the venue is the one that counts).
    hold()
    const fillAt = [firstPrice, secondPrice]
    const askBalances = world.venue.balances.bind(world.venue)
    world.venue.balances = (account) => {
      const next = fillAt.shift()
      if (next !== undefined) world.venue.setReferencePrice('BTC-USD', next - parseDecimal('100'))
      return askBalances(account)
    }
    const first = await driveAtWallPace(world, office.reconcile())
    expect(world.venue.inspect().trades.length).toBeGreaterThan(0)
    expect(first.suspected).toContain(balanceKey)
    expect(first.opened).toEqual([])
    const firstSeen = first.observations.find((observation) => observation.key === balanceKey)
    // The second order fills at the next run's read, its report lagging too: the difference has grown.
    const second = await driveAtWallPace(world, office.reconcile())
    const secondSeen = second.observations.find((observation) => observation.key === balanceKey)
    expect(secondSeen).toBeDefined()
    expect(secondSeen?.actual).not.toBe(firstSeen?.actual)
    // Both runs saw it, changed: fills arriving, not a divergence that stands still.
    expect(second.opened).toEqual([])
    expect(second.suspected).toContain(balanceKey)
    expect(office.openBreaks).toEqual([])
    release()
    await run(world, 1_000)
    for (const orderId of orderIds) expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Filled')
    const third = await driveAtWallPace(world, office.reconcile())
    expect(third.observations).toEqual([])
    expect(third.opened).toEqual([])
    expect(third.cleared).toEqual([])
    expect(office.openBreaks).toEqual([])
  })

  test('a report lagging over two runs with nothing else moving is not a break; once overdue it is, dated from its first sighting', async () => {
    // No open-order sweep: nothing reads the filled order back, egress learns of the fill only from its report.
    const { world, hold, release } = await gatedWorld(44, 0)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const reference = world.venue.referencePrice('BTC-USD')?.price ?? 0n
    const tick = parseDecimal('0.01')
    const price = (reference * 99n) / 100n - ((reference * 99n) / 100n) % tick
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: formatDecimal(price), client_order_id: 'lagging-2' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${placed.reply.kind}`)
    await run(world, 200)
    hold()
    const askBalances = world.venue.balances.bind(world.venue)
    let filled = false
    world.venue.balances = (account) => {
      if (!filled) world.venue.setReferencePrice('BTC-USD', price - parseDecimal('100'))
      filled = true
      return askBalances(account)
    }
    const first = await driveAtWallPace(world, office.reconcile())
    const keys = first.suspected.filter((key) => key.startsWith('venue_')).sort()
    expect(keys).toContain(balanceKey)
    expect(keys).toContain(`venue_open_orders:sim:${placed.reply.orderId}`)
    // The same differences, the same amounts: only the young trade the ledger lacks says the report may be coming.
    const second = await driveAtWallPace(world, office.reconcile())
    expect(second.atMs - first.atMs).toBeLessThan(VENUE_REPORT_LAG_MS_MAX)
    expect(second.observations.filter((observation) => observation.key.startsWith('venue_'))).toEqual(first.observations.filter((observation) => observation.key.startsWith('venue_')))
    expect(second.opened).toEqual([])
    expect(office.openBreaks).toEqual([])
    // Still missing once the trade is older than any report should take: a divergence, dated from the first run.
    await run(world, VENUE_REPORT_LAG_MS_MAX, 50)
    const third = await driveAtWallPace(world, office.reconcile())
    expect(third.opened.sort()).toEqual(keys)
    for (const opened of office.openBreaks) expect(opened.firstSeenMs).toBe(first.atMs)
    // The report lands at last: the next run clears them.
    release()
    await run(world, 1_000)
    const fourth = await driveAtWallPace(world, office.reconcile())
    expect(fourth.cleared.sort()).toEqual(keys)
    expect(office.openBreaks).toEqual([])
  })

  test('the differences of an account whose venue trades the ledger lacks are in flight while those trades are recent, and only then', async () => {
    const { world, hold } = await gatedWorld(42)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const reference = world.venue.referencePrice('BTC-USD')?.price ?? 0n
    const tick = parseDecimal('0.01')
    const price = (reference * 99n) / 100n - ((reference * 99n) / 100n) % tick
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: formatDecimal(price), client_order_id: 'lagging-1' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${placed.reply.kind}`)
    await run(world, 200)
    hold()
    world.venue.setReferencePrice('BTC-USD', price - parseDecimal('100'))
    await run(world, 20)
    expect(world.venue.inspect().trades.length).toBe(1)
    const source = { adapter: world.venue, balanceBasis: 'trading' as const }
    const check = (laterMs: number): ReturnType<typeof reconcileVenue> =>
      drive(world, reconcileVenue(source, office.projector.ledger, office.projector.fillReads(), { nowMs: () => world.clock.nowMs() + laterMs, slices: unslicedWork() }))
    const recent = await check(0)
    const keys = recent.observations.map((observation) => observation.key).sort()
    expect(keys).toContain(balanceKey)
    expect(keys).toContain(`venue_trades:sim:order:${placed.reply.orderId}`)
    expect([...recent.inFlight].sort()).toEqual(keys)
    // And the trade accounts for each of them to the unit: the balances it moves, the order's filled quantity.
    expect([...recent.explained].sort()).toEqual(keys)
    // The same trade, its report overdue: it explains nothing, the differences stand.
    const overdue = await check(VENUE_REPORT_LAG_MS_MAX + 1_000)
    expect(overdue.observations.map((observation) => observation.key).sort()).toEqual(keys)
    expect([...overdue.inFlight]).toEqual([])
    expect([...overdue.explained]).toEqual([])
  })

  test('a stream of fills lasting over a minute, one in flight at every run, opens no break: each difference is those fills', async () => {
    // Before, the difference was only "in flight" (the account had young trades the ledger lacked), and the bound on
    // how long a suspect may last opened a break at its sixth sighting (a minute at the default interval).
    const { world, hold, release } = await gatedWorld(45, 0)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const reference = world.venue.referencePrice('BTC-USD')?.price ?? 0n
    const tick = parseDecimal('0.01')
    const runs = VENUE_SUSPECT_BOUNDS.sightingsMax + 2
    // Resting buys 0.2 % apart: one run's fill (the price set 50 under it) leaves the next ones resting.
    const prices: bigint[] = []
    for (let index = 0; index < runs; index++) {
      const price = (reference * BigInt(10_000 - 20 * (index + 1))) / 10_000n
      prices.push(price - (price % tick))
      const qty = formatDecimal(parseDecimal('0.1') + BigInt(index) * parseDecimal('0.01'))
      const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty, price: formatDecimal(prices[index]!), client_order_id: `worked-${index}` }, null)
      if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
    }
    await run(world, 200)
    const fillAt: bigint[] = []
    const askBalances = world.venue.balances.bind(world.venue)
    world.venue.balances = (account) => {
      const next = fillAt.shift()
      if (next !== undefined) world.venue.setReferencePrice('BTC-USD', next - parseDecimal('50'))
      return askBalances(account)
    }
    const atMs: number[] = []
    for (let index = 0; index < runs; index++) {
      // The previous run's fill lands; this run's is made at its balances read, its report lagging.
      release()
      await run(world, 500)
      hold()
      fillAt.push(prices[index]!)
      const result = await driveAtWallPace(world, office.reconcile())
      atMs.push(result.atMs)
      expect(result.suspected).toContain(balanceKey)
      expect(result.opened).toEqual([])
      await run(world, 9_000)
    }
    expect(atMs.at(-1)! - atMs[0]!).toBeGreaterThan(VENUE_SUSPECT_BOUNDS.spanMsMax)
    expect(office.openBreaks).toEqual([])
    release()
    await run(world, 1_000)
    const last = await driveAtWallPace(world, office.reconcile())
    expect(last.observations).toEqual([])
    expect(office.openBreaks).toEqual([])
  })

  test('a trade egress never placed explains nothing: it is no report in flight', async () => {
    const world = await startWorld({ seed: 43 })
    worlds.push(world)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    await foreignTrade(world)
    const source = { adapter: world.venue, balanceBasis: 'trading' as const }
    const result = await drive(world, reconcileVenue(source, office.projector.ledger, office.projector.fillReads(), { nowMs: () => world.clock.nowMs(), slices: unslicedWork() }))
    expect(result.observations.map((observation) => observation.key)).toContain(balanceKey)
    expect([...result.inFlight]).toEqual([])
  })
})
