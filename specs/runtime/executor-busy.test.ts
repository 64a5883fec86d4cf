/**
 * Review finding 8: a call's answer frees its order (submitResult) before the call's dispatch ends, and the pump that
 * answer wakes may start the next call on the order — a cancel requested while the place was out. The old dispatch's
 * `finally` then deleted the cancel's busy mark, and reconcileOrder would query the venue while the cancel was in
 * flight. Each dispatch now clears only its own mark.
 */

import { expect, test } from 'bun:test'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()

test("a place's answer starts the cancel waiting behind it; the place's dispatch ending keeps the cancel's busy mark", async () => {
  const world = await startWorld({ seed: 81, params: { callsPerInstrumentMax: 8 }, venueOptions: { latencyMsMin: 50, latencyMsMax: 50 } })
  worlds.push(world)
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59000', client_order_id: 'busy-1' }
  const placed = await world.gateway.place(traderA, body, null)
  if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  const { orderId } = placed.reply
  await run(world, 10, 1)
  expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Sent')
  // The cancel is requested while the place is out: it waits for the place's answer.
  expect((await world.gateway.cancel(traderA, orderId)).reply.kind).not.toBe('rejected')
  const executor = world.gateway.executor
  const busy = (executor as unknown as { busy: { has(orderId: string): boolean } }).busy
  const venueCalls = () => world.venue.inspect().requests.calls
  // Step until the place's answer has started the cancel's venue call.
  for (let step = 0; step < 200 && venueCalls().cancel === 0; step++) await world.clock.advanceAsync(1)
  expect(venueCalls().cancel).toBe(1)
  // Let the place's dispatch finish (its result commit, its finally) while the cancel is still out at the venue.
  for (let turn = 0; turn < 50; turn++) await Promise.resolve()
  await world.clock.advanceAsync(1)
  expect(world.gateway.engine.state.orders.get(orderId)?.status).not.toBe('Canceled')
  expect(busy.has(orderId)).toBe(true)
  // A reconcile (bootstrap's, the sweep's) must not query the venue about an order whose cancel is in flight.
  const statusCalls = venueCalls().orderStatus
  const reconciled = executor.reconcileOrder(orderId)
  for (let turn = 0; turn < 20; turn++) await Promise.resolve()
  expect(venueCalls().orderStatus).toBe(statusCalls)
  await run(world, 200)
  await reconciled
  expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Canceled')
  expect(busy.has(orderId)).toBe(false)
  expect(world.errors).toEqual([])
})
