/**
 * Every key of a real `/health` answer of an HA node is snake_case, at every depth, like every other JSON body of the
 * HTTP API. The nested reports of `ha` are kept by the runtime under camelCase names (a divergence, a snapshot
 * recovery, the shadow decisions) and renamed at the status boundary (src/runtime/ha/status-json.ts): this walks the
 * answers of an HA pair's leader and standby (its shadow decisions), of a standby that diverged and kept the log it
 * shares with the leader (`ha.last_divergence`, its examples), and of one that started again from the leader's
 * snapshot (`ha.last_snapshot_recovery`).
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/index.ts'
import { createVerifier } from '../../src/http/auth/index.ts'
import { createHttpService } from '../../src/http/index.ts'
import { HaNode } from '../../src/runtime/ha/index.ts'
import { compactingLeader, recoveringStandby, tradeUntilCompacted } from '../runtime/ha/compacting-leader.ts'
import { caughtUp, forkedPair, rejoiningNode } from '../runtime/ha/forked-pair.ts'
import { haHttp, waitFor } from '../runtime/ha/support.ts'
import { eventually, json, post, SECRET } from './fixture.ts'
import { startHaPair } from './ha-pair.ts'

type Json = Record<string, unknown>

const SNAKE_CASE_KEY = /^[a-z][a-z0-9_]*$/

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Every key path in `value` (objects and arrays, at every depth), and those whose key is not snake_case. */
function keysOf(value: unknown, at: string): { paths: string[]; notSnakeCase: string[] } {
  const paths: string[] = []
  const notSnakeCase: string[] = []
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) return node.forEach((item, index) => walk(item, `${path}[${index}]`))
    if (typeof node !== 'object' || node === null) return
    for (const [key, inner] of Object.entries(node)) {
      paths.push(`${path}.${key}`)
      if (!SNAKE_CASE_KEY.test(key)) notSnakeCase.push(`${path}.${key}`)
      walk(inner, `${path}.${key}`)
    }
  }
  walk(value, at)
  return { paths, notSnakeCase }
}

/** `/health` of an in-process HA node, asked through an HTTP service around its gateway as `egress serve --role` builds it. */
async function healthOf(node: HaNode): Promise<Json> {
  const gateway = node.gateway
  if (gateway === null) throw new Error(`the node (role ${node.role}) has no gateway`)
  const config = parseConfig({ dataDir: gateway.options.dataDir })
  const verifier = createVerifier({ issuer: 'egress', audience: 'egress-api', clockToleranceSec: 5, hs256Secret: SECRET, jwksReloadMs: 60_000, tokenCacheEntriesMax: 1000 })
  const http = createHttpService({
    gateway,
    verifier,
    configDigest: 'spec',
    backpressure: config.backpressure,
    sse: config.sse,
    role: () => node.role,
    ha: haHttp({ isLeader: () => node.isLeader(), leaderUrl: () => node.leaderUrl(), status: () => node.status() }),
    log: () => {},
  })
  try {
    return await json(await http.app.request('/health'))
  } finally {
    http.close()
    verifier.close()
  }
}

describe('/health of an HA node has snake_case keys at every depth', () => {
  test('an HA pair: the leader, and the standby with its shadow decisions', async () => {
    const pair = await startHaPair({ sync: 'degrade_async' })
    cleanups.push(pair.stop)
    const { first: leader, second: standby } = pair
    await eventually(() => leader.node.role === 'leader' && standby.node.role === 'standby', 15_000)
    const trader = await pair.token({ sub: 'alice', roles: ['trader'], accounts: ['demo-1'] })
    const order = { account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.1', price: '61000' }
    expect((await leader.request('/v1/orders', post(trader, order, { 'Idempotency-Key': 'keys-1' }))).status).toBe(202)
    await eventually(() => (standby.node.gateway?.engine.shadow?.stats.decisions ?? 0) > 0, 10_000)
    const leaderKeys = keysOf(await json(await leader.request('/health')), 'health')
    const standbyKeys = keysOf(await json(await standby.request('/health')), 'health')
    expect({ leader: leaderKeys.notSnakeCase, standby: standbyKeys.notSnakeCase }).toEqual({ leader: [], standby: [] })
    // The walk went down to the nested reports (not past a null): the leader's sync, the standby's shadow.
    expect(leaderKeys.paths).toContain('health.ha.sync.standby_durable_lsn')
    expect(standbyKeys.paths).toEqual(expect.arrayContaining(['health.ha.shadow.decisions', 'health.ha.shadow.events_without_command', 'health.ha.shadow.last_mismatches']))
  }, 60_000)

  test('a standby that diverged and kept the log it shares with the leader: ha.last_divergence, its examples too', async () => {
    const pair = await forkedPair(61)
    cleanups.push(pair.cleanup)
    const rejoin = rejoiningNode(pair)
    cleanups.push(() => rejoin.node.stop())
    await rejoin.node.start()
    await caughtUp(rejoin, pair)
    const keys = keysOf(await healthOf(rejoin.node), 'health')
    expect(keys.notSnakeCase).toEqual([])
    expect(keys.paths).toEqual(expect.arrayContaining(['health.ha.last_divergence.kept_prefix_to_lsn', 'health.ha.last_divergence.discarded_examples[0].lsn']))
  }, 60_000)

  test('a standby that started again from the leader\'s snapshot: ha.last_snapshot_recovery', async () => {
    const { world, url } = await compactingLeader(62, cleanups)
    await tradeUntilCompacted(world, 1, 62)
    const { options, logLines } = recoveringStandby(world, url, cleanups)
    const node = new HaNode(options)
    cleanups.push(() => node.stop())
    await node.start()
    await waitFor(() => node.lastSnapshotRecovery?.state === 'recovered' && node.gateway !== null, 15_000, `snapshot recovery (${logLines.join(' | ')})`)
    const keys = keysOf(await healthOf(node), 'health')
    expect(keys.notSnakeCase).toEqual([])
    expect(keys.paths).toEqual(expect.arrayContaining(['health.ha.last_snapshot_recovery.snapshot_lsn', 'health.ha.last_snapshot_recovery.previous_last_lsn']))
  }, 60_000)
})
