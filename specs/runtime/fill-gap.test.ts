/**
 * A fill report stating a venue cumulative quantity above what egress booked shows an earlier fill report late or
 * lost (src/runtime/fill-gap-watch.ts). Lost: the order is read back once the grace has passed, without waiting for
 * the open-order sweep, which skips an order that keeps getting news (simulation seed 30601: the completing fill
 * showed 1.57 filled against 1.557 booked, and the order sat Partial). Late: the gap closes when the report lands, and
 * nothing is read back.
 */

import { expect, test } from 'bun:test'
import { parseDecimal } from '../../src/domain/decimal.ts'
import type { Order } from '../../src/domain/orders.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import { FILL_GAP_GRACE_MS, FillGapWatch } from '../../src/runtime/fill-gap-watch.ts'
import type { ExecutionReport } from '../../src/venues/adapter.ts'
import { RECONCILE_SWEEP_MS, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()

/** A world whose BTC-USD price moves only by hand; each match fills part of what rests, in `fillsPerMatch` reports. */
async function worldWithRestingBuy(seed: number, fillsPerMatch: number): Promise<{ world: World; orderId: string }> {
  const world = await startWorld({ seed, venueOptions: { priceStepTicksMax: 0, partialFillProbability: 1, fillsPerMatchMax: fillsPerMatch } })
  worlds.push(world)
  const placed = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', tif: 'GTC', client_order_id: 'rest' }, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(placed.reply)}`)
  await run(world, 50)
  return { world, orderId: placed.reply.orderId }
}

/** The price falls through the resting buy and straight back: one match, part of the order filled. */
function oneMatch(world: World): void {
  world.venue.setReferencePrice('BTC-USD', parseDecimal('58900'))
  world.venue.setReferencePrice('BTC-USD', parseDecimal('61000'))
}

function venueOrderOf(world: World, orderId: string) {
  const clientOrderId = world.gateway.engine.state.orders.get(orderId)?.venueClientOrderId
  return { trades: world.venue.inspect().trades.filter((trade) => trade.clientOrderId === clientOrderId) }
}

test('a fill report showing an earlier fill lost has the order read back after the grace, long before the sweep', async () => {
  const { world, orderId } = await worldWithRestingBuy(30_601, 1)
  const order = () => world.gateway.engine.state.orders.get(orderId)
  // The first match's fill report is lost; the second's arrives, stating both fills.
  world.venue.setFaults({ dropReportProbability: 1 })
  oneMatch(world)
  world.venue.setFaults({})
  await run(world, 50)
  oneMatch(world)
  await run(world, 50)
  const fills = venueOrderOf(world, orderId).trades
  expect(fills.length).toBe(2)
  const [lost, landed] = fills.map((fill) => fill.execId)
  const seen = (execId: string | undefined) => execId !== undefined && (order()?.execIds.has(execId) ?? false)
  expect({ status: order()?.status, cumQty: order()?.cumQty, lost: seen(lost), landed: seen(landed) }).toEqual({ status: 'Partial', cumQty: fills[1]?.qty, lost: false, landed: true })
  const statusReads = world.venue.inspect().requests.calls.orderStatus

  await run(world, FILL_GAP_GRACE_MS + 100)
  // Read back once, well inside one sweep interval of the last news (the sweep would not have looked yet).
  expect(FILL_GAP_GRACE_MS + 100).toBeLessThan(RECONCILE_SWEEP_MS)
  expect(world.venue.inspect().requests.calls.orderStatus).toBe(statusReads + 1)
  const booked = (fills[0]?.qty ?? 0n) + (fills[1]?.qty ?? 0n)
  expect({ status: order()?.status, cumQty: order()?.cumQty, lost: seen(lost), landed: seen(landed) }).toEqual({ status: 'Partial', cumQty: booked, lost: true, landed: true })
  expect(world.errors).toEqual([])
})

test('a fill report merely late (reordered) closes its gap when it lands: nothing is read back', async () => {
  // One match in two fill reports, each held back 1–40 ms: a seed where the second lands first (it shows a gap).
  for (let seed = 1; seed <= 40; seed++) {
    const { world, orderId } = await worldWithRestingBuy(seed, 2)
    const arrived: ExecutionReport[] = []
    world.venue.onReport((report) => void (report.kind === 'fill' && arrived.push(report)))
    world.venue.setFaults({ reorderReportProbability: 1, reorderDelayMsMax: 40 })
    oneMatch(world)
    await run(world, 100)
    const first = arrived[0]
    if (arrived.length !== 2 || first === undefined || first.cumQty === first.lastQty) continue
    const statusReads = world.venue.inspect().requests.calls.orderStatus
    await run(world, FILL_GAP_GRACE_MS + 100)
    const fills = venueOrderOf(world, orderId).trades
    expect(world.gateway.engine.state.orders.get(orderId)?.cumQty).toBe((fills[0]?.qty ?? 0n) + (fills[1]?.qty ?? 0n))
    expect(world.venue.inspect().requests.calls.orderStatus).toBe(statusReads)
    expect(world.errors).toEqual([])
    return
  }
  throw new Error('no seed of 1..40 delivered the second fill first')
})

test('a gap due while the call budget is spent, or too low for a read-back and one call more, waits a grace and is read back once three calls are free', () => {
  const clock = new SimClock({ startMs: 0 })
  const order = { orderId: 'o-1', status: 'Partial', cumQty: 1n } as Order
  const readBacks: string[] = []
  let budgetLeft = 0
  const watch = new FillGapWatch({ clock, graceMs: FILL_GAP_GRACE_MS, orderOf: () => order, readBack: (orderId) => readBacks.push(orderId), callsBudgetLeft: () => budgetLeft })
  watch.noteFill('o-1', 2n)
  clock.advance(FILL_GAP_GRACE_MS)
  expect(readBacks).toEqual([]) // sends would wait behind it
  budgetLeft = 1 // the last free call is a send's
  clock.advance(FILL_GAP_GRACE_MS)
  expect(readBacks).toEqual([])
  budgetLeft = 2 // a read-back's two calls (status and trades) would take the last free one
  clock.advance(FILL_GAP_GRACE_MS)
  expect(readBacks).toEqual([])
  budgetLeft = 3
  clock.advance(FILL_GAP_GRACE_MS)
  expect(readBacks).toEqual(['o-1'])
  clock.advance(10 * FILL_GAP_GRACE_MS)
  expect(readBacks).toEqual(['o-1'])
  expect(clock.pendingCount()).toBe(0)
})
