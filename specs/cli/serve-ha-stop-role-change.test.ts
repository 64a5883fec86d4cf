/**
 * An HA node stopping takes no new request, whatever role it ends up in while it stops. Since the stop keeps its HTTP
 * server up until the node has stopped (serve-ha.ts: requests in flight get their grace, then the node stops, then the
 * server), a role change in that grace — a standby whose leader went away taking over while a slow request of its
 * own was still being answered — swapped in a fresh HTTP service that was not draining: the stopping node took new
 * orders (202) as a leader until its stop reached the gateway. Before that commit the server had stopped listening at
 * the signal. Real processes; the slow request comes from specs/cli/support/slow-verify-preload.ts.
 */

import { afterEach, expect, test } from 'bun:test'
import { join } from 'node:path'
import { mintHs256Token } from '../../src/http/auth/index.ts'
import { Cluster, DRILL_SECRET, waitFor } from '../runtime/ha/cluster.ts'

const PRELOAD = join(import.meta.dir, 'support', 'slow-verify-preload.ts')
const SLOW_SUB = 'slow-reader'
const SLOW_MS = 6_000

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.stop()
  cluster?.remove()
  cluster = null
})

test('SIGTERM to a standby answering a slow request, its leader gone meanwhile: it may take over, but a new order is refused as the node shuts down', async () => {
  cluster = new Cluster({ leaseTtlMs: 1_000, clockSkewMs: 50, sync: 'off', syncTimeoutMs: 1_000, verbose: false, log: () => {} })
  const running = cluster
  await running.startVenue()
  const a = await running.addNode('node-a')
  const b = await running.addNode('node-b')
  running.spawn(a)
  await waitFor('node-a leading', 30_000, () => a.isReadyLeader(), () => a.stderr.slice(-10).join('\n'))
  running.spawn(b, { preload: PRELOAD, env: { EGRESS_SPEC_SLOW_SUB: SLOW_SUB, EGRESS_SPEC_SLOW_MS: String(SLOW_MS) } })
  await waitFor('node-b a replicating standby', 30_000, () => b.isReplicatingStandby(), () => b.stderr.slice(-10).join('\n'))

  const slowToken = await mintHs256Token(DRILL_SECRET, { sub: SLOW_SUB, roles: ['trader'], accounts: ['demo-1'], issuer: 'egress', audience: 'egress-api', ttlSec: 3600 })
  const slow = fetch(`${b.url}/v1/orders`, { headers: { Authorization: `Bearer ${slowToken}` } }).then((response) => response.status, () => 'failed')
  await Bun.sleep(300)
  b.child?.kill('SIGTERM')
  await waitFor('node-b stopping', 5_000, async () => b.stderr.some((line) => line.includes('SIGTERM: stopping')))
  // The leader goes away (a crash): the stopping standby's node, not stopped yet, takes over once the lease expires.
  a.child?.kill('SIGKILL')
  await a.child?.exited
  await waitFor('node-b leading', 5_000, async () => (await b.health())?.ha?.role === 'leader', () => b.stderr.slice(-10).join('\n'))

  const response = await fetch(`${b.url}/v1/orders`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${running.trader}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'during-stop' },
    body: JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '58000' }),
  })
  const answer = (await response.json()) as { error?: { code?: string } }
  expect({ status: response.status, code: answer.error?.code }).toEqual({ status: 503, code: 'UNAVAILABLE' })
  // The slow request was answered (its grace), and the node stopped cleanly.
  expect(await slow).toBe(200)
  expect(await b.child?.exited).toBe(0)
}, 90_000)
