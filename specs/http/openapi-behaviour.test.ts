/**
 * /openapi.json tells what each route does, checked by sending requests to every operation it lists (the route list
 * itself is openapi-routes.test.ts, the success shapes openapi-shapes.test.ts): without a token, every operation the
 * document says needs one is 401 and no other is; while the gateway drains, with the log queue full and while it is
 * not ready, each answers a status the document lists for it; a body the document refuses (an unknown member) is
 * refused and the body it says may be left out may be; every `limit` names its bounds, and they are the route's; the
 * streams are text/event-stream; an example in the document, wherever there is one, holds to its own schema.
 *
 * Before: a draining gateway answered 503 on GET /v1/order-lists/{id}, /v1/venue_health, /v1/auto_stop and
 * /v1/admin/revocations, which listed no 503; a full log queue answered 429 RATE_LIMITED on the venue override's
 * propose, approve and revoke and on POST /v1/admin/revocations, which listed no 429; GET /v1/orders' `limit` said
 * nothing of its bounds (1–1000: 0 and 1001 are 400).
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Hono } from 'hono'
import { createApp } from '../../src/http/app.ts'
import type { AuthEnv } from '../../src/http/auth/index.ts'
import { auth, eventually, json, LIMIT_BUY, post, startTestGateway, type TestGateway } from './fixture.ts'
import { documentedAnswers } from './openapi-departures.ts'

type Json = Record<string, unknown>
interface Operation {
  name: string
  method: string
  path: string
  operation: Json
}

let gw: TestGateway
let doc: Json
let operations: Operation[]
let admin: string
let admin2: string
let ops: string
let trader: string
/** An order resting at the sim venue (amend, cancel). */
let restingId: string

beforeAll(async () => {
  gw = await startTestGateway()
  doc = await json(await gw.request('/openapi.json'))
  operations = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, operation: operation as Json })),
  )
  admin = await gw.token({ sub: 'adam', roles: ['admin'], accounts: [] })
  admin2 = await gw.token({ sub: 'ada', roles: ['admin'], accounts: [] })
  ops = await gw.token({ sub: 'olga', roles: ['ops'], accounts: [] })
  trader = await gw.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
  const placed = await gw.request('/v1/orders', post(trader, { ...LIMIT_BUY, price: '59500' }, { 'Idempotency-Key': 'behaviour-resting' }))
  expect(placed.status).toBe(202)
  restingId = (await json(placed)).order_id as string
  await eventually(() => gw.gateway.engine.state.orders.get(restingId)?.status === 'AckedOpen')
})
afterAll(async () => gw.stop())

const statusesOf = (operation: Json): string[] => Object.keys(operation.responses as Json)

/** A concrete URL for a documented path: its path parameters filled in. */
const urlOf = (path: string): string => path.replace('{id}', 'demo-1').replace('{venue}', 'sim')

/** Sends `init` to `url` on `app` and returns the status, the body read (or a stream's cancelled). */
async function statusOf(app: Hono<AuthEnv>, url: string, init: RequestInit): Promise<number> {
  const response = await app.request(url, init)
  await response.body?.cancel()
  return response.status
}

/** Each (operation, status) the document does not list, for the requests `requestFor` makes. */
async function undocumented(app: Hono<AuthEnv>, requestFor: (op: Operation) => { url: string; init: RequestInit } | null): Promise<string[]> {
  const found: string[] = []
  for (const op of operations) {
    const request = requestFor(op)
    if (request === null) continue
    const status = await statusOf(app, request.url, { ...request.init, method: op.method })
    if (!statusesOf(op.operation).includes(String(status))) found.push(`${op.name}: ${status}`)
  }
  return found
}

describe('who needs a token', () => {
  test('without one, every operation whose security names bearer is 401 (documented), and no other operation is', async () => {
    const answers: string[] = []
    const expected: string[] = []
    for (const op of operations) {
      const bearer = JSON.stringify(op.operation.security) === JSON.stringify([{ bearer: [] }])
      const status = await statusOf(gw.http.app, urlOf(op.path), { method: op.method })
      answers.push(`${op.name}: ${status === 401 ? 'token' : 'no token'}${statusesOf(op.operation).includes(String(status)) ? '' : ` (${status} not documented)`}`)
      expected.push(`${op.name}: ${bearer ? 'token' : 'no token'}`)
    }
    expect(answers).toEqual(expected)
  })
})

