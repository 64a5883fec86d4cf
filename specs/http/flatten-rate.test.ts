/**
 * A flatten with nothing left to cancel or close still writes its own record (account.flatten_requested), and flatten
 * never asked the load shedder: a trader's token could loop it and write to the log as fast as it could send. Now such
 * an idle flatten is charged to the account's rate (429 RATE_LIMITED with Retry-After past it), while a flatten that
 * cancels or closes something is a kill switch and passes whatever the rate.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { domainEventOf } from '../../src/runtime/records.ts'
import { errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
beforeAll(async () => {
  // A rate so low no token comes back while the test runs: the burst is the whole allowance.
  t = await startTestGateway({ config: { backpressure: { account: { ratePerSec: 1, burst: 3 }, bot: { ratePerSec: 1, burst: 3 }, inFlightMax: 100 } } })
})
afterAll(async () => t.stop())

function flattenRecords(accountId: string): number {
  let count = 0
  for (const frame of t.gateway.engine.wal.read(1)) {
    const event = domainEventOf(frame)
    if (event?.type === 'account.flatten_requested' && event.accountId === accountId) count++
  }
  return count
}

describe('flatten rate', () => {
  test('flattens with nothing to do stop being recorded at the account rate: then 429 RATE_LIMITED with Retry-After', async () => {
    // demo-2 holds only USD and has no orders: every flatten of it is idle.
    const trader = await t.token({ sub: 'dora', accounts: ['demo-2'] })
    const codes: number[] = []
    for (let index = 0; index < 10; index++) {
      const res = await t.request('/v1/accounts/demo-2/flatten', post(trader, {}))
      codes.push(res.status)
      if (res.status === 429) {
        expect(errorCode(await json(res))).toBe('RATE_LIMITED')
        expect(Number(res.headers.get('Retry-After'))).toBeGreaterThanOrEqual(1)
      }
    }
    const recorded = flattenRecords('demo-2')
    // A token may have come back while the test ran.
    expect(recorded).toBeLessThanOrEqual(4)
    expect(codes.filter((status) => status === 202).length).toBe(recorded)
    expect(codes.filter((status) => status === 429).length).toBe(10 - recorded)
    // Each shed flatten is counted, as a flatten: the counter said "new orders" and missed them.
    expect(await (await t.request('/metrics')).text()).toContain(`egress_orders_shed_total{action="flatten",scope="account"} ${10 - recorded}\n`)
  })

  test('a flatten that cancels something passes with the rate spent; the idle one after it is shed', async () => {
    const trader = await t.token({ sub: 'ella', accounts: ['demo-1'] })
    const ids: string[] = []
    // Three resting orders spend demo-1's whole burst.
    for (const key of ['fr-1', 'fr-2', 'fr-3']) {
      const res = await t.request('/v1/orders', post(trader, { ...LIMIT_BUY, price: '58000' }, { 'Idempotency-Key': key }))
      expect(res.status).toBe(202)
      ids.push((await json(res)).order_id as string)
    }
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'fr-4' }))).status).toBe(429)
    const acting = await t.request('/v1/accounts/demo-1/flatten', post(trader, {}, { 'Idempotency-Key': 'fr-flatten-1' }))
    expect(acting.status).toBe(202)
    for (const id of ids) expect(t.gateway.engine.state.orders.get(id)?.cancelWanted).toBe(true)
    await eventually(() => ids.every((id) => t.gateway.engine.state.orders.get(id)?.status === 'Canceled'))
    // demo-1's positions were closed by the first flatten (or are held by its closes): nothing left to do.
    await eventually(() => !t.gateway.flattenActs({ id: 'ella', roles: ['trader'], accounts: ['demo-1'], liveAllowed: false }, 'demo-1', 'fr-probe'))
    const idle = await t.request('/v1/accounts/demo-1/flatten', post(trader, {}, { 'Idempotency-Key': 'fr-flatten-2' }))
    expect(idle.status).toBe(429)
  })
})
