/**
 * The drift guard of /openapi.json: the document lists every route the app serves (Hono's `app.routes`), and only
 * those, on a single node and on an HA node (which adds the replication routes); each GET documents exactly the query
 * parameters of the valibot schema its route parses; no route reads a query parameter by hand, around a schema; and
 * the document is OpenAPI 3.1-shaped (path parameters declared, every $ref, tag and security scheme resolves).
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Hono } from 'hono'
import type { GenericSchema } from 'valibot'
import { createApp } from '../../src/http/app.ts'
import { queryParameters } from '../../src/http/openapi/shared.ts'
import type { AuthEnv } from '../../src/http/auth/index.ts'
import { SEALS_QUERY } from '../../src/http/routes/audit.ts'
import { ACCOUNT_QUERY, FILLS_QUERY, LEDGER_QUERY, RECONCILE_QUERY } from '../../src/http/routes/backoffice.ts'
import { LIST_QUERY_SCHEMA } from '../../src/http/routes/orders.ts'
import { HASH_QUERY, REPLICATION_STREAM_QUERY } from '../../src/http/routes/replication.ts'
import { STREAM_QUERY } from '../../src/http/routes/streams.ts'
import { EVENTS_QUERY } from '../../src/http/routes/order-log.ts'
import { haHttp } from '../runtime/ha/support.ts'
import { startTestGateway, type TestGateway } from './fixture.ts'

type Json = Record<string, unknown>

const HA = haHttp({ replicationToken: 'openapi-spec-token', heartbeatMs: 1_000 })

/** The schema each GET route parses its query with; a GET not named here reads no query. */
const QUERY_SCHEMAS: Record<string, GenericSchema> = {
  'GET /v1/orders': LIST_QUERY_SCHEMA,
  'GET /v1/orders/{id}/events': EVENTS_QUERY,
  'GET /v1/positions': ACCOUNT_QUERY,
  'GET /v1/balances': ACCOUNT_QUERY,
  'GET /v1/pnl': ACCOUNT_QUERY,
  'GET /v1/fills': FILLS_QUERY,
  'GET /v1/ledger': LEDGER_QUERY,
  'GET /v1/reconcile': RECONCILE_QUERY,
  'GET /v1/audit/seals': SEALS_QUERY,
  'GET /v1/stream': STREAM_QUERY,
  'GET /v1/accounts/{id}/stream': STREAM_QUERY,
  'GET /v1/orders/{id}/stream': STREAM_QUERY,
  'GET /replication/hash': HASH_QUERY,
  'GET /replication/stream': REPLICATION_STREAM_QUERY,
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

let t: TestGateway
let single: Hono<AuthEnv>
let haNode: Hono<AuthEnv>

beforeAll(async () => {
  t = await startTestGateway()
  single = t.http.app
  haNode = createApp({ ...t.http.services, ha: HA })
})
afterAll(async () => t.stop())

/**
 * `METHOD /path/{param}` of every route the app serves. Middleware is registered with method ALL on a wildcard path;
 * an ALL route on a concrete path would be a real route this walk cannot name a method for, so it fails here.
 */
function servedOperations(app: Hono<AuthEnv>): string[] {
  const operations = new Set<string>()
  for (const route of app.routes) {
    if (route.method === 'ALL') {
      expect({ middleware: route.path, wildcard: route.path.endsWith('*') }).toEqual({ middleware: route.path, wildcard: true })
      continue
    }
    operations.add(`${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`)
  }
  return [...operations].sort()
}

async function documentOf(app: Hono<AuthEnv>): Promise<Json> {
  const response = await app.request('/openapi.json')
  expect(response.status).toBe(200)
  expect(response.headers.get('Content-Type')).toContain('application/json')
  return JSON.parse(await response.text()) as Json
}

function documentedOperations(doc: Json): Map<string, Json> {
  const operations = new Map<string, Json>()
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const method of METHODS) if (item[method] !== undefined) operations.set(`${method.toUpperCase()} ${path}`, item[method] as Json)
  }
  return operations
}

function difference(served: readonly string[], documented: Map<string, Json>): { undocumented: string[]; notServed: string[] } {
  return { undocumented: served.filter((name) => !documented.has(name)), notServed: [...documented.keys()].filter((name) => !served.includes(name)).sort() }
}

