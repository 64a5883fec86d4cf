/**
 * Fills in flight at two venue check runs in a row (src/backoffice/venue-suspects.ts). A venue whose reports reach
 * egress later than the venue's own answers show its trades — one lagging more than the time between two reconcile
 * runs, or a stream of fills on one account — showed a difference at both runs, and the second opened a break (with
 * its alert) that the next run, once the reports had landed, cleared. The difference here even changes between the
 * runs (a second fill arrives): the fills explain it, and it must stay a suspect.
 */

import { describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/backoffice.ts'
import { formatDecimal, parseDecimal } from '../../src/domain/decimal.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { drive, makeVenue, run, startWorld, T0, traderA, worldsStoppedAfterEach, type World } from '../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()

/** A world whose venue reports reach egress only while not held (the gate stands in for a lagging report stream). */
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

const balanceKey = 'venue_balances:sim:acct-a:BTC'

describe('venue checks and fills in flight at two runs', () => {
  test('a difference that changes between two runs because more fills arrive at the venue is not a break', async () => {
    const { world, hold, release } = await gatedWorld(41)
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
    const first = await drive(world, office.reconcile())
    expect(world.venue.inspect().trades.length).toBeGreaterThan(0)
    expect(first.suspected).toContain(balanceKey)
    expect(first.opened).toEqual([])
    const firstSeen = first.observations.find((observation) => observation.key === balanceKey)
    // The second order fills at the next run's read, its report lagging too: the difference has grown.
    const second = await drive(world, office.reconcile())
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
    const third = await drive(world, office.reconcile())
    expect(third.observations).toEqual([])
    expect(third.opened).toEqual([])
    expect(third.cleared).toEqual([])
    expect(office.openBreaks).toEqual([])
  })
})
