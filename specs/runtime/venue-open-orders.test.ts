import { expect, test } from 'bun:test'
import { OPEN_AT_VENUE } from '../../src/runtime/bootstrap.ts'
import { VenueOpenOrders } from '../../src/runtime/venue-open-orders.ts'
import { RECONCILE_SWEEP_MS, run, startWorld, traderA, worldsStoppedAfterEach, type World } from './harness.ts'
import { d, Harness, report } from '../kernel/fixtures.ts'

const worlds = worldsStoppedAfterEach()

/** Orders that rest at the venue (limit buys below the market) and orders that end at once (IOC, same prices). */
async function tradedWorld(seed: number, resting: number, ended: number): Promise<World> {
  const world = await startWorld({ seed })
  worlds.push(world)
  const order = (id: string, tif: string) => ({ account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000', tif, client_order_id: id })
  for (let index = 0; index < resting; index++) expect((await world.gateway.place(traderA, order(`r-${index}`, 'GTC'), null)).reply.kind).toBe('accepted')
  for (let index = 0; index < ended; index++) expect((await world.gateway.place(traderA, order(`e-${index}`, 'IOC'), null)).reply.kind).toBe('accepted')
  await run(world, 500)
  return world
}

const openInState = (world: World): string[] =>
  [...world.gateway.engine.state.orders.values()].filter((order) => OPEN_AT_VENUE.has(order.status)).map((order) => order.orderId).sort()

test('the index holds exactly the orders open at a venue, as they open, fill, cancel and end', async () => {
  const world = await tradedWorld(61, 6, 10)
  const index = new VenueOpenOrders(world.gateway.engine.state)
  world.gateway.engine.onDurable((events) => index.note(events, () => undefined))
  expect([...index.values()].sort()).toEqual(openInState(world))
  expect(index.size).toBe(6)
  const open = openInState(world)
  for (const orderId of open.slice(0, 3)) expect((await world.gateway.cancel(traderA, orderId)).reply.kind).toBe('done')
  await run(world, 500)
  expect([...index.values()].sort()).toEqual(openInState(world))
  expect(index.size).toBe(3)
})

test('the sweep checks the quiet open orders without walking every order the kernel holds: one list, no read-back', async () => {
  const world = await tradedWorld(62, 4, 40)
  const held = world.gateway.engine.state.orders
  expect(held.size).toBe(44) // the ended ones stay in the hot state (retention keeps them an hour)
  let walks = 0
  const values = held.values.bind(held)
  held.values = () => {
    walks++
    return values()
  }
  const asked: string[] = []
  const orderStatus = world.venue.orderStatus.bind(world.venue)
  world.venue.orderStatus = (clientOrderId) => {
    asked.push(clientOrderId)
    return orderStatus(clientOrderId)
  }
  try {
    await run(world, RECONCILE_SWEEP_MS + 100)
    asked.length = 0
    const listsBefore = world.venue.inspect().requests.calls.openOrders
    const sweeping = world.gateway.sweep()
    await run(world, 200)
    // The venue lists all four as egress holds them: confirmed by one call, none read back.
    expect(await sweeping).toEqual({ dueCount: 4, confirmedCount: 4, readBackCount: 0 })
    expect(world.venue.inspect().requests.calls.openOrders - listsBefore).toBe(1)
    expect(asked.length).toBe(0)
    expect(walks).toBe(0)
  } finally {
    held.values = values
    world.venue.orderStatus = orderStatus
  }
})

test('a batch with many events of one order looks at it once per run of events, and hears it close once', () => {
  const harness = Harness.funded()
  const filled = harness.openOrder({ client_order_id: 'f', qty: '0.01' })
  const resting = harness.openOrder({ client_order_id: 'r', qty: '0.01' })
  const index = new VenueOpenOrders(harness.state)
  expect([...index.values()].sort()).toEqual([filled, resting].sort())
  const order = harness.order(filled)
  const fill = harness.report(report(order, { execId: 'x1', kind: 'fill', lastQty: d('0.01'), lastPrice: d('50000'), cumQty: d('0.01') }))
  expect(harness.order(filled).status).toBe('Filled')
  const ofFilled = harness.log.filter((event) => 'orderId' in event && event.orderId === filled)
  const ofResting = harness.log.filter((event) => 'orderId' in event && event.orderId === resting)
  const batch = [...ofFilled, ...ofFilled, ...ofResting, ...fill.events, ...ofFilled].map((event, lsn) => ({ event, lsn }))
  const closed: string[] = []
  index.note(batch, (orderId) => closed.push(orderId))
  expect(closed).toEqual([filled])
  expect([...index.values()]).toEqual([resting])
})