describe('/openapi.json lists every route the app serves, and only those', () => {
  test('a single node: every route, none of the replication routes', async () => {
    const served = servedOperations(single)
    // The walk sees routes of every area (app.route mounts them all at '/').
    expect(served).toEqual(expect.arrayContaining(['POST /v1/orders', 'GET /v1/orders/{id}', 'GET /v1/positions', 'POST /v1/audit/anchor', 'GET /health/live', 'POST /v1/admin/halt']))
    expect(difference(served, documentedOperations(await documentOf(single)))).toEqual({ undocumented: [], notServed: [] })
    expect(served.some((name) => name.includes('/replication/'))).toBe(false)
  })

  test('an HA node: every route, the replication routes (tag replication, the replication token) included', async () => {
    const served = servedOperations(haNode)
    const doc = await documentOf(haNode)
    const documented = documentedOperations(doc)
    expect(difference(served, documented)).toEqual({ undocumented: [], notServed: [] })
    const replication = [...documented].filter(([name]) => name.includes(' /replication/'))
    expect(replication.map(([name]) => name).sort()).toEqual(['GET /replication/hash', 'GET /replication/snapshot', 'GET /replication/stream', 'POST /replication/ack'])
    for (const [, operation] of replication) expect({ tags: operation.tags, security: operation.security }).toEqual({ tags: ['replication'], security: [{ replicationToken: [] }] })
  })
})

describe('query parameters are the route’s own valibot schema', () => {
  test('each GET documents exactly the keys of the schema its route parses (none when it parses none)', async () => {
    const documented = documentedOperations(await documentOf(haNode))
    for (const name of Object.keys(QUERY_SCHEMAS)) expect({ name, documented: documented.has(name) }).toEqual({ name, documented: true })
    for (const [name, operation] of documented) {
      if (!name.startsWith('GET ')) continue
      const parameters = (operation.parameters ?? []) as { name: string; in: string }[]
      const query = parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name).sort()
      const schema = QUERY_SCHEMAS[name] as { entries?: Record<string, unknown> } | undefined
      expect({ name, query }).toEqual({ name, query: Object.keys(schema?.entries ?? {}).sort() })
    }
  })

  test('a required query parameter is documented as required', async () => {
    const documented = documentedOperations(await documentOf(haNode))
    const required = (name: string) => ((documented.get(name)?.parameters ?? []) as { name: string; in: string; required: boolean }[]).filter((parameter) => parameter.in === 'query' && parameter.required).map((parameter) => parameter.name)
    expect(required('GET /replication/stream')).toEqual(['from_lsn', 'head'])
    expect(required('GET /replication/hash')).toEqual(['lsn'])
    expect(required('GET /v1/fills')).toEqual([])
    const headers = (name: string) => ((documented.get(name)?.parameters ?? []) as { name: string; in: string; required: boolean }[]).filter((parameter) => parameter.in === 'header' && parameter.required).map((parameter) => parameter.name)
    expect(headers('GET /replication/stream')).toEqual(['x-egress-log-reads'])
    expect(headers('GET /replication/snapshot')).toEqual(['x-egress-log-reads'])
  })

  test('a description of a query parameter the schema does not have stops the document being built', () => {
    expect(() => queryParameters(FILLS_QUERY, { order_id: 'fine', orderId: 'no such key' })).toThrow(/query parameter orderId is described/)
    expect(queryParameters(FILLS_QUERY, { order_id: 'fine' }).find((parameter) => parameter.name === 'order_id')?.description).toBe('fine')
  })

  test('every schema a route parses its query with is one the document is checked against (QUERY_SCHEMAS)', async () => {
    const dir = join(import.meta.dir, '../../src/http/routes')
    const checked = new Set(Object.values(QUERY_SCHEMAS))
    const unchecked: string[] = []
    let parsed = 0
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8')
      const route = (await import(join(dir, file))) as Record<string, unknown>
      for (const [, name] of text.matchAll(/(?:queryOf\(c, (\w+)\)|parseReplicationQuery\((\w+), c\))/g).map((match) => [match[0], match[1] ?? match[2]])) {
        // The query of a route that takes none (src/http/query.ts): no parameters to document.
        if (name === 'NO_QUERY') continue
        parsed++
        // A schema the route keeps to itself (not exported) cannot be in the document: that is a finding too.
        if (!checked.has(route[name as string] as GenericSchema)) unchecked.push(`${file}: ${name}`)
      }
    }
    expect(parsed).toBeGreaterThanOrEqual(8)
    expect(unchecked).toEqual([])
  })

  test('no route reads a query parameter by hand: each reads its query whole with a schema (queryOf)', () => {
    const dir = join(import.meta.dir, '../../src/http/routes')
    const byHand: string[] = []
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
      const lines = readFileSync(join(dir, file), 'utf8').split('\n')
      lines.forEach((line, index) => {
        if (/c\.req\.quer(y|ies)\(\s*[^)\s]/.test(line)) byHand.push(`${file}:${index + 1}: ${line.trim()}`)
      })
    }
    expect(byHand).toEqual([])
  })
})

