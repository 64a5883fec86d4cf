/**
 * How soon the open-order sweep reads back an order whose fill report was lost, when more orders are open than one
 * sweep reads (GatewayOptions.reconcileSweepOrdersMax). Found by seed 30209 (`bun scripts/sim.ts --seed 30209
 * --steps 300 --step-ms 400`): 213 orders open, the last one placed filled at once and both its reports were lost,
 * and two sweep intervals after the heal it was still AckedOpen at egress, filled at the venue.
 *
 * A venue that lists its open orders shows at once which one differs (open-order-sweep.ts): it is read back at the
 * first sweep that finds it quiet. A venue that cannot list has its quiet orders read back a bounded number per
 * sweep, the longest-quiet first: the bound the simulation's end phase waits for (sweepReadBackMsMax).
 */

import { expect, test } from 'bun:test'
import { RECONCILE_SWEEP_MS, run, startWorld, sweepReadBackMsMax, traderA, worldsStoppedAfterEach, type World } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const SWEEP_ORDERS_MAX = 3
const RESTING_ORDERS = 7
const REQUEST_TIMEOUT_MS = 1_000

async function placed(world: World, body: Record<string, string>): Promise<string> {
  const result = await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', type: 'limit', qty: '0.001', tif: 'GTC', ...body }, null)
  if (result.reply.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result.reply)}`)
  return result.reply.orderId
}

/**
 * A world with RESTING_ORDERS resting buys, then a sell that fills at once with both its reports lost. `canList`
 * false: the venue answers every list unknown, as a FIX session without mass status does (src/venues/fix/venue.ts).
 */
async function lostFillWorld(seed: number, canList: boolean): Promise<{ world: World; orderId: string; execIds: string[]; lastNewsMs: number }> {
  const world = await startWorld({ seed, reconcileSweepOrdersMax: SWEEP_ORDERS_MAX, venueOptions: { requestTimeoutMs: REQUEST_TIMEOUT_MS } })
  worlds.push(world)
  if (!canList) world.venue.openOrders = () => Promise.resolve({ kind: 'unknown', reason: 'fix_open_orders_unsupported' })
  for (let index = 0; index < RESTING_ORDERS; index++) await placed(world, { side: 'buy', price: '59000', client_order_id: `rest-${index}` })
  await run(world, 50)
  // A sell through the market fills at once; its `new` and `fill` reports are lost, the place's answer is not.
  world.venue.setFaults({ dropReportProbability: 1 })
  const orderId = await placed(world, { side: 'sell', price: '59500', client_order_id: 'lost-fill' })
  await run(world, 50)
  world.venue.setFaults({})
  const order = world.gateway.engine.state.orders.get(orderId)
  const venueTrades = world.venue.inspect().trades.filter((trade) => trade.clientOrderId === order?.venueClientOrderId)
  expect(venueTrades.length).toBe(1)
  expect({ status: order?.status, cumQty: order?.cumQty }).toEqual({ status: 'AckedOpen', cumQty: 0n })
  return { world, orderId, execIds: venueTrades.map((trade) => trade.execId), lastNewsMs: order?.updatedAtMs ?? 0 }
}

test('a venue that lists its open orders: the lost fill is read back at the first sweep that finds the order quiet, alone', async () => {
  const { world, orderId, execIds, lastNewsMs } = await lostFillWorld(30_211, true)
  const order = () => world.gateway.engine.state.orders.get(orderId)
  const readsBefore = world.venue.inspect().requests.calls.orderStatus
  // Quiet after one interval; the next sweep comes within another; the read-back takes its calls' latency.
  await run(world, lastNewsMs + 2 * RECONCILE_SWEEP_MS + 100 - world.clock.nowMs())
  expect({ status: order()?.status, execIds: [...(order()?.execIds ?? [])] }).toEqual({ status: 'Filled', execIds })
  // The seven resting orders were listed as egress holds them: only the filled one was read.
  expect(world.venue.inspect().requests.calls.orderStatus - readsBefore).toBe(1)
  expect(world.errors).toEqual([])
})

test('a venue that cannot list: a lost fill of the newest of more open orders than a sweep reads is read back within the bound, not within two intervals', async () => {
  const { world, orderId, execIds, lastNewsMs } = await lostFillWorld(30_209, false)
  const order = () => world.gateway.engine.state.orders.get(orderId)

  // Two intervals are not enough: the seven older orders are quieter and go first, three per sweep.
  await run(world, lastNewsMs + 2 * RECONCILE_SWEEP_MS + REQUEST_TIMEOUT_MS - world.clock.nowMs())
  expect({ status: order()?.status, cumQty: order()?.cumQty }).toEqual({ status: 'AckedOpen', cumQty: 0n })

  // Within the bound (plus the read-back's one call) the fill is booked with the venue's execId.
  const boundMs = sweepReadBackMsMax(RESTING_ORDERS + 1, SWEEP_ORDERS_MAX)
  expect(boundMs).toBe(4 * RECONCILE_SWEEP_MS)
  await run(world, lastNewsMs + boundMs + REQUEST_TIMEOUT_MS - world.clock.nowMs())
  expect({ status: order()?.status, execIds: [...(order()?.execIds ?? [])] }).toEqual({ status: 'Filled', execIds })
  expect(world.errors).toEqual([])
})

test('a stopped executor reads nothing back: the sweep of a gateway that lost its lease or crashed asks the venue nothing', async () => {
  const world = await startWorld({ seed: 30_210 })
  worlds.push(world)
  const orderId = await placed(world, { side: 'buy', price: '59000', client_order_id: 'resting' })
  await run(world, 50)
  world.gateway.executor.stop()
  const statusReads = world.venue.inspect().requests.calls.orderStatus
  await world.gateway.executor.reconcileOrder(orderId)
  await run(world, 3 * RECONCILE_SWEEP_MS)
  expect(world.venue.inspect().requests.calls.orderStatus).toBe(statusReads)
})
