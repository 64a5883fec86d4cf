/**
 * A gateway stop that never ends must not hold the node's stop (and its lease) for good, whether it is stuck within a
 * role change or in the teardown after the changes have settled.
 *
 * A takeover stuck in its standby gateway's stop (a venue or disk that never answers): stop() waits for the change up
 * to roleChangeWaitMsMax, then must give up: reject with STOP_TIMEOUT and release the lease, so the other node can take
 * over. The teardown used to await that same gateway's stop (Gateway.stop runs once: the same never-ending promise),
 * so stop() never settled and the timer kept renewing the lease (role `promoting`): no node could ever take over.
 * Found by the session review (s31).
 */

import { afterEach, expect, test } from 'bun:test'
import { readCurrentLease } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { roleChangeWaitMsMax } from '../../../src/runtime/ha/index.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { waitFor } from './support.ts'
import { heldStandbyStop, leaderOptionsOf, takeoverNode } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

test("a takeover stuck in its standby gateway's stop: stop() rejects with STOP_TIMEOUT past the bound, and the lease is not renewed for good", async () => {
  const world = await startWorld({ seed: 131 })
  worlds.push(world)
  const released = Promise.withResolvers<void>()
  let standbyStopping = false
  const snapshotRecovery = { bytesMax: 1024 * 1024, timeoutMs: 100, keep: 2 }
  const { node, leaseDir } = takeoverNode(
    cleanups,
    // A standby gateway whose stop never ends while the spec holds it (a venue or disk that never answers).
    heldStandbyStop(world, released.promise, () => (standbyStopping = true)),
    { snapshotRecovery },
  )
  cleanups.push(() => released.resolve()) // runs before the node's own cleanup
  await node.start()
  await waitFor(() => standbyStopping, 5_000, 'the takeover stopping its standby gateway')
  const waitMsMax = roleChangeWaitMsMax({ snapshotRecovery, replication: { backoffMsMin: 10, backoffMsMax: 50, envelopeBytesMax: 1024 * 1024, silenceMsMax: 500 }, leaseTtlMs: 200 })
  const outcome = await Promise.race([
    node.stop().then(() => 'stopped', (error: unknown) => `rejected: ${(error as { code?: string }).code}`),
    Bun.sleep(waitMsMax + 3_000).then(() => 'still waiting'),
  ])
  const lease = readCurrentLease(leaseDir)
  const leaseLiveMs = (lease?.expiresAtMs ?? 0) - Date.now()
  expect({ outcome, leaseRenewedByUs: lease?.holderId === node.holderId && leaseLiveMs > 0, role: node.role }).toEqual({
    outcome: 'rejected: STOP_TIMEOUT',
    leaseRenewedByUs: false,
    role: 'stopped',
  })
}, 30_000)

/**
 * The teardown's own gateway stop, once no role change runs (a leader stopped on SIGTERM whose disk stops answering
 * during its shutdown snapshot): the timer renews the lease while the gateway stops (teardown.ts), so an unbounded stop
 * kept the lease renewed — no takeover — until the process was killed. Found by the HA review. The teardown's bound is
 * its own (teardownWaitMsMax): it used to be roleChangeWaitMsMax, over two minutes with the default snapshot-recovery
 * timeout this node keeps, all that time with the lease renewed and no node leading.
 */
test("a leader gateway whose stop never ends in the teardown: stop() rejects with STOP_TIMEOUT past the teardown's own bound (not the role changes'), the lease released and no longer renewed, the gateway's stop begun once", async () => {
  const world = await startWorld({ seed: 132 })
  worlds.push(world)
  const released = Promise.withResolvers<void>()
  let gatewayStops = 0
  const leaseTtlMs = 200
  const teardownWaitMsMax = 500
  const { node, leaseDir, logLines } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role !== 'leader' || lease === null) throw new Error(`expected to lead at once, asked for a ${role} gateway`)
      const gateway = await Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
      const stop = gateway.stop.bind(gateway)
      // Never ends while the spec holds it (a disk that does not answer); stops for real at the spec's cleanup.
      gateway.stop = async () => {
        gatewayStops += 1
        await released.promise
        await stop()
      }
      return gateway
    },
    // The default snapshot recovery (60 s timeout): roleChangeWaitMsMax is over two minutes.
    { oldLeader: false, role: 'auto', leaseTtlMs, teardownWaitMsMax },
  )
  cleanups.push(() => released.resolve()) // runs before the node's own cleanup
  await node.start()
  expect(node.role).toBe('leader')
  const roleChangeBoundMs = roleChangeWaitMsMax({ replication: { backoffMsMin: 10, backoffMsMax: 50, envelopeBytesMax: 1024 * 1024, silenceMsMax: 500 }, leaseTtlMs })
  expect(roleChangeBoundMs).toBeGreaterThan(120_000)
  const outcome = await Promise.race([
    node.stop().then(() => ({ code: 'stopped', change: '', waitMsMax: 0 }), (error: unknown) => error as { code?: string; change?: string; waitMsMax?: number }),
    Bun.sleep(teardownWaitMsMax + 5_000).then(() => ({ code: 'still waiting', change: '', waitMsMax: 0 })),
  ])
  const lease = readCurrentLease(leaseDir)
  expect({ code: outcome.code, change: outcome.change, waitMsMax: outcome.waitMsMax, expiresAtMs: lease?.expiresAtMs, role: node.role }).toEqual({
    code: 'STOP_TIMEOUT',
    change: 'teardown (stopping the gateway)',
    waitMsMax: teardownWaitMsMax,
    expiresAtMs: 0,
    role: 'stopped',
  })
  // The timer is cleared: the released lease stays released (no renewal rewrites it).
  await Bun.sleep(leaseTtlMs)
  expect(readCurrentLease(leaseDir)?.expiresAtMs).toBe(0)
  // Abandoning the teardown did not begin the stuck gateway's stop a second time.
  expect(gatewayStops).toBe(1)
  expect(logLines.some((line) => line.includes(`the teardown made no progress for ${teardownWaitMsMax} ms, still stopping the gateway`))).toBe(true)
}, 30_000)
