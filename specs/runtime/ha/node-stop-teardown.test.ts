/**
 * HaNode.stop's teardown runs every step even when one throws (src/runtime/ha/teardown.ts). A leader gateway whose
 * stop() threw used to end the node's stop() there: the lease-renewal timer kept running — renewing the lease every
 * ttl/4, for as long as the process lived, so no other node could ever take over — and the lease was never released.
 */

import { afterEach, expect, test } from 'bun:test'
import { Lease, readCurrentLease } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { leaderOptionsOf, takeoverNode } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const LEASE_TTL_MS = 60_000

test("a leader gateway whose stop throws: stop() still clears the timer and releases the lease (another node takes it at once), then rejects with the gateway's error", async () => {
  const world = await startWorld({ seed: 94 })
  worlds.push(world)
  const failure = new Error('the gateway did not stop cleanly (injected)')
  let stops = 0
  const { node, leaseDir, logLines } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role !== 'leader' || lease === null) throw new Error(`expected to lead at once, asked for a ${role} gateway`)
      const gateway = await Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
      const stop = gateway.stop.bind(gateway)
      // Stops for real (nothing left running), and throws the first time: a failure of the gateway's stop.
      gateway.stop = async () => {
        await stop()
        if (stops++ === 0) throw failure
      }
      return gateway
    },
    // An empty lease directory: the node (auto) leads at once, on a lease that lives a minute unless released.
    { oldLeader: false, role: 'auto', leaseTtlMs: LEASE_TTL_MS },
  )
  await node.start()
  expect(node.role).toBe('leader')
  const internals = node as unknown as { timer: (ReturnType<typeof setInterval> & { _destroyed?: boolean }) | null; replicator: unknown }
  const renewal = internals.timer
  expect(renewal?._destroyed).toBe(false)
  const stopped = await node.stop().then(() => null, (error: unknown) => error)
  expect(stopped).toBe(failure)
  expect(stops).toBe(1)
  // Every other step ran all the same: the renewal timer cleared (not merely dropped), the lease released (expiry 0).
  expect({ role: node.role, renewalCleared: renewal?._destroyed, replicator: internals.replicator !== null, leaseExpiresAtMs: readCurrentLease(leaseDir)?.expiresAtMs }).toEqual({
    role: 'stopped', renewalCleared: true, replicator: false, leaseExpiresAtMs: 0,
  })
  expect(logLines).toContain(`stop: stopping the gateway failed: ${failure.message}`)
  // Another node takes the lease now, not a TTL later.
  const next = Lease.acquire({ dir: leaseDir, holderId: 'next http://127.0.0.1:3', ttlMs: LEASE_TTL_MS, clockSkewMsMax: 10 })
  expect(next.epoch).toBe(2)
  next.release()
}, 30_000)
