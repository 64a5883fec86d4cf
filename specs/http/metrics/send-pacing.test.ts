/**
 * Pacing by the venues' request budgets (src/runtime/send-pacing.ts) writes nothing to the log: a paced place is
 * simply not picked yet. GET /metrics shows it (src/http/send-pacing-metrics.ts): egress_send_pacing_waits_total by
 * venue, never by symbol or order.
 */

import { expect, test } from 'bun:test'
import { Hono } from 'hono'
import type { KernelConfig } from '../../../src/domain/kernel-config.ts'
import { GatewayMetrics } from '../../../src/http/gateway-metrics.ts'
import { serveMetricsText } from '../../../src/http/metrics-route.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../../runtime/harness.ts'

const worlds = worldsStoppedAfterEach()
const RATE = 5

function btcPaced(config: KernelConfig): KernelConfig {
  return { ...config, instruments: config.instruments.map((instrument) => (instrument.symbol === 'BTC-USD' ? { ...instrument, rateLimitPerSecond: RATE } : instrument)) }
}

async function waitsSeries(metrics: GatewayMetrics): Promise<string[]> {
  const app = new Hono()
  app.get('/metrics', serveMetricsText(metrics))
  const text = await (await app.request('/metrics')).text()
  return text.split('\n').filter((line) => line.startsWith('egress_send_pacing_waits_total'))
}

async function burst(world: World, symbol: string, price: string, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    const body = { account: 'acct-a', symbol, side: 'buy', type: 'limit', qty: '0.01', price, tif: 'GTC', client_order_id: `${symbol}-${index}` }
    expect((await world.gateway.place(traderA, body, null)).reply.kind).toBe('accepted')
  }
}

test('GET /metrics counts the waits for a spent request budget by venue; an instrument within its budget adds none', async () => {
  const world = await startWorld({ seed: 70201, configure: btcPaced })
  worlds.push(world)
  const metrics = new GatewayMetrics()
  metrics.attach(world.gateway, { inFlight: () => 0 })
  await burst(world, 'ETH-USD', '2925', 3 * RATE)
  await run(world, 50)
  expect(await waitsSeries(metrics)).toEqual([])
  await burst(world, 'BTC-USD', '58500', 3 * RATE)
  await run(world, 50)
  const [line, ...others] = await waitsSeries(metrics)
  expect(others).toEqual([])
  expect(line).toMatch(/^egress_send_pacing_waits_total\{venue="sim"\} \d+$/)
  expect(Number(line?.split(' ')[1])).toBeGreaterThanOrEqual(1)
  expect(world.errors).toEqual([])
})
