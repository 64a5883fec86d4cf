import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { canonicalJson } from '../../src/domain/canonical-json.ts'
import { auth, LIMIT_BUY, startTestGateway, type TestGateway } from './fixture.ts'

let t: TestGateway
let trader: string

beforeAll(async () => {
  t = await startTestGateway({ config: { backpressure: { account: { ratePerSec: 1_000_000, burst: 1_000_000 }, inFlightMax: 10_000 } } })
  trader = await t.token({ accounts: ['demo-1'] })
})
afterAll(async () => t.stop())

/** What a rejected request must not change: orders, balances, reservations, mode, switch. */
function snapshot(): string {
  const state = t.gateway.engine.state
  return canonicalJson({ orders: [...state.orders.keys()], accounts: state.accounts, mode: state.mode, switch: state.tradingSwitch, open: state.openOrders })
}

const fieldValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('0', '-1', '1e5', '0.000000001', '60000', '99999999999999999999999', 'buy', 'sell', 'limit', 'market', 'GTC', 'BTC-USD', 'demo-1', 'demo-2'),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
)

const orderLike = fc.record(
  {
    account: fieldValue,
    venue: fieldValue,
    symbol: fieldValue,
    side: fieldValue,
    type: fieldValue,
    qty: fieldValue,
    price: fieldValue,
    tif: fieldValue,
    post_only: fieldValue,
    reduce_only: fieldValue,
    client_order_id: fieldValue,
  },
  { requiredKeys: [] },
)

const rawBody = fc.oneof(
  orderLike.map((body) => JSON.stringify(body)),
  fc.string({ maxLength: 200 }),
  fc.json(),
  fc.constantFrom('', '{', 'null', '[]', '"x"', '{"__proto__":{"a":1}}', '{"constructor":{"prototype":{}}}'),
  fc.string({ maxLength: 10 }).map((junk) => JSON.stringify({ ...LIMIT_BUY, junk })),
)

const headerValue = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('k-1', ' ', 'a'.repeat(200), 'ключ', '\t'))

const tokenish = fc.oneof(
  fc.constant('VALID'),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('Bearer', 'Bearer ', 'Basic abc', 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'),
)

const paths = fc.constantFrom(
  ['POST', '/v1/orders'],
  ['GET', '/v1/orders'],
  ['POST', '/v1/orders/abc/cancel'],
  ['POST', '/v1/admin/mode'],
  ['POST', '/v1/admin/halt'],
  ['POST', '/v1/accounts/demo-1/flatten'],
  ['GET', '/v1/orders/abc/explain'],
  ['GET', '/v1/orders?limit=x&state=y'],
) as fc.Arbitrary<[string, string]>

describe('fuzzing the API', () => {
  test('no body, header or token produces a 5xx, and a rejected request changes no state', async () => {
    await fc.assert(
      fc.asyncProperty(paths, rawBody, headerValue, tokenish, fc.boolean(), async ([method, path], body, key, token, withKey) => {
        const before = snapshot()
        const authorization = token === 'VALID' ? `Bearer ${trader}` : token
        const headers: Record<string, string> = { 'Content-Type': 'application/json' }
        // Header values fetch refuses to send (control characters, non-Latin-1) never reach a server either.
        if (/^[\x20-\x7e]*$/.test(authorization)) headers.Authorization = authorization
        if (withKey && /^[\x20-\x7e]*$/.test(key)) headers['Idempotency-Key'] = key
        const res = await t.request(path, { method, headers, ...(method === 'POST' ? { body } : {}) })
        expect(res.status).toBeLessThan(500)
        const text = await res.text()
        expect(text).not.toContain('    at ')
        if (res.status >= 400) {
          const parsed = JSON.parse(text) as { error: { code: string; message: string } }
          expect(typeof parsed.error.code).toBe('string')
          expect(snapshot()).toBe(before)
        }
      }),
      { numRuns: 300 },
    )
  })

  test('near-valid orders from a valid token are answered 202 or 4xx, never 5xx', async () => {
    const nearValid = fc.record({
      qty: fc.constantFrom('0.01', '0', '0.000000001', '1000000', '1.123456789', '-1'),
      price: fc.constantFrom('60000', '1', '99999999', '59999.995', '0'),
      side: fc.constantFrom('buy', 'sell'),
      type: fc.constantFrom('limit', 'market'),
      tif: fc.constantFrom('GTC', 'IOC', 'FOK', 'DAY'),
      post_only: fc.boolean(),
      reduce_only: fc.boolean(),
      symbol: fc.constantFrom('BTC-USD', 'ETH-USD', 'AAPL', 'NOPE'),
    })
    let index = 0
    await fc.assert(
      fc.asyncProperty(nearValid, async (fields) => {
        const body = { ...LIMIT_BUY, ...fields, ...(fields.type === 'market' ? { price: undefined } : {}) }
        const res = await t.request('/v1/orders', { method: 'POST', headers: auth(trader, { 'Idempotency-Key': `near-${index++}` }), body: JSON.stringify(body) })
        expect(res.status === 202 || (res.status >= 400 && res.status < 500) || res.status === 503).toBe(true)
        if (res.status === 503) expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^DATA_/)
      }),
      { numRuns: 150 },
    )
  })
})