describe('the document is OpenAPI 3.1-shaped', () => {
  test('info, tags, path parameters, responses, $refs and security schemes all hold together', async () => {
    const doc = await documentOf(haNode)
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info).toMatchObject({ title: 'egress', version: expect.any(String) })
    const components = doc.components as { schemas: Json; securitySchemes: Json }
    const tags = (doc.tags as { name: string }[]).map((tag) => tag.name)
    const problems: string[] = []
    for (const [name, operation] of documentedOperations(doc)) {
      const path = name.slice(name.indexOf(' ') + 1)
      const parameters = (operation.parameters ?? []) as { name: string; in: string; required?: boolean; schema?: unknown }[]
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort()
      const declared = parameters.filter((parameter) => parameter.in === 'path')
      if (JSON.stringify(declared.map((parameter) => parameter.name).sort()) !== JSON.stringify(templated)) problems.push(`${name}: path parameters ${JSON.stringify(declared.map((p) => p.name))}`)
      if (declared.some((parameter) => parameter.required !== true)) problems.push(`${name}: a path parameter not required`)
      const keys = parameters.map((parameter) => `${parameter.in}:${parameter.name}`)
      if (new Set(keys).size !== keys.length) problems.push(`${name}: a parameter twice`)
      if (parameters.some((parameter) => !['path', 'query', 'header', 'cookie'].includes(parameter.in) || parameter.schema === undefined)) problems.push(`${name}: a parameter without in/schema`)
      if (typeof operation.summary !== 'string' || operation.summary.length === 0) problems.push(`${name}: no summary`)
      const operationTags = (operation.tags ?? []) as string[]
      if (operationTags.length !== 1 || !tags.includes(operationTags[0] as string)) problems.push(`${name}: tags ${JSON.stringify(operationTags)}`)
      const responses = Object.entries((operation.responses ?? {}) as Record<string, Json>)
      if (!responses.some(([status]) => status.startsWith('2'))) problems.push(`${name}: no success response`)
      for (const [status, response] of responses) {
        if (!/^[1-5]\d\d$/.test(status) || typeof response.description !== 'string') problems.push(`${name}: response ${status}`)
      }
      for (const requirement of (operation.security ?? []) as Json[]) {
        for (const scheme of Object.keys(requirement)) if (!(scheme in components.securitySchemes)) problems.push(`${name}: security ${scheme}`)
      }
    }
    for (const target of refsIn(doc)) {
      const name = target.replace('#/components/schemas/', '')
      if (!target.startsWith('#/components/schemas/') || !(name in components.schemas)) problems.push(`unresolved $ref ${target}`)
    }
    expect(problems).toEqual([])
  })
})

describe('every operation documents its 400', () => {
  test('every route refuses a query parameter it does not take, or one given twice (specs/http/query.test.ts)', async () => {
    const without = [...documentedOperations(await documentOf(haNode))].filter(([, operation]) => (operation.responses as Json)['400'] === undefined).map(([name]) => name)
    expect(without).toEqual([])
  })
})

describe('every success answer is described', () => {
  test('each 2xx (but a 204) names its media type with a schema, so openapi-shapes.test.ts can hold the JSON ones to it', async () => {
    const undescribed: string[] = []
    for (const [name, operation] of documentedOperations(await documentOf(haNode))) {
      for (const [status, response] of Object.entries((operation.responses ?? {}) as Record<string, Json>)) {
        if (!status.startsWith('2') || status === '204') continue
        const content = Object.entries((response.content ?? {}) as Record<string, Json>)
        if (content.length === 0 || content.some(([, media]) => media.schema === undefined)) undescribed.push(`${name} ${status}`)
      }
    }
    expect(undescribed).toEqual([])
  })
})

function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn)
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, inner]) => (key === '$ref' && typeof inner === 'string' ? [inner] : refsIn(inner)))
}
