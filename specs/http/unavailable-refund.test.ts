/**
 * A new order, list, amend or idle flatten the log or the lease refuses after the rate limiter admitted it (503
 * UNAVAILABLE: the log closed or failed; 503 NOT_LEADER: the lease lost) wrote nothing, and gets its rate tokens back,
 * as one the log refuses for capacity (429) always did. Before, only the 429 gave them back: a client told to retry after a 503 found
 * its bucket one token lighter for each, and retried into 429 RATE_LIMITED once the node served again.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { LoadShedder } from '../../src/http/backpressure/index.ts'
import { LeaseError, WalClosedError, WalFatalError } from '../../wal/index.ts'
import { errorCode, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
beforeAll(async () => {
  t = await startTestGateway()
})
afterAll(async () => t.stop())

/** The buckets on a clock that never moves (burst 1): only a refund gives the one token back. */
function frozenShedder(): void {
  t.http.services.shedder = new LoadShedder({ account: { ratePerSec: 1, burst: 1 }, bot: { ratePerSec: 1, burst: 1 }, inFlightMax: 100, bucketsMax: 16, nowMs: () => 0 })
}

const REFUSALS = [
  { code: 'UNAVAILABLE', error: () => new WalClosedError('log closed') },
  { code: 'UNAVAILABLE', error: () => new WalFatalError('log write failed') },
  { code: 'NOT_LEADER', error: () => new LeaseError('LEASE_LOST', 'a newer epoch holds the lease') },
] as const

describe('a 503 from the log or the lease gives the rate token back', () => {
  for (const [index, refusal] of REFUSALS.entries()) {
    test(`a new order refused ${refusal.code} (${refusal.error().name}) keeps its token: its retry is placed`, async () => {
      frozenShedder()
      const bot = await t.token({ sub: `bot-503-${index}`, roles: ['bot'], accounts: ['demo-2'] })
      const body = { ...LIMIT_BUY, account: 'demo-2', qty: '0.001' }
      const key = `refund-503-${index}`
      const place = t.gateway.place.bind(t.gateway)
      t.gateway.place = () => Promise.reject(refusal.error())
      try {
        const refused = await t.request('/v1/orders', post(bot, body, { 'Idempotency-Key': key }))
        expect(refused.status).toBe(503)
        expect(errorCode(await json(refused))).toBe(refusal.code)
      } finally {
        t.gateway.place = place
      }
      const retry = await t.request('/v1/orders', post(bot, body, { 'Idempotency-Key': key }))
      expect(retry.status).toBe(202)
      expect(t.http.services.shedder.inFlight).toBe(0)
    })
  }

  test('an order list refused UNAVAILABLE keeps its token', async () => {
    frozenShedder()
    const trader = await t.token({ sub: 'list-503', accounts: ['demo-2'] })
    const leg = { ...LIMIT_BUY, account: 'demo-2', qty: '0.001' }
    const list = { type: 'oco', account: 'demo-2', client_list_id: 'list-503', orders: [leg, { ...leg, price: '58000' }] }
    const placeList = t.gateway.placeList.bind(t.gateway)
    t.gateway.placeList = () => Promise.reject(new WalClosedError('log closed'))
    try {
      expect(errorCode(await json(await t.request('/v1/order-lists', post(trader, list))))).toBe('UNAVAILABLE')
    } finally {
      t.gateway.placeList = placeList
    }
    expect((await t.request('/v1/order-lists', post(trader, list))).status).toBe(202)
  })

  test('an amend refused NOT_LEADER keeps its token', async () => {
    const trader = await t.token({ sub: 'amend-503', accounts: ['demo-1'] })
    const orderId = (await json(await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'amend-503' })))).order_id as string
    await eventually(() => t.gateway.engine.state.orders.get(orderId)?.status === 'AckedOpen')
    frozenShedder()
    const amend = t.gateway.amend.bind(t.gateway)
    t.gateway.amend = () => Promise.reject(new LeaseError('LEASE_LOST', 'a newer epoch holds the lease'))
    try {
      expect(errorCode(await json(await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '59100' }))))).toBe('NOT_LEADER')
    } finally {
      t.gateway.amend = amend
    }
    expect((await t.request(`/v1/orders/${orderId}/amend`, post(trader, { price: '59100' }))).status).toBe(202)
  })

  test('a flatten with nothing to do refused UNAVAILABLE keeps its token', async () => {
    // Was: charged like a new order but never refunded, its retry got 429 RATE_LIMITED.
    const trader = await t.token({ sub: 'flatten-503', accounts: ['demo-2'] })
    // The cases above left demo-2 orders: a first flatten cancels them, and the next has nothing to do (charged).
    expect((await t.request('/v1/accounts/demo-2/flatten', post(trader, {}))).status).toBe(202)
    const caller = { id: 'flatten-503', roles: ['trader' as const], accounts: ['demo-2'], liveAllowed: false }
    await eventually(() => !t.gateway.flattenActs(caller, 'demo-2', 'flatten-503'))
    frozenShedder()
    const flatten = t.gateway.flatten.bind(t.gateway)
    t.gateway.flatten = () => Promise.reject(new WalClosedError('log closed'))
    try {
      expect(errorCode(await json(await t.request('/v1/accounts/demo-2/flatten', post(trader, {}, { 'Idempotency-Key': 'flatten-503' }))))).toBe('UNAVAILABLE')
    } finally {
      t.gateway.flatten = flatten
    }
    expect((await t.request('/v1/accounts/demo-2/flatten', post(trader, {}, { 'Idempotency-Key': 'flatten-503' }))).status).toBe(202)
    expect(t.http.services.shedder.inFlight).toBe(0)
  })
})
