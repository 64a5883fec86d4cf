/**
 * POST /v1/accounts/:id/flatten reads its body like the other routes (an empty body or `{}`; anything else is a typed
 * 400 and nothing is written), and a client's order key cannot take the namespace of flatten's closing orders. A
 * position past what a record holds is a typed refusal (before: the closing order made the log's writer assert).
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { RECORD_UNITS_MAX } from '../../src/domain/recordable-amounts.ts'
import { errorCode, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string
let ops: string

beforeAll(async () => {
  t = await startTestGateway()
  trader = await t.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  ops = await t.token({ sub: 'olga', roles: ['ops'], accounts: [] })
})
afterAll(async () => t.stop())

describe('the flatten body', () => {
  test('invalid JSON, unknown members and non-objects are 400 in the one error shape, and nothing is written', async () => {
    const lsn = t.gateway.engine.wal.lastLsn
    const cases: [string, string][] = [
      ['{not json', 'MALFORMED_REQUEST'],
      ['{"account":"demo-2"}', 'VALIDATION_FAILED'],
      ['{"note":"x"}', 'VALIDATION_FAILED'],
      ['[]', 'VALIDATION_FAILED'],
      ['"flatten"', 'VALIDATION_FAILED'],
    ]
    for (const [body, code] of cases) {
      const res = await t.request('/v1/accounts/demo-2/flatten', post(ops, body))
      expect([body, res.status]).toEqual([body, 400])
      const answer = await json(res)
      expect([body, errorCode(answer)]).toEqual([body, code])
      expect(Object.keys(answer.error as object).sort()).toEqual(['code', 'details', 'message'])
    }
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
  })

  test('an empty body and {} are a flatten', async () => {
    expect((await t.request('/v1/accounts/demo-2/flatten', post(ops, ''))).status).toBe(202)
    expect((await t.request('/v1/accounts/demo-2/flatten', post(ops, {}))).status).toBe(202)
  })
})

describe("flatten's keys", () => {
  test("a client key in flatten's namespace is 400 IDEMPOTENCY_KEY_RESERVED, and the flatten it would have stopped closes", async () => {
    const lsn = t.gateway.engine.wal.lastLsn
    const closeKey = 'flatten:f-9:sim:BTC-USD'
    const sell = { ...LIMIT_BUY, side: 'sell', price: '61000' }
    for (const init of [post(trader, { ...sell, client_order_id: closeKey }), post(trader, sell, { 'Idempotency-Key': closeKey })]) {
      const res = await t.request('/v1/orders', init)
      expect(res.status).toBe(400)
      const answer = await json(res)
      expect(errorCode(answer)).toBe('IDEMPOTENCY_KEY_RESERVED')
      expect((answer.error as { details: unknown }).details).toEqual({ idempotency_key: closeKey, reserved_prefix: 'flatten:' })
    }
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
    // A key that merely contains the word elsewhere is the client's to use.
    expect((await t.request('/v1/orders', post(trader, { ...sell, client_order_id: 'my-flatten:1' }))).status).toBe(202)

    expect((await t.request('/v1/accounts/demo-1/flatten', post(ops, '', { 'Idempotency-Key': 'f-9' }))).status).toBe(202)
    const closes = [...t.gateway.engine.state.orders.values()].filter((order) => order.flattenId === 'f-9').map((order) => [order.idempotencyKey, order.side, order.lane])
    expect(closes).toContainEqual([closeKey, 'sell', 0])
  })
})

describe('a position past what a record holds', () => {
  test('its flatten is 422 FLATTEN_POSITION_UNRECORDABLE and nothing is written', async () => {
    // Fundings (like fills) are each within the record bound; their sum is not. demo-2 holds no BTC before this.
    for (const reference of ['top-up-1', 'top-up-2']) {
      await t.gateway.engine.submit({ kind: 'fund', nowMs: Date.now(), principalId: 'spec', accountId: 'demo-2', asset: 'BTC', amount: RECORD_UNITS_MAX, reference })
    }
    const lsn = t.gateway.engine.wal.lastLsn
    const res = await t.request('/v1/accounts/demo-2/flatten', post(ops, '', { 'Idempotency-Key': 'f-big' }))
    expect(res.status).toBe(422)
    const answer = await json(res)
    expect(errorCode(answer)).toBe('FLATTEN_POSITION_UNRECORDABLE')
    expect((answer.error as { details: { detail: string } }).details.detail).toContain('demo-2 sim:BTC-USD')
    expect(t.gateway.engine.wal.lastLsn).toBe(lsn)
  })
})
