/**
 * Every route under /v1 against every role, as the README's table says (README "Authentication"): who may use it, and
 * for per-account routes, for which accounts. A caller refused is 403, or 404 for an order it may not read; a caller
 * admitted gets whatever the route answers past its checks (2xx, or the route's own 4xx such as a 409).
 */

import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Role } from '../../../src/http/auth/index.ts'
import { auth, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from '../fixture.ts'

type Caller = 'trader' | 'bot' | 'stranger' | 'ops' | 'auditor' | 'admin'
const CALLERS: Record<Caller, { roles: Role[]; accounts: string[] }> = {
  trader: { roles: ['trader'], accounts: ['demo-1'] },
  bot: { roles: ['bot'], accounts: ['demo-1'] },
  stranger: { roles: ['trader', 'bot'], accounts: ['demo-2'] },
  ops: { roles: ['ops'], accounts: ['demo-1'] },
  auditor: { roles: ['auditor'], accounts: ['demo-1'] },
  admin: { roles: ['admin'], accounts: ['demo-1'] },
}

let t: TestGateway
const tokens = {} as Record<Caller, string>
let orderId = ''
let listId = ''

beforeAll(async () => {
  t = await startTestGateway()
  for (const [caller, claims] of Object.entries(CALLERS)) tokens[caller as Caller] = await t.token({ sub: caller, ...claims })
  const placed = await t.request('/v1/orders', post(tokens.trader, LIMIT_BUY, { 'Idempotency-Key': 'matrix-order' }))
  expect(placed.status).toBe(202)
  orderId = (await json(placed)).order_id as string
  const listed = await t.request('/v1/order-lists', post(tokens.trader, ocoList('matrix-list')))
  expect(listed.status).toBe(202)
  listId = (await json(listed)).list_id as string
})

/** An OCO list of two resting buys on demo-1 (src/http/routes/order-lists.ts). */
function ocoList(key: string): Record<string, unknown> {
  return { type: 'oco', account: 'demo-1', client_list_id: key, orders: [{ ...LIMIT_BUY, price: '59000' }, { ...LIMIT_BUY, price: '58000' }] }
}
afterAll(async () => t.stop())

interface Row {
  route: string
  request: (token: string) => Promise<Response>
  allowed: readonly Caller[]
}

const get = (path: () => string) => (token: string) => t.request(path(), { headers: auth(token) })
const send = (path: () => string, body: unknown = {}, headers: Record<string, string> = {}) => (token: string) => t.request(path(), post(token, body, headers))
const order = (suffix = '') => () => `/v1/orders/${orderId}${suffix}`

const OWN = ['trader', 'bot'] as const
const OWN_AND_OPERATORS = ['trader', 'bot', 'ops', 'admin'] as const
const READERS = ['trader', 'bot', 'ops', 'auditor', 'admin'] as const
const EVERYONE = ['trader', 'bot', 'stranger', 'ops', 'auditor', 'admin'] as const

let keys = 0
const OVERRIDE = '/v1/admin/venues/sim/override'

/** A pending override of the sim venue proposed by an admin none of the callers is; its id. */
async function proposed(): Promise<string> {
  const proposer = await t.token({ sub: 'matrix-proposer', roles: ['admin'], accounts: [] })
  const response = await t.request(OVERRIDE, post(proposer, { reason: 'matrix', duration_ms: 60_000 }))
  expect(response.status).toBe(200)
  return ((await json(response)).override as { override_id: string }).override_id
}

const ROWS: Row[] = [
  { route: 'POST /v1/orders', request: (token) => send(() => '/v1/orders', LIMIT_BUY, { 'Idempotency-Key': `matrix-${++keys}` })(token), allowed: OWN },
  { route: 'POST /v1/order-lists', request: (token) => send(() => '/v1/order-lists', ocoList(`matrix-list-${++keys}`))(token), allowed: OWN },
  { route: 'GET /v1/order-lists/:id', request: get(() => `/v1/order-lists/${listId}`), allowed: READERS },
  { route: 'GET /v1/orders?account=demo-1', request: get(() => '/v1/orders?account=demo-1'), allowed: READERS },
  { route: 'GET /v1/orders', request: get(() => '/v1/orders'), allowed: EVERYONE },
  { route: 'GET /v1/orders/:id', request: get(order()), allowed: READERS },
  { route: 'GET /v1/orders/:id/events', request: get(order('/events')), allowed: READERS },
  { route: 'GET /v1/orders/:id/explain', request: get(order('/explain')), allowed: READERS },
  { route: 'GET /v1/orders/:id/stream', request: get(order('/stream')), allowed: READERS },
  { route: 'GET /v1/accounts/demo-1/stream', request: get(() => '/v1/accounts/demo-1/stream'), allowed: READERS },
  { route: 'GET /v1/stream', request: get(() => '/v1/stream'), allowed: ['ops', 'auditor', 'admin'] },
  { route: 'POST /v1/orders/:id/amend', request: send(order('/amend'), { qty: '0.02' }), allowed: OWN },
  { route: 'POST /v1/accounts/demo-1/flatten', request: send(() => '/v1/accounts/demo-1/flatten'), allowed: OWN_AND_OPERATORS },
  ...['positions', 'balances', 'pnl', 'fills', 'ledger'].map((name) => ({ route: `GET /v1/${name}?account=demo-1`, request: get(() => `/v1/${name}?account=demo-1`), allowed: READERS })),
  ...['positions', 'balances', 'pnl', 'fills', 'ledger', 'stats', 'reconcile'].map((name) => ({ route: `GET /v1/${name}`, request: get(() => `/v1/${name}`), allowed: EVERYONE })),
  { route: 'POST /v1/admin/halt', request: send(() => '/v1/admin/halt'), allowed: ['ops', 'admin'] },
  { route: 'POST /v1/admin/cancel-only', request: send(() => '/v1/admin/cancel-only'), allowed: ['ops', 'admin'] },
  { route: 'POST /v1/admin/resume', request: send(() => '/v1/admin/resume'), allowed: ['ops', 'admin'] },
  // Before the account's resume, which lifts what these engage.
  { route: 'POST /v1/accounts/demo-1/halt', request: send(() => '/v1/accounts/demo-1/halt'), allowed: ['ops', 'admin'] },
  { route: 'POST /v1/accounts/demo-1/cancel-only', request: send(() => '/v1/accounts/demo-1/cancel-only'), allowed: ['ops', 'admin'] },
  { route: 'POST /v1/accounts/demo-1/resume', request: send(() => '/v1/accounts/demo-1/resume'), allowed: ['ops', 'admin'] },
  { route: 'POST /v1/admin/snapshot', request: send(() => '/v1/admin/snapshot'), allowed: ['ops', 'admin'] },
  { route: 'POST /v1/admin/mode', request: send(() => '/v1/admin/mode', { mode: 'paper' }), allowed: ['admin'] },
  { route: 'GET /v1/audit/verify', request: get(() => '/v1/audit/verify'), allowed: ['auditor', 'admin'] },
  { route: 'GET /v1/audit/seals', request: get(() => '/v1/audit/seals'), allowed: ['auditor', 'admin'] },
  { route: 'POST /v1/audit/anchor', request: send(() => '/v1/audit/anchor'), allowed: ['auditor', 'admin'] },
  { route: 'POST /v1/admin/revocations', request: send(() => '/v1/admin/revocations', { jti: 'matrix-jti' }), allowed: ['admin'] },
  { route: 'GET /v1/admin/revocations', request: get(() => '/v1/admin/revocations'), allowed: ['ops', 'auditor', 'admin'] },
  { route: 'GET /v1/venue_health', request: get(() => '/v1/venue_health'), allowed: ['ops', 'auditor', 'admin'] },
  { route: 'GET /v1/auto_stop', request: get(() => '/v1/auto_stop'), allowed: ['ops', 'auditor', 'admin'] },
  { route: 'POST /v1/admin/venues/:venue/override', request: send(() => OVERRIDE, { reason: 'matrix', duration_ms: 60_000 }), allowed: ['admin'] },
  // Each caller is given an override of another admin's to approve, and one to revoke (else 409 and 404 for the admitted).
  { route: 'POST /v1/admin/venues/:venue/override/approve', request: async (token) => send(() => `${OVERRIDE}/approve`, { override_id: await proposed() })(token), allowed: ['admin'] },
  { route: 'POST /v1/admin/venues/:venue/override/revoke', request: async (token) => (await proposed(), send(() => `${OVERRIDE}/revoke`)(token)), allowed: ['ops', 'admin'] },
  // Last: it ends the order the rows above act on.
  { route: 'POST /v1/orders/:id/cancel', request: send(order('/cancel')), allowed: OWN_AND_OPERATORS },
]

test('every /v1 route admits exactly the roles and accounts the README table gives it', async () => {
  const seen: string[] = []
  const expected: string[] = []
  for (const row of ROWS) {
    for (const caller of Object.keys(CALLERS) as Caller[]) {
      const response = await row.request(tokens[caller])
      await response.body?.cancel().catch(() => undefined)
      expect(response.status).not.toBe(401)
      const refused = response.status === 403 || response.status === 404
      seen.push(`${row.route} ${caller} ${refused ? 'refused' : 'admitted'} (${response.status})`.replace(/ \(\d+\)$/, ''))
      expected.push(`${row.route} ${caller} ${(row.allowed as readonly string[]).includes(caller) ? 'admitted' : 'refused'}`)
    }
  }
  expect(seen).toEqual(expected)
})

test('the table has a row for every /v1 route /openapi.json lists', async () => {
  const document = await json(await t.request('/openapi.json'))
  const listed = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, operations]) =>
    path.startsWith('/v1/') ? Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`) : [],
  )
  const rows = new Set(ROWS.map((row) => row.route.replace(/\?.*$/, '').replace('/accounts/demo-1/', '/accounts/:id/')))
  expect(listed.filter((route) => !rows.has(route))).toEqual([])
})