describe('the refusals of a gateway under strain are documented', () => {
  test('draining: every operation answers a documented status (503 but for /health)', async () => {
    const draining = createApp({ ...gw.http.services, draining: () => true })
    expect(await statusOf(draining, '/v1/auto_stop', { headers: auth(admin) })).toBe(503)
    expect(await undocumented(draining, (op) => ({ url: urlOf(op.path), init: { headers: auth(admin, { 'Content-Type': 'application/json' }), ...(op.method === 'POST' ? { body: '{}' } : {}) } }))).toEqual([])
  })

  test('the log queue full, or the gateway not ready: every write answers a documented status', async () => {
    // A valid request for each write, so it gets as far as the log; the override is proposed first, to approve and revoke.
    let n = 0
    const leg = { ...LIMIT_BUY, qty: '0.001' }
    const writes: Record<string, () => { url: string; init: RequestInit }> = {
      'POST /v1/orders': () => ({ url: '/v1/orders', init: post(trader, LIMIT_BUY, { 'Idempotency-Key': `behaviour-${++n}` }) }),
      'POST /v1/orders/{id}/cancel': () => ({ url: `/v1/orders/${restingId}/cancel`, init: post(trader, {}) }),
      'POST /v1/orders/{id}/amend': () => ({ url: `/v1/orders/${restingId}/amend`, init: post(trader, { price: String(59_400 - ++n) }) }),
      'POST /v1/order-lists': () => ({ url: '/v1/order-lists', init: post(trader, { type: 'oco', account: 'demo-1', client_list_id: `behaviour-${++n}`, orders: [leg, { ...leg, price: '58900' }] }) }),
      'POST /v1/admin/mode': () => ({ url: '/v1/admin/mode', init: post(admin, { mode: 'shadow' }) }),
      'POST /v1/admin/halt': () => ({ url: '/v1/admin/halt', init: post(ops, {}) }),
      'POST /v1/admin/cancel-only': () => ({ url: '/v1/admin/cancel-only', init: post(ops, {}) }),
      'POST /v1/admin/resume': () => ({ url: '/v1/admin/resume', init: post(ops, {}) }),
      'POST /v1/admin/snapshot': () => ({ url: '/v1/admin/snapshot', init: post(ops, {}) }),
      'POST /v1/accounts/{id}/flatten': () => ({ url: '/v1/accounts/demo-2/flatten', init: post(ops, {}, { 'Idempotency-Key': `behaviour-${++n}` }) }),
      'POST /v1/accounts/{id}/resume': () => ({ url: '/v1/accounts/demo-2/resume', init: post(ops, {}) }),
      'POST /v1/accounts/{id}/halt': () => ({ url: '/v1/accounts/demo-2/halt', init: post(ops, {}) }),
      'POST /v1/accounts/{id}/cancel-only': () => ({ url: '/v1/accounts/demo-2/cancel-only', init: post(ops, {}) }),
      'POST /v1/admin/venues/{venue}/override': () => ({ url: '/v1/admin/venues/sim/override', init: post(admin, { reason: 'drill', duration_ms: 60_000 }) }),
      'POST /v1/admin/venues/{venue}/override/approve': () => ({ url: '/v1/admin/venues/sim/override/approve', init: post(admin2, { override_id: 'sim#1' }) }),
      'POST /v1/admin/venues/{venue}/override/revoke': () => ({ url: '/v1/admin/venues/sim/override/revoke', init: post(ops, {}) }),
      'POST /v1/admin/revocations': () => ({ url: '/v1/admin/revocations', init: post(admin, { jti: `behaviour-${++n}` }) }),
      'POST /v1/audit/anchor': () => ({ url: '/v1/audit/anchor', init: post(admin, {}) }),
    }
    expect(operations.filter((op) => op.method === 'POST').map((op) => op.name).sort()).toEqual(Object.keys(writes).sort())
    const proposed = await gw.request('/v1/admin/venues/sim/override', post(admin, { reason: 'drill', duration_ms: 60_000 }))
    expect((await json(proposed)).override).toMatchObject({ override_id: 'sim#1', status: 'pending_approval' })
    const requestFor = (op: Operation) => writes[op.name]?.() ?? null
    const wal = gw.gateway.engine.wal
    const hasRoomFor = wal.hasRoomFor.bind(wal)
    wal.hasRoomFor = () => false
    try {
      expect(await undocumented(gw.http.app, requestFor)).toEqual([])
      // The writes did reach the log (a refusal before it would leave the 429 unexercised).
      const full = writes['POST /v1/admin/revocations']?.() as { url: string; init: RequestInit }
      expect(await statusOf(gw.http.app, full.url, full.init)).toBe(429)
    } finally {
      wal.hasRoomFor = hasRoomFor
    }
    Object.defineProperty(gw.gateway, 'ready', { get: () => false, configurable: true })
    try {
      expect(await undocumented(gw.http.app, requestFor)).toEqual([])
      const write = writes['POST /v1/admin/venues/{venue}/override/revoke']?.() as { url: string; init: RequestInit }
      expect(await statusOf(gw.http.app, write.url, write.init)).toBe(503)
    } finally {
      delete (gw.gateway as { ready?: boolean }).ready
    }
    expect(gw.gateway.ready).toBe(true)
  })
})

