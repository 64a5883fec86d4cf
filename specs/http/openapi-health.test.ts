/**
 * `/health` answers are what /openapi.json documents (the Health and HaStatus components, generated from
 * src/http/openapi/health-schema.ts and ha-status-schema.ts): every key documented, every documented key there, each
 * value of its documented type, enum and bound. Real answers: a single node ready and draining; an HA node still
 * starting; an HA pair (wired as `egress serve --role` wires it) with orders filled — the leader (200, synchronous
 * replication in sync), the standby (503: intake never opens on a standby; shadow decisions), and the standby once it
 * took over. `/v1/stats` on both nodes of the pair is held to its documented schema too.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { backOfficeOf } from '../../src/backoffice/index.ts'
import { answerWhileStarting } from '../../src/cli/serve-ha.ts'
import { openApiDocument } from '../../src/http/index.ts'
import { auth, eventually, json, post, startTestGateway } from './fixture.ts'
import { startHaPair, type HaPair, type PairNode } from './ha-pair.ts'
import { documentedAnswers } from './openapi-departures.ts'

type Json = Record<string, unknown>

const DOCUMENT = openApiDocument({ version: 'spec', replication: true })
const { answerSchema, departures } = documentedAnswers(DOCUMENT)

/** GET `path` on `request`: the answer, held to the documented schema of its status. */
async function documented(request: (path: string, init?: RequestInit) => Promise<Response>, path: string, status: number, init: RequestInit = {}): Promise<Json> {
  const response = await request(path, init)
  const body = await json(response)
  expect({ path, status: response.status }).toEqual({ path, status })
  expect({ path, departures: departures(answerSchema('GET', path, String(status)), body, 'answer') }).toEqual({ path, departures: [] })
  return body
}

/** Paths (within `schema`) of objects that do not say what keys they have: neither properties nor a map's value schema. */
function freeFormObjects(schema: unknown, at: string): string[] {
  if (Array.isArray(schema)) return schema.flatMap((item, index) => freeFormObjects(item, `${at}[${index}]`))
  if (typeof schema !== 'object' || schema === null) return []
  const node = schema as Json
  const types = Array.isArray(node.type) ? node.type : [node.type]
  const own = types.includes('object') && node.properties === undefined && typeof node.additionalProperties !== 'object' ? [at] : []
  const inner = Object.entries(node).flatMap(([key, value]) => (key === 'enum' || key === 'const' ? [] : freeFormObjects(value, `${at}.${key}`)))
  return [...own, ...inner]
}

test('Health, HaStatus and BackOfficeStats name every field: no object in them is left free-form', () => {
  const schemas = (DOCUMENT.components as { schemas: Record<string, Json> }).schemas
  for (const name of ['Health', 'HaStatus', 'BackOfficeStats']) {
    expect({ name, defined: schemas[name] !== undefined, freeForm: freeFormObjects(schemas[name], name) }).toEqual({ name, defined: true, freeForm: [] })
  }
  const reconcile = answerSchema('GET', '/v1/reconcile', '200')
  expect(freeFormObjects(reconcile, 'reconcile')).toEqual([])
})

describe('/health on a single node is the documented shape', () => {
  test('ready (200), the replay and self-check threads running: every field documented, none missing', async () => {
    const gw = await startTestGateway()
    try {
      // A reconcile starts the back office's replay thread, so both threads report their priority.
      await backOfficeOf(gw.gateway).reconcile()
      const health = await documented(gw.request, '/health', 200)
      expect(health.ready).toBe(true)
      expect('ha' in health).toBe(false)
      const threads = health.threads as { replay: { running: boolean } | null; self_check: { running: boolean } | null }
      expect({ replay: threads.replay?.running, selfCheck: threads.self_check?.running, audit: health.audit !== null }).toEqual({ replay: true, selfCheck: true, audit: true })
    } finally {
      await gw.stop()
    }
  })

  test('draining (503): the same documented body, saying draining', async () => {
    const gw = await startTestGateway()
    try {
      gw.http.drain()
      const health = await documented(gw.request, '/health', 503)
      expect({ ready: health.ready, draining: health.draining }).toEqual({ ready: false, draining: true })
    } finally {
      await gw.stop()
    }
  })

  test('an HA node whose first gateway is not up yet answers the documented 503 (UNAVAILABLE)', async () => {
    const response = answerWhileStarting(new Request('http://127.0.0.1/health'))
    expect(response.status).toBe(503)
    const body = await json(response)
    expect(departures(answerSchema('GET', '/health', '503'), body, 'answer')).toEqual([])
    expect((body.error as { code: string }).code).toBe('UNAVAILABLE')
  })
})

