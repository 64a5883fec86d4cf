/**
 * Bounded hot state (src/kernel/retention.ts): terminal orders beyond params.terminalOrdersKeptMax leave the kernel
 * state deterministically — genesis replay and snapshot restore agree — and are still read back through HTTP from the
 * log, including the first answer of an idempotent repeat, byte for byte.
 */

import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createVerifier, mintHs256Token, type Verifier } from '../../src/http/auth/index.ts'
import { createHttpService, type HttpService } from '../../src/http/index.ts'
import { parseConfig } from '../../src/config/index.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { stateDigest } from '../../src/kernel/index.ts'
import { Engine } from '../../src/runtime/engine.ts'
import { chainAnchorFor, restoreEngine, SnapshotStore } from '../../src/runtime/snapshot/index.ts'
import { nodeIo, Wal } from '../../wal/index.ts'
import { crashWorld, removeDir, run, startWorld, type World } from './harness.ts'
import { trade } from './snapshot/support.ts'

const KEPT = 3
const SECRET = 'retention-spec-secret-retention-spec-secret'
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

async function tradedWorld(seed: number, graceMs = 0, heldMax?: number): Promise<World> {
  const params = { terminalOrdersKeptMax: KEPT, terminalOrderRetireAfterMs: graceMs, ...(heldMax === undefined ? {} : { terminalOrdersHeldMax: heldMax }) }
  const world = await startWorld({ seed, params, snapshots: { atShutdown: false, keep: 2 } })
  dirs.push(world.dir)
  await trade(world, { orders: 40, tag: `r${seed}`, seed })
  await run(world, 300)
  return world
}

