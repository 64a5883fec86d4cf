/**
 * GET /v1/auto_stop's stopped_accounts say who stopped each account and under what (src/http/routes/auto-stop.ts): the
 * principal, when and the note (the kernel's switch entry), and, from the account.switch_changed record that stopped it
 * (found through the log index, log-index-switches.ts), its LSN and the config digest and build it was decided under
 * (payload version 13). A move to the other switch is the new record's. An index rebuilt after a restart finds an older
 * record once it has read that far; until then the three say null, never the running config's or build's.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { LogIndex } from '../../src/http/log-index.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

const gateways: TestGateway[] = []
afterAll(async () => {
  for (const t of gateways) await t.stop()
})

async function stoppedAccounts(t: TestGateway, token: string): Promise<unknown> {
  return (await json(await t.request('/v1/auto_stop', { headers: auth(token) }))).stopped_accounts
}

describe('GET /v1/auto_stop stopped_accounts: who stopped each account, under which config and build', () => {
  test("an operator's stop shows its principal, note, record LSN, config digest and build; a move shows the new record's", async () => {
    const t = await startTestGateway()
    gateways.push(t)
    const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
    const admin = await t.token({ sub: 'ada', roles: ['admin'], accounts: [] })
    const auditor = await t.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
    const digest = t.gateway.engine.state.config?.digest
    expect(typeof digest).toBe('string')

    const halted = await json(await t.request('/v1/accounts/demo-1/halt', post(ops, { note: 'bot misbehaving' })))
    const atMs = t.gateway.engine.state.accountSwitches.get('demo-1')?.atMs
    expect(await stoppedAccounts(t, auditor)).toEqual([
      { account: 'demo-1', account_switch: 'halted', principal: 'olga', at_ms: atMs, note: 'bot misbehaving', record_lsn: halted.lsn, config_digest: digest, build_commit: 'spec' },
    ])

    const moved = await json(await t.request('/v1/accounts/demo-1/cancel-only', post(admin, { note: 'cancels only' })))
    expect(moved.lsn).toBeGreaterThan(halted.lsn as number)
    expect(await stoppedAccounts(t, ops)).toEqual([
      expect.objectContaining({ account_switch: 'cancel_only', principal: 'ada', note: 'cancels only', record_lsn: moved.lsn, config_digest: digest, build_commit: 'spec' }),
    ])
    // Lifted: listed no more; stopped again, the new stop's record.
    await t.request('/v1/accounts/demo-1/resume', post(ops, {}))
    expect(await stoppedAccounts(t, ops)).toEqual([])
    const again = await json(await t.request('/v1/accounts/demo-1/halt', post(ops, {})))
    expect(await stoppedAccounts(t, ops)).toEqual([expect.objectContaining({ principal: 'olga', note: '', record_lsn: again.lsn })])
  })

  test('an index rebuilt after a restart finds the stop once its background scan reaches the record; null until then', async () => {
    const t = await startTestGateway()
    gateways.push(t)
    const ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
    const bob = await t.token({ sub: 'bob', roles: ['trader'], accounts: ['demo-2'] })
    const halted = await json(await t.request('/v1/accounts/demo-1/halt', post(ops, { note: 'stop' })))
    for (let index = 0; index < 5; index++) {
      const placed = await t.request('/v1/orders', post(bob, { ...LIMIT_BUY, account: 'demo-2', qty: '0.001', client_order_id: `later-${index}` }))
      expect(placed.status).toBe(202)
    }
    const engine = t.gateway.engine
    await engine.settled()
    expect(engine.wal.lastLsn - (halted.lsn as number)).toBeGreaterThan(2)
    const rebuilt = LogIndex.build(engine, { syncFramesMax: 2, backgroundFramesPerSlice: 1 })
    expect(rebuilt.complete).toBe(false)
    expect(rebuilt.accountSwitchRecord('demo-1')).toBeNull()
    await rebuilt.whenComplete()
    expect(rebuilt.accountSwitchRecord('demo-1')).toMatchObject({ lsn: halted.lsn, event: { type: 'account.switch_changed', accountId: 'demo-1', switch: 'halted', principalId: 'olga', buildCommit: 'spec' } })
    expect(rebuilt.accountSwitchRecord('demo-2')).toBeNull()
    rebuilt.close()
  })
})
