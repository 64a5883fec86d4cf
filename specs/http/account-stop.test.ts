/**
 * One account stopped on its own over HTTP (src/kernel/account-switch.ts, src/http/routes/admin.ts): the order-rate
 * breaker with scope account stops the runaway's account — its orders 503 ACCOUNT_HALTED, another account's 202, the
 * trading switch normal —, GET /v1/auto_stop lists it in stopped_accounts, and POST /v1/accounts/:id/resume (ops or
 * admin; a trader 403) lifts it, a repeat answering lsn null with nothing written; POST /v1/admin/resume lifts it too.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

const gateways: TestGateway[] = []
afterAll(async () => {
  for (const t of gateways) await t.stop()
})

const ORDER_RATE = { windowMs: 60_000, ordersMax: 2, scope: 'account', action: 'HALT' } as const
const DEMO_2_BUY = { account: 'demo-2', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000' }

async function stoppedGateway(action: 'HALT' | 'CANCEL_ONLY' = ORDER_RATE.action): Promise<{ t: TestGateway; trader: string; other: string; ops: string }> {
  const t = await startTestGateway({ config: { autoStop: { orderRate: { ...ORDER_RATE, action } } } })
  gateways.push(t)
  const trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  const other = await t.token({ sub: 'bob', roles: ['trader'], accounts: ['demo-2'] })
  const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  for (let index = 0; index < 3; index++) {
    expect((await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: `runaway-${index}` }))).status).toBe(202)
  }
  await eventually(() => t.gateway.engine.state.accountSwitches.has('demo-1'))
  return { t, trader, other, ops }
}

describe('an account stopped on its own, over HTTP', () => {
  test('the runaway account is refused ACCOUNT_HALTED, another account trades on; /v1/auto_stop lists the stop', async () => {
    const { t, trader, other, ops } = await stoppedGateway()
    const refused = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'runaway-3' }))
    expect(refused.status).toBe(503)
    expect(errorCode(await json(refused))).toBe('ACCOUNT_HALTED')
    expect((await t.request('/v1/orders', post(other, { ...DEMO_2_BUY, client_order_id: 'other-1' }))).status).toBe(202)
    expect((await json(await t.request('/health'))).trading_switch).toBe('normal')
    const view = await json(await t.request('/v1/auto_stop', { headers: auth(ops) }))
    expect(view).toMatchObject({
      trading_switch: 'normal',
      armed: true,
      last_trip: { breaker: 'order_rate', account: 'demo-1' },
      stopped_accounts: [{ account: 'demo-1', account_switch: 'halted', principal: 'egress-auto-stop', note: 'auto-stop order_rate: 3 new orders accepted for account demo-1 in the last 60000 ms, above 2' }],
    })
  })

  test('POST /v1/accounts/:id/resume: a trader 403, ops lifts it (a repeat lsn null), an unknown account 404', async () => {
    const { t, trader, ops } = await stoppedGateway()
    const forbidden = await t.request('/v1/accounts/demo-1/resume', post(trader, {}))
    expect(forbidden.status).toBe(403)
    expect(t.gateway.engine.state.accountSwitches.has('demo-1')).toBe(true)
    const lifted = await t.request('/v1/accounts/demo-1/resume', post(ops, { note: 'looked at it' }))
    expect(lifted.status).toBe(200)
    const answer = await json(lifted)
    expect(answer).toMatchObject({ account: 'demo-1', action: 'RESUME', account_switch: 'normal' })
    expect(typeof answer.lsn).toBe('number')
    expect(t.gateway.engine.state.accountSwitches.size).toBe(0)
    const repeat = await t.request('/v1/accounts/demo-1/resume', post(ops, {}))
    expect(repeat.status).toBe(200)
    expect((await json(repeat)).lsn).toBeNull()
    expect((await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'after-resume' }))).status).toBe(202)
    expect((await t.request('/v1/accounts/nobody/resume', post(ops, {}))).status).toBe(404)
    expect((await json(await t.request('/v1/auto_stop', { headers: auth(ops) }))).stopped_accounts).toEqual([])
  })

  test('POST /v1/admin/resume lifts the account stops too', async () => {
    const { t, trader, ops } = await stoppedGateway()
    expect((await t.request('/v1/admin/resume', post(ops, {}))).status).toBe(200)
    expect(t.gateway.engine.state.accountSwitches.size).toBe(0)
    expect((await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'after-global-resume' }))).status).toBe(202)
  })

  test("/explain of a flatten's close held by the account's own CANCEL_ONLY names the account's switch, the trading switch normal or halted", async () => {
    const { t, trader, ops } = await stoppedGateway('CANCEL_ONLY')
    expect((await t.request('/v1/accounts/demo-1/flatten', post(ops, {}))).status).toBe(202)
    const close = [...t.gateway.engine.state.orders.values()].find((order) => order.flattenId !== null && order.symbol === 'BTC-USD')
    const closeId = close?.orderId ?? ''
    const held = async (): Promise<unknown> => (await json(await t.request(`/v1/orders/${closeId}/explain`, { headers: auth(trader) }))).held
    expect(t.gateway.engine.state.orders.get(closeId)?.status).toBe('Enqueued')
    const byAccount = { action: 'place', reason: 'ACCOUNT_CANCEL_ONLY', held_by: 'account_switch', account_switch: 'cancel_only', description: expect.any(String) }
    expect(await held()).toEqual({ ...byAccount, trading_switch: 'normal' })
    // The trading switch's HALT lets a flatten's close go; the account's own CANCEL_ONLY still holds it.
    expect((await t.request('/v1/admin/halt', post(ops, {}))).status).toBe(200)
    expect(await held()).toEqual({ ...byAccount, trading_switch: 'halted' })
    expect((await t.request('/v1/accounts/demo-1/resume', post(ops, {}))).status).toBe(200)
    await eventually(() => t.gateway.engine.state.orders.get(closeId)?.status !== 'Enqueued')
    expect(await held()).toBeNull()
  })
})
