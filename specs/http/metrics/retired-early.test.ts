/**
 * egress_orders_retired_early_total counts the ended orders the hard cap (kernel.terminalOrdersHeldMax) retired from
 * the hot state within the grace (src/kernel/retention.ts): a late fill for one is an orphan, so an operator sizes the
 * cap by this count. Without a cap reached it stays at 0.
 */

import { afterAll, expect, test } from 'bun:test'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { removeDir, run, startWorld, type World } from '../../runtime/harness.ts'
import { trade } from '../../runtime/snapshot/support.ts'
import { sample } from './observed.ts'

const worlds: World[] = []
afterAll(async () => {
  for (const world of worlds) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

async function scrapedAfterTrading(heldMax: number | undefined): Promise<number | undefined> {
  const cap = heldMax === undefined ? {} : { terminalOrdersHeldMax: heldMax }
  const world = await startWorld({ seed: 31, params: { terminalOrdersKeptMax: 2, terminalOrderRetireAfterMs: 3_600_000, ...cap } })
  worlds.push(world)
  const metrics = new GatewayMetrics()
  metrics.attach(world.gateway, { inFlight: () => 0 })
  await trade(world, { orders: 30, tag: 'early', seed: 31 })
  await run(world, 300)
  return sample(metrics, 'egress_orders_retired_early_total')
}

test('the orders the cap retired within the grace are counted on /metrics', async () => {
  expect(await scrapedAfterTrading(4)).toBeGreaterThan(5)
})

test('with the cap never reached (the grace alone decides) the count stays at 0', async () => {
  expect(await scrapedAfterTrading(undefined)).toBe(0)
})
