/**
 * A wave of places whose send decisions all throw (a price source down for their symbol) costs the pick O(n), not
 * O(n²). Each order held by its back-off (src/runtime/send-throws.ts) was set aside as "held" by the work index and
 * looked at again by every pick that reached its lane, and the executor's whole timer was recomputed after every throw
 * (a walk of every order backing off): 2,000 throwing places blocked the event loop ~300 ms per wave, at each of their
 * tries. Now such work is parked in the index until its wait ends (NextWorkOptions.sendHeldUntilMs), and a throw arms
 * only its own wake. Counted, not timed: the looks at the orders' `busy` marks (one per look of the index at an entry)
 * and the reads of the order table.
 */

import { expect, test } from 'bun:test'
import type { KernelConfig } from '../../src/domain/kernel-config.ts'
import { SEND_THROW_RETRY_MS } from '../../src/runtime/send-throws.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach } from './harness.ts'

const worlds = worldsStoppedAfterEach()
const WAVE = 2_000

test(`a wave of ${WAVE} places whose send decisions throw: O(n) looks per try (was n²/2), each tried again after its wait`, async () => {
  const world = await startWorld({
    seed: 4051,
    reconcileSweepMs: 0,
    params: { lane2DepthMax: 10_000, accountQueuedMax: 10_000 },
    configure: (config: KernelConfig) => ({ ...config, policies: config.policies.map((policy) => ({ ...policy, maxOpenOrders: 10_000 })) }),
  })
  worlds.push(world)
  const { executor, engine } = world.gateway
  const internals = executor as unknown as { options: { market: (venue: string, symbol: string) => unknown }; busy: Map<string, unknown> }
  let failing = true
  let throws = 0
  const market = internals.options.market
  internals.options.market = (venue, symbol) => {
    if (!failing) return market(venue, symbol)
    throws++
    throw new Error('price source failed')
  }
  // Queued while places are held, then let go at once: one pump decides the whole wave.
  executor.holdPlaceSends()
  for (let index = 0; index < WAVE; index++) {
    const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.01', price: '2900', client_order_id: `wave-${index}` }
    const placed = await world.gateway.place(traderA, body, null)
    if (placed.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(placed.reply)}`)
  }
  let looks = 0
  const busy = internals.busy
  busy.has = (orderId: string) => (looks++, Map.prototype.has.call(busy, orderId))
  const orders = engine.state.orders
  let reads = 0
  const get = orders.get.bind(orders)
  orders.get = (orderId: string) => (reads++, get(orderId))

  executor.releasePlaceSends()
  await run(world, 5)
  expect(throws).toBe(WAVE)
  expect(looks).toBeLessThanOrEqual(10 * WAVE)
  expect(reads).toBeLessThanOrEqual(20 * WAVE)

  // None is tried again before its wait ends; each once when it does.
  throws = 0
  looks = 0
  reads = 0
  await run(world, SEND_THROW_RETRY_MS - 10)
  expect(throws).toBe(0)
  await run(world, 10)
  expect(throws).toBe(WAVE)
  expect(looks).toBeLessThanOrEqual(10 * WAVE)
  expect(reads).toBeLessThanOrEqual(20 * WAVE)
  expect(world.errors).toHaveLength(WAVE)
  expect(new Set(world.errors).size).toBe(WAVE)

  // The source back, they go out at their next try.
  failing = false
  await run(world, 2 * SEND_THROW_RETRY_MS + 100)
  expect(executor.stats.sends).toBeGreaterThan(0)
  expect(world.errors).toHaveLength(WAVE)
  world.errors.length = 0
}, 60_000)
