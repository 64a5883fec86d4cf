/**
 * HaNode.stop and a lease renewal still writing off the event loop (Lease.renewOffLoop) when the teardown releases
 * the lease. The release overtakes the renewal (it writes nothing more and rejects LEASE_LOST), and the node's renewal
 * logs that the lease was lost, "stopping already". stop() did not wait for it: that line came after stop() had
 * resolved, from a node its caller believed stopped. stop() now waits for the renewal to end, at most
 * RENEWALS_SETTLE_WAIT_MS_MAX (a renewal on a share that hangs never ends).
 */

import { afterEach, expect, test } from 'bun:test'
import { nodeIo, type Lease, type WalIo } from '../../../wal/index.ts'
import type { HaNode } from '../../../src/runtime/ha/index.ts'
import { RENEWALS_SETTLE_WAIT_MS_MAX } from '../../../src/runtime/ha/renewals-settled.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { takeoverNode, worldGateways } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 2_000; turn++) {
    if (condition()) return
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  throw new Error(`never: ${what}`)
}

/**
 * A node leading at once on a minute's lease, whose next renewal (begun by a tick, as the timer's) waits at its temp
 * file's fsync until `goFsync` is called. The renewal's io is the lease's own (no option injects it into a node).
 */
async function leaderRenewingSlowly(seed: number): Promise<{ node: HaNode; lease: Lease; logLines: string[]; goFsync: () => void }> {
  const world = await startWorld({ seed })
  worlds.push(world)
  const { node, logLines } = takeoverNode(cleanups, worldGateways(world), { oldLeader: false, role: 'auto', leaseTtlMs: 60_000 })
  await node.start()
  expect(node.role).toBe('leader')
  const lease = node.lease!
  const fsyncs: Array<() => void> = []
  const io: WalIo = { ...nodeIo, fsyncOffLoop: (fd, done) => void fsyncs.push(() => nodeIo.fsyncOffLoop(fd, done)) }
  ;(lease as unknown as { renewals: { steps: { io: WalIo } } }).renewals.steps.io = io
  void (node as unknown as { tick(): Promise<void> }).tick()
  await until(() => fsyncs.length === 1, 'the renewal waits at its fsync')
  return { node, lease, logLines, goFsync: fsyncs[0]! }
}

test('a renewal writing when the lease is released at stop has ended, and been reported, before stop() resolves', async () => {
  const { node, lease, logLines, goFsync } = await leaderRenewingSlowly(95)
  let linesAtStop: number | null = null
  const stopped = node.stop().then(() => void (linesAtStop = logLines.length))
  await until(() => !lease.isHeld(), 'the teardown released the lease')
  goFsync()
  await stopped
  await new Promise((resolve) => setTimeout(resolve, 50))
  // Before: the renewal ended after stop() had resolved, and its line came after.
  expect(logLines.slice(linesAtStop!)).toEqual([])
  expect(logLines.some((line) => line.includes(`lease epoch ${lease.epoch} lost`) && line.includes('stopping already'))).toBe(true)
}, 30_000)

test('a renewal that never ends (a lease directory whose share hangs) holds stop() no longer than the bound', async () => {
  const { node, logLines } = await leaderRenewingSlowly(96)
  const startedMs = performance.now()
  await node.stop()
  const tookMs = performance.now() - startedMs
  expect(tookMs).toBeGreaterThanOrEqual(RENEWALS_SETTLE_WAIT_MS_MAX - 5)
  expect(tookMs).toBeLessThan(RENEWALS_SETTLE_WAIT_MS_MAX + 5_000)
  expect(logLines.some((line) => line.includes(`still writing after ${RENEWALS_SETTLE_WAIT_MS_MAX} ms`))).toBe(true)
}, 30_000)
