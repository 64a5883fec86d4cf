/**
 * The executor's pump after a log batch lands runs on the event loop's next turn (Executor.wakeNextTurn, serve's
 * setImmediate), not on a microtask: the batch's callers are answered first, and the sends come right after. As a
 * microtask it ran before their answers, so every 202 of a batch waited for the batch's send decisions (bench:http's
 * half-load p99, README). The turn is handed in here so the spec holds it and lets it go.
 */

import { expect, test } from 'bun:test'
import { startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

test("a landed batch's caller is answered before the executor decides the batch's sends; the held turn then sends them", async () => {
  const turns: (() => void)[] = []
  const world = await startWorld({ seed: 91, scheduleTurn: (run) => void turns.push(run) })
  worlds.push(world)
  turns.splice(0).forEach((run) => run()) // whatever the start asked for
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 'turn-1' }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  const { orderId } = placed.reply
  const order = () => world.gateway.engine.state.orders.get(orderId)
  // Answered, durable, and no send decided yet: the pump waits for the turn the landed batch asked for (one, coalesced).
  for (let index = 0; index < 20; index++) await Promise.resolve()
  expect(order()?.status).toBe('Enqueued')
  expect(world.gateway.executor.stats.sends).toBe(0)
  expect(turns).toHaveLength(1)
  // The turn comes: the send is decided, made durable and handed to the venue.
  turns.splice(0).forEach((run) => run())
  await world.gateway.engine.settled()
  for (let index = 0; index < 20; index++) await Promise.resolve()
  expect(order()?.status).toBe('Sent')
  expect(world.gateway.executor.stats.sends).toBe(1)
  expect(world.errors).toEqual([])
})

test('a microtask wake meanwhile (a timer, a venue answer) pumps at once; the held turn then finds nothing left to do', async () => {
  const turns: (() => void)[] = []
  const world = await startWorld({ seed: 92, scheduleTurn: (run) => void turns.push(run) })
  worlds.push(world)
  turns.splice(0).forEach((run) => run())
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 'turn-2' }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  expect(turns).toHaveLength(1)
  world.gateway.executor.wake()
  await world.gateway.engine.settled()
  for (let index = 0; index < 20; index++) await Promise.resolve()
  expect(world.gateway.engine.state.orders.get(placed.reply.orderId)?.status).toBe('Sent')
  expect(world.gateway.executor.stats.sends).toBe(1)
  // The turn still runs (it was asked for); it sends nothing twice.
  turns.splice(0).forEach((run) => run())
  await world.gateway.engine.settled()
  expect(world.gateway.executor.stats.sends).toBe(1)
  expect(world.errors).toEqual([])
})
