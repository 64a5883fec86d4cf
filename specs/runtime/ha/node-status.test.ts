/**
 * `/health` → `ha` of a leader whose lease another node has taken, before its next renewal notices (a leader paused
 * past its lease, or whose clock lags): it reported `ready: true` and itself as `leader`, so a probe or a load
 * balancer reading /health kept sending it writes (answered NOT_LEADER: isLeader() checks the lease). It now reports
 * what isLeader() says: not ready, and the leader the lease names.
 */

import { afterEach, expect, test } from 'bun:test'
import { Lease } from '../../../wal/index.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { takeoverNode, worldGateways } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

test("a leader whose lease was taken reports itself not ready and names the lease's holder as leader, before it steps down", async () => {
  const world = await startWorld({ seed: 383 })
  worlds.push(world)
  // A minute's lease: the renewal (every 15 s) does not run during the spec.
  const { node, leaseDir } = takeoverNode(cleanups, worldGateways(world), { oldLeader: false, role: 'auto', leaseTtlMs: 60_000 })
  await node.start()
  expect(node.status()).toMatchObject({ role: 'leader', ready: true, leader: 'http://127.0.0.1:2', epoch: 1 })
  Lease.acquire({ dir: leaseDir, holderId: 'other http://127.0.0.1:3', ttlMs: 60_000, clockSkewMsMax: 10, nowMs: () => Date.now() + 600_000 })
  expect(node.isLeader()).toBe(false)
  expect(node.status()).toMatchObject({ role: 'leader', ready: false, leader: 'http://127.0.0.1:3' })
}, 30_000)
