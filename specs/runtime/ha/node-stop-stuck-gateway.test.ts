/**
 * A takeover stuck in its standby gateway's stop (a venue or disk that never answers): stop() waits for the change up
 * to roleChangeWaitMsMax, then must give up: reject with STOP_TIMEOUT and release the lease, so the other node can take
 * over. The teardown used to await that same gateway's stop (Gateway.stop runs once: the same never-ending promise),
 * so stop() never settled and the timer kept renewing the lease (role `promoting`): no node could ever take over.
 * Found by the session review (s31).
 */

import { afterEach, expect, test } from 'bun:test'
import { readCurrentLease } from '../../../wal/index.ts'
import { roleChangeWaitMsMax } from '../../../src/runtime/ha/index.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { waitFor } from './support.ts'
import { heldStandbyStop, takeoverNode } from './takeover-node.ts'

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
