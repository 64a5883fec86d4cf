/**
 * One account's own switch by an operator's hand (POST /v1/accounts/:id/halt | cancel-only; src/http/routes/admin.ts,
 * src/kernel/account-switch.ts): ops or admin stop one account (its new orders refused, another account's accepted),
 * recorded with the operator as principal; a repeat writes nothing; every other role is refused, an unknown account is
 * 404, a bad body 400, nothing written for any. An account whose CANCEL_ONLY holds its flatten's close is moved to
 * HALT: the close goes out, the account stays stopped.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { auth, errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

const gateways: TestGateway[] = []
afterAll(async () => {
  for (const t of gateways) await t.stop()
})

const DEMO_2_BUY = { account: 'demo-2', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '59000' }

async function gateway(): Promise<{ t: TestGateway; ops: string; admin: string; trader: string; other: string }> {
  const t = await startTestGateway()
  gateways.push(t)
  const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  const admin = await t.token({ sub: 'ada', roles: ['admin'], accounts: [] })
  const trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  const other = await t.token({ sub: 'bob', roles: ['trader'], accounts: ['demo-2'] })
  return { t, ops, admin, trader, other }
}

describe('POST /v1/accounts/:id/halt | cancel-only', () => {
  for (const [path, action, accountSwitch, reason] of [
    ['halt', 'HALT', 'halted', 'ACCOUNT_HALTED'],
    ['cancel-only', 'CANCEL_ONLY', 'cancel_only', 'ACCOUNT_CANCEL_ONLY'],
  ] as const) {
    test(`${path}: ops stops the account (${reason}), recorded with ops as principal; another account trades on; a repeat writes nothing`, async () => {
      const { t, ops, trader, other } = await gateway()
      const stopped = await t.request(`/v1/accounts/demo-1/${path}`, post(ops, { note: 'bot misbehaving' }))
      expect(stopped.status).toBe(200)
      const answer = await json(stopped)
      expect(answer).toMatchObject({ account: 'demo-1', action, account_switch: accountSwitch })
      expect(typeof answer.lsn).toBe('number')
      expect(t.gateway.engine.state.accountSwitches.get('demo-1')).toMatchObject({ switch: accountSwitch, principalId: 'olga', note: 'bot misbehaving' })
      const refused = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, client_order_id: 'after-stop' }))
      expect(refused.status).toBe(503)
      expect(errorCode(await json(refused))).toBe(reason)
      expect((await t.request('/v1/orders', post(other, { ...DEMO_2_BUY, client_order_id: 'other-1' }))).status).toBe(202)
      expect(t.gateway.engine.state.tradingSwitch).toBe('normal')
      // A repeat: lsn null, its note not recorded (another account's order may be writing meanwhile: not the log's end).
      const repeat = await t.request(`/v1/accounts/demo-1/${path}`, post(ops, {}))
      expect(repeat.status).toBe(200)
      expect((await json(repeat)).lsn).toBeNull()
      expect(t.gateway.engine.state.accountSwitches.get('demo-1')?.note).toBe('bot misbehaving')
    })
  }

  test('admin may too; trader, bot and auditor are refused 403, an unknown account 404, a bad body 400: nothing written for any', async () => {
    const { t, admin } = await gateway()
    const callers = await Promise.all([
      t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] }),
      t.token({ sub: 'robo', roles: ['bot'], accounts: ['demo-1'] }),
      t.token({ sub: 'audrey', roles: ['auditor'], accounts: ['demo-1'] }),
    ])
    const lastLsn = t.gateway.engine.wal.lastLsn
    for (const path of ['halt', 'cancel-only']) {
      for (const token of callers) {
        const refused = await t.request(`/v1/accounts/demo-1/${path}`, post(token, {}))
        expect(refused.status).toBe(403)
        expect(errorCode(await json(refused))).toBe('FORBIDDEN')
      }
      const unknown = await t.request(`/v1/accounts/nobody/${path}`, post(admin, {}))
      expect(unknown.status).toBe(404)
      expect(errorCode(await json(unknown))).toBe('NOT_FOUND')
      for (const body of [{ state: 'HALT' }, { note: 5 }, { note: 'x'.repeat(257) }]) {
        const bad = await t.request(`/v1/accounts/demo-1/${path}`, post(admin, body))
        expect(bad.status).toBe(400)
        expect(errorCode(await json(bad))).toBe('VALIDATION_FAILED')
      }
    }
    expect(t.gateway.engine.wal.lastLsn).toBe(lastLsn)
    expect(t.gateway.engine.state.accountSwitches.size).toBe(0)
    const halted = await t.request('/v1/accounts/demo-1/halt', { method: 'POST', headers: auth(admin) })
    expect(halted.status).toBe(200)
    expect(t.gateway.engine.state.accountSwitches.get('demo-1')).toMatchObject({ switch: 'halted', principalId: 'ada', note: '' })
  })

  test("CANCEL_ONLY -> HALT: the flatten's close the account's CANCEL_ONLY held goes out, the account stays stopped; HALT -> CANCEL_ONLY moves it back", async () => {
    const { t, ops, trader } = await gateway()
    expect((await t.request('/v1/accounts/demo-1/cancel-only', post(ops, { note: 'runaway bot' }))).status).toBe(200)
    expect((await t.request('/v1/accounts/demo-1/flatten', post(ops, {}))).status).toBe(202)
    const close = [...t.gateway.engine.state.orders.values()].find((order) => order.accountId === 'demo-1' && order.flattenId !== null)
    const closeId = close?.orderId ?? ''
    const held = async (): Promise<unknown> => (await json(await t.request(`/v1/orders/${closeId}/explain`, { headers: auth(trader) }))).held
    expect(await held()).toMatchObject({ action: 'place', reason: 'ACCOUNT_CANCEL_ONLY', held_by: 'account_switch' })
    expect(t.gateway.engine.state.orders.get(closeId)?.status).toBe('Enqueued')
    const moved = await t.request('/v1/accounts/demo-1/halt', post(ops, { note: 'let the closes out' }))
    expect(moved.status).toBe(200)
    expect(await json(moved)).toMatchObject({ account: 'demo-1', action: 'HALT', account_switch: 'halted', lsn: expect.any(Number) })
    await eventually(() => t.gateway.engine.state.orders.get(closeId)?.status !== 'Enqueued')
    expect(await held()).toBeNull()
    expect(t.gateway.engine.state.accountSwitches.get('demo-1')).toMatchObject({ switch: 'halted', principalId: 'olga', note: 'let the closes out' })
    const refused = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, side: 'sell', client_order_id: 'still-stopped' }))
    expect(refused.status).toBe(503)
    expect(errorCode(await json(refused))).toBe('ACCOUNT_HALTED')
    const back = await t.request('/v1/accounts/demo-1/cancel-only', post(ops, {}))
    expect(await json(back)).toMatchObject({ account_switch: 'cancel_only', lsn: expect.any(Number) })
    expect(t.gateway.engine.state.accountSwitches.get('demo-1')?.switch).toBe('cancel_only')
  })
})
