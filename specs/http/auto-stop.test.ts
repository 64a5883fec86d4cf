/**
 * Automatic stop over HTTP (src/http/routes/auto-stop.ts): a runaway of orders trips the order-rate breaker, which
 * halts new orders (503 MODE_HALTED), shows in /health's trading_switch, in GET /v1/auto_stop (ops, admin, auditor;
 * a trader 403) with its figures and last trip, and in /metrics as egress_auto_stop_trips_total{breaker} (no order or
 * account labels). Without config autoStop the route says so and the metric has no series.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

const gateways: TestGateway[] = []
afterAll(async () => {
  for (const t of gateways) await t.stop()
})

describe('auto-stop over HTTP', () => {
  test('the order-rate breaker over all accounts halts a runaway, shown on /v1/auto_stop, /health and /metrics', async () => {
    // Scope all: the trading switch (scope account stops the account alone: account-stop.test.ts).
    const t = await startTestGateway({ config: { autoStop: { orderRate: { windowMs: 60_000, ordersMax: 2, scope: 'all', action: 'HALT' } } } })
    gateways.push(t)
    const trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
    const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
    const auditor = await t.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })

    const before = await json(await t.request('/v1/auto_stop', { headers: auth(ops) }))
    expect(before).toMatchObject({ configured: true, trading_switch: 'normal', running: true, armed: true, last_trip: null, breakers: [{ breaker: 'order_rate', action: 'HALT', trips: 0, orders_max: 2 }] })
    expect((await t.request('/v1/auto_stop', { headers: auth(trader) })).status).toBe(403)

    for (let index = 0; index < 3; index++) {
      const placed = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: `runaway-${index}` }))
      expect(placed.status).toBe(202)
    }
    await eventually(() => t.gateway.engine.state.tradingSwitch === 'halted')
    const refused = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'runaway-3' }))
    expect(refused.status).toBe(503)
    expect(errorCode(await json(refused))).toBe('MODE_HALTED')
    expect((await json(await t.request('/health'))).trading_switch).toBe('halted')

    await eventually(() => t.gateway.autoStop?.lastTrip !== null)
    const after = await json(await t.request('/v1/auto_stop', { headers: auth(auditor) }))
    expect(after).toMatchObject({
      trading_switch: 'halted',
      armed: false,
      breakers: [{ breaker: 'order_rate', trips: 1 }],
      last_trip: { breaker: 'order_rate', note: 'auto-stop order_rate: 3 new orders accepted over all accounts in the last 60000 ms, above 2', account: null },
      stopped_accounts: [],
    })
    const metrics = await (await t.request('/metrics')).text()
    expect(metrics).toContain('egress_auto_stop_trips_total{breaker="order_rate"} 1')
    expect(metrics.split('\n').filter((line) => line.startsWith('egress_auto_stop_')).every((line) => !/order_id|account/.test(line))).toBe(true)
  })

  test('without config autoStop: nothing configured, the metric without series', async () => {
    const t = await startTestGateway()
    gateways.push(t)
    const admin = await t.token({ sub: 'adam', roles: ['admin'], accounts: [] })
    expect(await json(await t.request('/v1/auto_stop', { headers: auth(admin) }))).toEqual({
      configured: false,
      trading_switch: 'normal',
      running: false,
      armed: false,
      armed_at_ms: null,
      breakers: [],
      last_trip: null,
      stopped_accounts: [],
    })
    const metrics = await (await t.request('/metrics')).text()
    expect(metrics).toContain('# TYPE egress_auto_stop_trips_total counter')
    expect(metrics).not.toContain('egress_auto_stop_trips_total{')
  })
})