describe('/health and /v1/stats on an HA pair are the documented shapes', () => {
  let pair: HaPair
  let leader: PairNode
  let standby: PairNode

  beforeAll(async () => {
    pair = await startHaPair({ sync: 'degrade_async' })
    leader = pair.first
    standby = pair.second
    await eventually(() => leader.node.role === 'leader' && standby.node.role === 'standby' && leader.node.sync?.state === 'sync', 15_000)
    const trader = await pair.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
    // Two orders that fill at once and one that rests.
    for (const [key, body] of [
      ['ha-shape-1', { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000' }],
      ['ha-shape-2', { account: 'demo-1', symbol: 'ETH-USD', side: 'sell', type: 'limit', qty: '2', price: '2900' }],
      ['ha-shape-3', { account: 'demo-1', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '1', price: '2890' }],
    ] as const) {
      expect((await leader.request('/v1/orders', post(trader, body, { 'Idempotency-Key': key }))).status).toBe(202)
    }
    const leaderGateway = leader.node.gateway
    if (leaderGateway === null) throw new Error('the leader has no gateway')
    await eventually(() => backOfficeOf(leaderGateway).projector.ledger.counters.fills >= 2, 10_000)
    // The standby holds the whole log, its back office folded it, and it decided every command again.
    await eventually(() => {
      const gateway = standby.node.gateway
      return gateway !== null && gateway.engine.wal.lastLsn === leaderGateway.engine.wal.lastLsn && backOfficeOf(gateway).projector.ledger.counters.fills >= 2
    }, 10_000)
  }, 60_000)
  afterAll(async () => pair.stop())

  test('the leader (200): ha in full, synchronous replication in sync, no shadow', async () => {
    const health = await documented(leader.request, '/health', 200)
    const ha = health.ha as { role: string; sync: { state: string; standby_durable_lsn: number }; shadow: unknown; leader: string | null }
    expect({ role: health.role, haRole: ha.role, syncState: ha.sync.state, shadow: ha.shadow }).toEqual({ role: 'leader', haRole: 'leader', syncState: 'sync', shadow: null })
    expect(ha.sync.standby_durable_lsn).toBeGreaterThan(0)
  }, 30_000)

  test('the standby (503: intake never opens on a standby): following, shadow decisions counted, sync only its policy', async () => {
    const health = await documented(standby.request, '/health', 503)
    const ha = health.ha as { role: string; replicating: boolean; lag_records: number; sync: Json; shadow: { decisions: number; mismatches: number } }
    expect({ ready: health.ready, role: ha.role, replicating: ha.replicating, lag: ha.lag_records, sync: ha.sync }).toEqual({
      ready: false, role: 'standby', replicating: true, lag: 0, sync: { policy: 'degrade_async', state: 'down' },
    })
    expect(ha.shadow.decisions).toBeGreaterThan(0)
  }, 30_000)

  test('/v1/stats on the leader and the standby, after fills', async () => {
    const auditor = await pair.token({ sub: 'audrey', roles: ['auditor'], accounts: [] })
    for (const node of [leader, standby]) {
      const stats = await documented(node.request, '/v1/stats', 200, { headers: auth(auditor) })
      expect((stats.ledger as { fills: number }).fills).toBeGreaterThanOrEqual(2)
      expect(stats.store).not.toBeNull()
    }
  }, 30_000)

  test('the standby once it took over (200): leader, with how long the takeover took', async () => {
    await leader.stop()
    await eventually(() => standby.node.role === 'leader' && standby.node.gateway?.ready === true, 15_000)
    const health = await documented(standby.request, '/health', 200)
    const ha = health.ha as { role: string; last_takeover_ms: number | null; sync: { state: string }; shadow: unknown }
    expect({ role: ha.role, syncState: ha.sync.state, shadow: ha.shadow }).toEqual({ role: 'leader', syncState: 'down', shadow: null })
    expect(ha.last_takeover_ms).toBeGreaterThanOrEqual(0)
  }, 30_000)
})
