/**
 * A venue check's difference opens a break only when a later run confirms it (src/backoffice/venue-suspects.ts; fills
 * in flight at two runs in a row: venue-in-flight-stream.test.ts).
 * The venue answers from its present: a fill report still on its way to egress when reconcile reads the venue showed
 * there and not in the ledger, and the run opened four breaks (both traded balances, "open in egress, not open at the
 * venue", the order's filled quantity) that the next run cleared. A genuine difference is still a break, one run
 * later, dated from its first sighting.
 */

import { describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice-of.ts'
import { formatDecimal, parseDecimal } from '../../src/domain/decimal.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { drive, makeVenue, run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

/** A world whose venue reports reach egress only while not held (the gate stands in for a slow report stream). */
async function gatedWorld(seed: number): Promise<{ world: World; hold: () => void; release: () => void }> {
  const clock = new SimClock({ startMs: T0 })
  const venue = makeVenue(clock, seed, { seed })
  let held: ExecutionReport[] | null = null
  const handlers: ((report: ExecutionReport) => void)[] = []
  const subscribe = venue.onReport.bind(venue)
  venue.onReport = (handler) => {
    handlers.push(handler)
    return subscribe((report) => (held === null ? handler(report) : void held.push(report)))
  }
  const world = await startWorld({ seed, clock, venue })
  worlds.push(world)
  const release = (): void => {
    const reports = held ?? []
    held = null
    for (const report of reports) for (const handler of handlers) handler(report)
  }
  return { world, hold: () => void (held = []), release }
}

const venueKeys = (keys: readonly string[]): string[] => keys.filter((key) => key.startsWith('venue_')).sort()

describe('venue checks and reports in flight', () => {
  test('a fill the venue made whose report is still on its way is a suspect, not a break; the next run finds nothing', async () => {
    const { world, hold, release } = await gatedWorld(31)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const reference = world.venue.referencePrice('BTC-USD')?.price ?? 0n
    const price = (reference * 99n) / 100n
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.5', price: formatDecimal(price), client_order_id: 'in-flight-1' }, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${placed.reply.kind}`)
    const orderId = placed.reply.orderId
    await run(world, 200)
    expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('AckedOpen')
    // The resting order fills at the venue the moment reconcile asks for the balances; its report is held back.
    const askBalances = world.venue.balances.bind(world.venue)
    world.venue.balances = (account) => {
      if (world.venue.inspect().trades.length === 0) {
        hold()
        world.venue.setReferencePrice('BTC-USD', price - (price % parseDecimal('0.01')) - parseDecimal('100'))
      }
      return askBalances(account)
    }
    const first = await drive(world, office.reconcile())
    expect(world.venue.inspect().trades.length).toBe(1)
    // The race happened: the venue's answers held the fill, the ledger did not yet.
    const seen = venueKeys(first.observations.map((observation) => observation.key))
    // The balances are read at the fill's instant; the open orders and trades a moment later, in which the open-order
    // sweep (every 2 s) may read the order back first, so only the balances' difference is certain.
    expect(seen).toContain('venue_balances:sim:acct-a:BTC')
    expect(first.opened).toEqual([])
    expect(office.openBreaks).toEqual([])
    expect(venueKeys(first.suspected)).toEqual(seen)
    release()
    await run(world, 1_000)
    expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Filled')
    const second = await drive(world, office.reconcile())
    expect(second.observations).toEqual([])
    expect(second.opened).toEqual([])
    expect(office.openBreaks).toEqual([])
  })

  test('a genuine difference with the venue opens a break on the second run, dated from the first', async () => {
    const world = await startWorld({ seed: 32 })
    worlds.push(world)
    const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    // A trade egress never placed: the venue's balance of acct-a moves, the ledger's does not.
    const foreign = await drive(
      world,
      world.venue.place({ clientOrderId: 'foreign-1', account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: parseDecimal('0.1'), price: parseDecimal('61000'), tif: 'GTC', postOnly: false, reduceOnly: false }),
    )
    expect(foreign.kind).toBe('ok')
    await run(world, 200)
    // acct-a must be known to the back office to be checked against the venue.
    const reference = world.venue.referencePrice('ETH-USD')?.price ?? 0n
    const price = formatDecimal((reference * 99n) / 100n)
    const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.1', price, client_order_id: 'known-1' }, null)
    expect(placed.reply.kind).toBe('accepted')
    await run(world, 200)
    const first = await drive(world, office.reconcile())
    expect(venueKeys(first.opened)).toEqual([])
    expect(venueKeys(first.suspected)).toContain('venue_balances:sim:acct-a:BTC')
    const second = await drive(world, office.reconcile())
    expect(second.suspected).not.toContain('venue_balances:sim:acct-a:BTC')
    expect(venueKeys(second.opened)).toEqual(expect.arrayContaining(venueKeys(first.suspected)))
    const opened = office.openBreaks.find((item) => item.key === 'venue_balances:sim:acct-a:BTC')
    expect(opened?.firstSeenMs).toBe(first.atMs)
    expect(opened?.runId).toBe(second.runId)
  })
})