describe('bounded hot state', () => {
  test.each([0, 150])('beyond the bound terminal orders leave the state (retire grace %d ms); genesis replay and snapshot restore hold the same state', async (graceMs) => {
    const world = await tradedWorld(5, graceMs)
    const state = world.gateway.engine.state
    const terminal = [...state.orders.values()].filter((order) => isTerminal(order.status))
    if (graceMs === 0) expect(terminal.length).toBeLessThanOrEqual(KEPT)
    // With a grace only the orders that ended within it (in event time) are kept beyond the bound.
    const lastAtMs = Math.max(...[...state.orders.values()].map((order) => order.updatedAtMs))
    for (const [, endedAtMs] of [...state.terminalOrderIds].slice(0, -KEPT)) expect(lastAtMs - endedAtMs).toBeLessThan(graceMs + 1_000)
    expect(state.terminalOrderIds.size).toBe(terminal.length)
    // More orders were accepted than the state holds: their keys are still known.
    const accepted = [...state.idempotency.values()].filter((entry) => entry.outcome === 'accepted')
    expect(accepted.length).toBeGreaterThan(state.orders.size)
    const snapshot = await world.gateway.snapshot()
    expect(snapshot).not.toBeNull()
    await trade(world, { orders: 12, tag: 'r5-after', seed: 9 })
    await run(world, 300)
    const live = stateDigest(world.gateway.engine.state)
    await crashWorld(world)

    const genesisWal = Wal.open(join(world.dir, 'log'), { durability: 'none' })
    expect(stateDigest(Engine.replay(genesisWal).state)).toBe(live)
    await genesisWal.close()
    const store = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 })
    const anchoredWal = Wal.open(join(world.dir, 'log'), { durability: 'none', chainAnchorLsn: chainAnchorFor(store, true) })
    const restored = restoreEngine(anchoredWal, store, { load: true })
    expect(restored.report.snapshot?.lsn).toBe(snapshot?.lsn)
    expect(stateDigest(restored.engine.state)).toBe(live)
    await anchoredWal.close()
  })

  test('with a cap (terminalOrdersHeldMax) the ended orders held stay within it inside an hour\'s grace; genesis replay and snapshot restore hold the same state', async () => {
    const heldMax = KEPT + 2
    const world = await tradedWorld(6, 3_600_000, heldMax)
    const state = world.gateway.engine.state
    const busy = (orderId: string): boolean => state.inFlight.has(orderId) || state.queues.some((queue) => queue.has(orderId))
    const idleEnded = [...state.terminalOrderIds.keys()].filter((orderId) => !busy(orderId))
    // Every order ended within the grace (the run lasts seconds): only the cap retired them. One ended at the instant
    // of the last event is not retired by it (rule 2), hence the one over.
    expect(idleEnded.length).toBeLessThanOrEqual(heldMax + 1)
    const accepted = [...state.idempotency.values()].filter((entry) => entry.outcome === 'accepted')
    expect(accepted.length).toBeGreaterThan(state.orders.size + heldMax)
    const snapshot = await world.gateway.snapshot()
    expect(snapshot).not.toBeNull()
    await trade(world, { orders: 12, tag: 'r6-after', seed: 10 })
    await run(world, 300)
    expect(world.gateway.engine.state.terminalOrderIds.size).toBeLessThan(heldMax + 5)
    const live = stateDigest(world.gateway.engine.state)
    await crashWorld(world)

    const genesisWal = Wal.open(join(world.dir, 'log'), { durability: 'none' })
    expect(stateDigest(Engine.replay(genesisWal).state)).toBe(live)
    await genesisWal.close()
    const store = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 })
    const anchoredWal = Wal.open(join(world.dir, 'log'), { durability: 'none', chainAnchorLsn: chainAnchorFor(store, true) })
    const restored = restoreEngine(anchoredWal, store, { load: true })
    expect(restored.report.snapshot?.lsn).toBe(snapshot?.lsn)
    expect(stateDigest(restored.engine.state)).toBe(live)
    await anchoredWal.close()
  })

  test('a retired order is still read through HTTP, and a repeat of its key gets the first answer byte for byte', async () => {
    const world = await startWorld({ seed: 8, params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 } })
    dirs.push(world.dir)
    const { http, verifier, headers, place } = await httpPlacing(world)
    const first = await place('retire-me')
    const firstText = await first.clone().text()
    expect(`${first.status} ${firstText}`).toStartWith('202')
    const orderId = (JSON.parse(firstText) as { order_id: string }).order_id
    await run(world, 200)
    for (let index = 0; index < 3; index++) {
      expect((await place(`later-${index}`)).status).toBe(202)
      await run(world, 200)
    }
    expect(world.gateway.engine.state.orders.has(orderId)).toBe(false)

    const repeat = await place('retire-me')
    expect(repeat.status).toBe(202)
    expect(repeat.headers.get('Idempotent-Replayed')).toBe('true')
    expect(await repeat.text()).toBe(firstText)
    expect(world.gateway.engine.state.orders.has(orderId)).toBe(false)

    const read = await http.app.request(`/v1/orders/${orderId}`, { headers: headers('x') })
    expect(read.status).toBe(200)
    const view = (await read.json()) as { order_id: string; state: string }
    expect(view.order_id).toBe(orderId)
    expect(view.state).toBe('Filled')
    const events = await http.app.request(`/v1/orders/${orderId}/events`, { headers: headers('x') })
    expect(events.status).toBe(200)
    // A cancel of a retired order is refused without touching anything.
    const lsn = world.gateway.engine.wal.lastLsn
    const cancel = await http.app.request(`/v1/orders/${orderId}/cancel`, { method: 'POST', headers: headers('c') })
    expect(cancel.status).toBe(409)
    expect(world.gateway.engine.state.orders.has(orderId)).toBe(false)
    expect(world.gateway.engine.wal.lastLsn - lsn).toBeLessThanOrEqual(1)
    http.close()
    verifier.close()
    await crashWorld(world)
  })

  test('a repeat of a retired order whose records were compacted away answers 409 ANSWER_NOT_RETAINED naming the order, never 500', async () => {
    const world = await startWorld({
      seed: 8,
      params: { terminalOrdersKeptMax: 1, terminalOrderRetireAfterMs: 0 },
      wal: { segmentBytesMax: 16 * 1024 },
      snapshots: { atShutdown: false, keep: 1, compaction: 'delete' },
    })
    dirs.push(world.dir)
    const { http, verifier, headers, place } = await httpPlacing(world)
    const first = await place('retire-me')
    expect(first.status).toBe(202)
    const orderId = ((await first.json()) as { order_id: string }).order_id
    await run(world, 200)
    for (let index = 0; index < 40; index++) {
      expect((await place(`later-${index}`)).status).toBe(202)
      await run(world, 50)
    }
    expect(world.gateway.engine.state.orders.has(orderId)).toBe(false)
    await world.gateway.snapshot()
    const acceptedLsn = world.gateway.engine.wal.firstLsn
    expect(acceptedLsn).toBeGreaterThan(1) // compacted: the order's records are gone
    const lsn = world.gateway.engine.wal.lastLsn
    for (let attempt = 0; attempt < 2; attempt++) {
      const repeat = await place('retire-me')
      expect(repeat.status).toBe(409)
      expect(repeat.headers.get('Idempotent-Replayed')).toBe('true')
      const error = ((await repeat.json()) as { error: { code: string; message: string; details: { order_id: string } } }).error
      expect(error.code).toBe('ANSWER_NOT_RETAINED')
      expect(error.details.order_id).toBe(orderId)
      expect(error.message).toContain(orderId)
    }
    // Still a repeat: nothing was placed again.
    expect(world.gateway.engine.wal.lastLsn).toBe(lsn)
    // GET of such an order: 404 (documented in the README).
    const read = await http.app.request(`/v1/orders/${orderId}`, { headers: headers('x') })
    expect(read.status).toBe(404)
    expect(world.errors).toEqual([])
    http.close()
    verifier.close()
    await crashWorld(world)
  }, 60_000)
})

/** The HTTP app over `world`'s gateway, and a place of one marketable ETH-USD buy as alice under an Idempotency-Key. */
async function httpPlacing(world: World): Promise<{ http: HttpService; verifier: Verifier; headers: (key: string) => Record<string, string>; place: (key: string) => Promise<Response> }> {
  const config = parseConfig({ dataDir: world.dir, auth: { hs256Secret: SECRET } })
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 100 })
  const http = createHttpService({ gateway: world.gateway, verifier, configDigest: 'sim-config', backpressure: config.backpressure, sse: config.sse, log: () => {} })
  const token = await mintHs256Token(SECRET, { sub: 'alice', roles: ['trader'], accounts: ['acct-a'], issuer: 'egress', audience: 'egress-api', ttlSec: 600 })
  const headers = (key: string): Record<string, string> => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json', 'Idempotency-Key': key })
  const reference = world.venue.referencePrice('ETH-USD')?.price ?? 0n
  const price = String((reference * 101n) / 100n / 100_000_000n)
  const body = JSON.stringify({ account: 'acct-a', symbol: 'ETH-USD', side: 'buy', type: 'limit', qty: '0.01', price })
  const place = async (key: string): Promise<Response> => http.app.request('/v1/orders', { method: 'POST', headers: headers(key), body })
  return { http, verifier, headers, place }
}
