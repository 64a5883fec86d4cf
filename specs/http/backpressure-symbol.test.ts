/**
 * The per-symbol bound of seed 004 §6 ("Backpressure: global / bot / symbol / account limits"): config
 * `backpressure.symbol` is a token bucket per venue×symbol over every account and bot, so one busy instrument cannot
 * take the lanes every other one shares. Unset, there is none (as before). A refusal gives back the account's and the
 * bot's tokens; a symbol the gateway does not trade has no bucket (the kernel refuses the order); cancels never pass
 * through it.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { LoadShedder } from '../../src/http/backpressure/index.ts'
import { auth, errorCode, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

const SLOW = { ratePerSec: 1, burst: 1 }
const FAST = { ratePerSec: 1000, burst: 1000 }

describe('LoadShedder per symbol', () => {
  test('one token per instrument is shared by every account; other instruments have their own; a refusal refunds the account', () => {
    const shedder = new LoadShedder({ account: SLOW, bot: FAST, symbol: SLOW, inFlightMax: 100, bucketsMax: 16, nowMs: () => 0 })
    expect(shedder.admit('acct-a', null, 'sim:BTC-USD').ok).toBe(true)
    expect(shedder.admit('acct-b', 'bot-1', 'sim:BTC-USD')).toEqual({ ok: false, scope: 'symbol', retryAfterSec: 1 })
    // acct-b's only token (and bot-1's) went back with the refusal.
    expect(shedder.admit('acct-b', 'bot-1', 'sim:ETH-USD').ok).toBe(true)
    expect(shedder.inFlight).toBe(2)
  })

  test('without a symbol bound, or for an order on no known instrument, only the account and bot buckets count', () => {
    const unbounded = new LoadShedder({ account: FAST, bot: FAST, inFlightMax: 100, bucketsMax: 16, nowMs: () => 0 })
    for (const account of ['a', 'b', 'c']) expect(unbounded.admit(account, null, 'sim:BTC-USD').ok).toBe(true)
    const bounded = new LoadShedder({ account: FAST, bot: FAST, symbol: SLOW, inFlightMax: 100, bucketsMax: 16, nowMs: () => 0 })
    for (const account of ['a', 'b', 'c']) expect(bounded.admit(account, null, null).ok).toBe(true)
  })

  test('refund gives the symbol token back too', () => {
    const shedder = new LoadShedder({ account: FAST, bot: FAST, symbol: SLOW, inFlightMax: 100, bucketsMax: 16, nowMs: () => 0 })
    const first = shedder.admit('a', null, 'sim:BTC-USD')
    if (!first.ok) throw new Error('expected an admission')
    first.refund()
    expect(shedder.admit('b', null, 'sim:BTC-USD').ok).toBe(true)
  })
})

describe('config backpressure.symbol over HTTP', () => {
  let t: TestGateway
  beforeAll(async () => {
    t = await startTestGateway({ config: { backpressure: { symbol: SLOW } }, bucketsNowMs: () => 0 })
  })
  afterAll(async () => t.stop())

  test('a second account placing on the same symbol is shed with scope symbol; another symbol passes, its amend is held to it, a cancel passes', async () => {
    const alice = await t.token({ accounts: ['demo-1'] })
    const bob = await t.token({ sub: 'bob', accounts: ['demo-2'] })
    const first = await t.request('/v1/orders', post(alice, LIMIT_BUY, { 'Idempotency-Key': 'sym-1' }))
    expect(first.status).toBe(202)
    const orderId = (await json(first)).order_id as string
    const shed = await t.request('/v1/orders', post(bob, { ...LIMIT_BUY, account: 'demo-2', qty: '0.001' }, { 'Idempotency-Key': 'sym-2' }))
    expect(shed.status).toBe(429)
    expect(shed.headers.get('Retry-After')).toBe('1')
    const body = await json(shed)
    expect(errorCode(body)).toBe('RATE_LIMITED')
    expect((body.error as { details: { scope: string } }).details.scope).toBe('symbol')
    const other = await t.request('/v1/orders', post(bob, { ...LIMIT_BUY, account: 'demo-2', symbol: 'ETH-USD', qty: '0.01', price: '2900' }, { 'Idempotency-Key': 'sym-3' }))
    expect(other.status).toBe(202)
    // An amend is held to the bound of its order's instrument as a new order is.
    const otherId = (await json(other)).order_id as string
    const amend = await t.request(`/v1/orders/${otherId}/amend`, post(bob, { price: '2910' }))
    expect(amend.status).toBe(429)
    expect(((await json(amend)).error as { details: { scope: string } }).details.scope).toBe('symbol')
    const cancel = await t.request(`/v1/orders/${orderId}/cancel`, { method: 'POST', headers: auth(alice) })
    expect(cancel.status).toBe(202)
    const metrics = await (await t.request('/metrics')).text()
    expect(metrics).toContain('egress_orders_shed_total{action="place",scope="symbol"}')
    // The metric's help names every bound a scope can be, this one too.
    expect(metrics.split('\n').find((line) => line.startsWith('# HELP egress_orders_shed_total'))).toContain('symbol')
  })

  test('a symbol the gateway does not trade takes no symbol token: the kernel refuses it', async () => {
    const alice = await t.token({ accounts: ['demo-1'] })
    for (const key of ['nosym-1', 'nosym-2']) {
      const answer = await t.request('/v1/orders', post(alice, { ...LIMIT_BUY, symbol: 'NOPE-USD' }, { 'Idempotency-Key': key }))
      expect(errorCode(await json(answer))).toBe('INSTRUMENT_UNKNOWN')
    }
  })
})
