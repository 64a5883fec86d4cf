/**
 * A new order (or list) the kernel refuses at the cap on idempotency keys held (OVERLOADED, key-window.ts) is not shed
 * by the transport: the kernel records each refusal (`order.rejected`), whose apply moves the key window on. A refusal
 * that wrote a record did work, so it keeps the rate token it took. Before, every kernel load refusal gave its tokens
 * back: at the cap a client wrote one `order.rejected` per request, as fast as it could send, never meeting 429
 * RATE_LIMITED (the lanes' refusals, shed before anything is written, take no token at all: place-admission.ts).
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { LoadShedder } from '../../src/http/backpressure/index.ts'
import { errorCode, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
beforeAll(async () => {
  t = await startTestGateway()
})
afterAll(async () => t.stop())

/** The buckets on a clock that never moves (burst 2): only a refund gives a token back. */
function frozenShedder(): void {
  t.http.services.shedder = new LoadShedder({ account: { ratePerSec: 1, burst: 2 }, bot: { ratePerSec: 1, burst: 2 }, inFlightMax: 100, bucketsMax: 16, nowMs: () => 0 })
}

/** The kernel's cap on keys held set to what the index holds now: every new key is refused OVERLOADED, recorded. */
function atKeysCap(): () => void {
  const params = t.gateway.engine.state.config?.params
  if (params === undefined) throw new Error('expected kernel params')
  const cap = params.idempotencyKeysHeldMax
  params.idempotencyKeysHeldMax = t.gateway.engine.state.idempotency.size
  return () => {
    params.idempotencyKeysHeldMax = cap
  }
}

describe('a recorded refusal at the keys cap keeps its rate token', () => {
  test('a new order refused OVERLOADED at the cap spends its token: the next is 429 RATE_LIMITED and writes nothing', async () => {
    frozenShedder()
    const trader = await t.token({ sub: 'cap-trader', accounts: ['demo-1'] })
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'cap-0' }))).status).toBe(202)
    const restore = atKeysCap()
    try {
      const before = t.gateway.engine.wal.lastLsn
      const refused = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'cap-1' }))
      expect(refused.status).toBe(429)
      expect(errorCode(await json(refused))).toBe('OVERLOADED')
      expect(t.gateway.engine.wal.lastLsn).toBeGreaterThan(before)
      const written = t.gateway.engine.wal.lastLsn
      const shed = await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'cap-2' }))
      expect(shed.status).toBe(429)
      expect(errorCode(await json(shed))).toBe('RATE_LIMITED')
      expect(shed.headers.get('Retry-After')).toMatch(/^[1-9]\d*$/)
      expect(t.gateway.engine.wal.lastLsn).toBe(written)
    } finally {
      restore()
    }
    expect(t.http.services.shedder.inFlight).toBe(0)
  })

  test('an order list refused at the cap spends its token too', async () => {
    frozenShedder()
    const trader = await t.token({ sub: 'cap-lister', accounts: ['demo-1'] })
    expect((await t.request('/v1/orders', post(trader, LIMIT_BUY, { 'Idempotency-Key': 'cap-list-0' }))).status).toBe(202)
    const leg = { ...LIMIT_BUY, qty: '0.001' }
    const list = (key: string): Record<string, unknown> => ({ type: 'oco', account: 'demo-1', client_list_id: key, orders: [leg, { ...leg, price: '58000' }] })
    const restore = atKeysCap()
    try {
      const before = t.gateway.engine.wal.lastLsn
      const refused = await t.request('/v1/order-lists', post(trader, list('cap-list-1')))
      expect(refused.status).toBe(429)
      expect(errorCode(await json(refused))).toBe('OVERLOADED')
      expect(t.gateway.engine.wal.lastLsn).toBeGreaterThan(before)
      const written = t.gateway.engine.wal.lastLsn
      const shed = await t.request('/v1/order-lists', post(trader, list('cap-list-2')))
      expect(errorCode(await json(shed))).toBe('RATE_LIMITED')
      expect(t.gateway.engine.wal.lastLsn).toBe(written)
    } finally {
      restore()
    }
  })
})