describe('request bodies are what the document says', () => {
  test('an unknown member is refused wherever the document says additionalProperties false; a body it says may be left out may be', async () => {
    const { departures } = documentedAnswers(doc)
    const found: string[] = []
    for (const op of operations) {
      const body = op.operation.requestBody as { required: boolean; content: { 'application/json': { schema: Json } } } | undefined
      if (body === undefined || !op.path.startsWith('/v1/')) continue
      const schema = body.content['application/json'].schema
      const resolved = typeof schema.$ref === 'string' ? (doc.components as { schemas: Record<string, Json> }).schemas[schema.$ref.replace('#/components/schemas/', '')] : schema
      expect({ name: op.name, closed: resolved?.additionalProperties }).toEqual({ name: op.name, closed: false })
      // The document itself refuses it ...
      expect(departures(schema, { behaviour_unknown: 1 }, 'body').some((line) => line.includes('behaviour_unknown'))).toBe(true)
      // ... and so does the route (the body is read before the caller's role is: an admin token reaches it everywhere).
      const key = op.name.replace(/[^A-Za-z0-9]+/g, '-')
      const refused = await gw.request(urlOf(op.path), { ...post(admin, { behaviour_unknown: 1 }, { 'Idempotency-Key': `unknown${key}` }), method: op.method })
      const code = ((await json(refused)).error as { code?: string } | undefined)?.code
      if (refused.status !== 400 || code !== 'VALIDATION_FAILED') found.push(`${op.name}: an unknown member answered ${refused.status} ${code}`)
      if (!body.required) {
        const bare = await statusOf(gw.http.app, urlOf(op.path), { method: op.method, headers: auth(admin, { 'Idempotency-Key': `bare${key}` }) })
        if (bare === 400 || bare === 415) found.push(`${op.name}: no body answered ${bare}, documented as not required`)
      }
    }
    expect(found).toEqual([])
  })
})

describe('query parameters name their bounds', () => {
  test('every `limit` says its range in words, and the route takes its ends and refuses past them', async () => {
    const found: string[] = []
    let checked = 0
    for (const op of operations.filter((candidate) => candidate.method === 'GET')) {
      const limit = ((op.operation.parameters ?? []) as { name: string; in: string; description?: string }[]).find((parameter) => parameter.in === 'query' && parameter.name === 'limit')
      if (limit === undefined) continue
      const range = /\b1–(\d+)\b/.exec(limit.description ?? '')
      if (range === null) {
        found.push(`${op.name}: limit documented without its range (${JSON.stringify(limit.description)})`)
        continue
      }
      checked++
      const max = Number(range[1])
      const url = op.path.replace('{id}', restingId)
      const statusAt = async (value: number) => statusOf(gw.http.app, `${url}?limit=${value}`, { headers: auth(admin) })
      const answers = { one: await statusAt(1), max: await statusAt(max), zero: await statusAt(0), past: await statusAt(max + 1) }
      if (answers.one !== 200 || answers.max !== 200 || answers.zero !== 400 || answers.past !== 400) found.push(`${op.name}: limit 1–${max} documented, answers ${JSON.stringify(answers)}`)
    }
    expect(found).toEqual([])
    expect(checked).toBeGreaterThanOrEqual(6)
  })
})

describe('the streams', () => {
  test('the SSE routes document text/event-stream, and answer it', async () => {
    const streams = operations.filter((op) => op.path.endsWith('/stream') && op.path.startsWith('/v1/'))
    expect(streams.map((op) => op.name).sort()).toEqual(['GET /v1/accounts/{id}/stream', 'GET /v1/orders/{id}/stream', 'GET /v1/stream'])
    for (const op of streams) {
      expect({ name: op.name, media: Object.keys(((op.operation.responses as Record<string, Json>)['200']?.content ?? {}) as Json) }).toEqual({ name: op.name, media: ['text/event-stream'] })
      const response = await gw.request(op.path.replace('{id}', op.path.startsWith('/v1/orders') ? restingId : 'demo-1'), { headers: auth(admin) })
      await response.body?.cancel()
      expect({ name: op.name, status: response.status, type: response.headers.get('Content-Type')?.split(';')[0] }).toEqual({ name: op.name, status: 200, type: 'text/event-stream' })
    }
  })
})

describe('examples', () => {
  test('any example in the document holds to the schema it sits in', () => {
    const { departures } = documentedAnswers(doc)
    const found: string[] = []
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((item, index) => walk(item, `${at}[${index}]`))
      if (node === null || typeof node !== 'object') return
      const object = node as Json
      const schema = (object.schema ?? object) as Json
      const { example, examples, ...rest } = object
      if (example !== undefined) found.push(...departures(object.schema === undefined ? rest : schema, example, `${at}.example`))
      if (examples !== undefined && typeof examples === 'object') {
        for (const [name, value] of Object.entries(examples as Json)) found.push(...departures(object.schema === undefined ? rest : schema, (value as { value?: unknown }).value ?? value, `${at}.examples.${name}`))
      }
      for (const [key, inner] of Object.entries(object)) if (key !== 'example' && key !== 'examples') walk(inner, `${at}.${key}`)
    }
    walk(doc, 'doc')
    expect(found).toEqual([])
  })
})
