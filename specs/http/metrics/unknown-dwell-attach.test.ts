/**
 * egress_order_unknown_dwell_seconds gives a sample for an order that was Unknown before the metrics attached (a
 * restart, a takeover: a new GatewayMetrics around a gateway that holds Unknown orders). The tracking started empty at
 * attach, so such an order's way out of Unknown gave no sample at all, and the longest dwells — the ones across a
 * restart — were the ones never measured. Its dwell counts from when it went Unknown (the order's unknownSinceMs), not
 * from the attach.
 */

import { expect, test } from 'bun:test'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../../runtime/harness.ts'
import { sample } from './observed.ts'

const worlds = worldsStoppedAfterEach()

/** A world whose venue answers nothing for 5 s from now: a place sent now ends Unknown until it is read back after. */
async function unknownOrderWorld(seed: number): Promise<{ world: World; orderId: string }> {
  const world = await startWorld({ seed })
  worlds.push(world)
  const nowMs = world.clock.nowMs()
  world.venue.setFaults({ outages: [{ startMs: nowMs, endMs: nowMs + 5_000, calls: 'unknown', reports: 'hold' }] })
  const body = { account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '1', price: '2900', client_order_id: `dwell-${seed}` }
  const result = await world.gateway.place(traderA, body, null)
  if (result.reply.kind !== 'accepted') throw new Error(`expected accepted, got ${result.reply.kind}`)
  return { world, orderId: result.reply.orderId }
}

test('an order Unknown when the metrics attach gives one dwell sample when it converges, from when it went Unknown', async () => {
  const { world, orderId } = await unknownOrderWorld(71)
  await run(world, 3_000)
  const order = world.gateway.engine.state.orders.get(orderId)
  expect(order?.status).toBe('Unknown')
  const unknownSinceMs = order?.unknownSinceMs ?? Number.NaN
  expect(unknownSinceMs).toBeLessThan(world.clock.nowMs())
  const metrics = new GatewayMetrics()
  metrics.attach(world.gateway, { inFlight: () => 0 })
  let convergedAtMs = Number.NaN
  world.gateway.engine.onDurable((events) => {
    for (const { event } of events) if (event.type === 'order.reconciled' && event.orderId === orderId) convergedAtMs = event.atMs
  })
  await run(world, 20_000)
  expect(world.gateway.engine.state.orders.get(orderId)?.status).not.toBe('Unknown')
  expect(convergedAtMs).toBeGreaterThan(unknownSinceMs)
  expect(sample(metrics, 'egress_order_unknown_dwell_seconds_count')).toBe(1)
  expect(sample(metrics, 'egress_order_unknown_dwell_seconds_sum')).toBeCloseTo((convergedAtMs - unknownSinceMs) / 1000, 6)
  metrics.detach()
})

test('the seeding keeps to trackedOrdersMax', async () => {
  const { world, orderId } = await unknownOrderWorld(72)
  await run(world, 3_000)
  expect(world.gateway.engine.state.orders.get(orderId)?.status).toBe('Unknown')
  const metrics = new GatewayMetrics({ trackedOrdersMax: 0 })
  metrics.attach(world.gateway, { inFlight: () => 0 })
  await run(world, 20_000)
  expect(world.gateway.engine.state.orders.get(orderId)?.status).not.toBe('Unknown')
  expect(sample(metrics, 'egress_order_unknown_dwell_seconds_count')).toBe(0)
  metrics.detach()
})
