/**
 * An HA node's teardown is cut for making no progress, not for taking long (src/runtime/ha/teardown.ts teardownBounds,
 * src/runtime/stop-watch.ts): a leader whose gateway stop outlasts the bound while it advances — the shutdown snapshot
 * of a large state written slice by slice (a million orders: 19.5 s under load) — stops cleanly, its lease released
 * after the stop. The teardown had a fixed bound (30 s, teardownWaitMsMax): such a stop was cut, STOP_TIMEOUT and exit
 * 1 without the snapshot, as serve's own stop was before (specs/cli/serve-stop-progress.test.ts). One that never ends
 * is still cut at the ceiling however it advances; one that makes no progress at teardownWaitMsMax
 * (node-stop-stuck-gateway.test.ts).
 *
 * The gateway's stop is held by the spec, telling progress (Gateway.stopProgress) every TICK_MS meanwhile, as its
 * snapshot's slices do.
 */

import { afterEach, expect, test } from 'bun:test'
import { readCurrentLease } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { GATEWAY_STOP_BOUNDS } from '../../../src/runtime/stop-watch.ts'
import { startWorld, worldsStoppedAfterEach, type World } from '../harness.ts'
import { leaderOptionsOf, takeoverNode } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
const boundsBefore = { ...GATEWAY_STOP_BOUNDS }
afterEach(async () => {
  Object.assign(GATEWAY_STOP_BOUNDS, boundsBefore)
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const TEARDOWN_WAIT_MS_MAX = 400
const TICK_MS = 50
/**
 * The node's lease TTL: shorter than every stop here (TEARDOWN_WAIT_MS_MAX × 3 or more), so a lease still released
 * (expiry 0) at the end was renewed while the gateway stopped; and far longer than one renewal. A renewal writes the
 * lease file and fsyncs it and its directory on the event loop, and its new expiry counts from before the write: at
 * 200 ms, a renewal whose fsyncs took 235 ms on a disk shared with other specs' logs (measured) ended past the expiry
 * it had just written, the lease rightly lost (LEASE_LOST, "stopping already"), and the release at the end wrote
 * nothing (the spec saw a non-zero expiry: 2 of 85 runs under load).
 */
const LEASE_TTL_MS = 800

/**
 * A node leading at once whose gateway's stop advances (a tick of progress every TICK_MS) for `advancingMs`, then
 * stops for real; the spec's cleanup ends a stop still held.
 */
async function leaderAdvancingFor(world: World, advancingMs: number): Promise<{ node: ReturnType<typeof takeoverNode>['node']; leaseDir: string; logLines: string[]; gateway: () => Gateway }> {
  let held: Gateway | null = null
  const released = Promise.withResolvers<void>()
  const { node, leaseDir, logLines } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role !== 'leader' || lease === null) throw new Error(`expected to lead at once, asked for a ${role} gateway`)
      const gateway = await Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
      let ticks = 0
      Object.defineProperty(gateway, 'stopProgress', { get: () => ticks })
      const stop = gateway.stop.bind(gateway)
      gateway.stop = async () => {
        const timer = setInterval(() => ticks++, TICK_MS)
        await Promise.race([Bun.sleep(advancingMs), released.promise])
        clearInterval(timer)
        await stop()
      }
      held = gateway
      return gateway
    },
    { oldLeader: false, role: 'auto', leaseTtlMs: LEASE_TTL_MS, teardownWaitMsMax: TEARDOWN_WAIT_MS_MAX },
  )
  cleanups.push(() => released.resolve()) // runs before the node's own cleanup
  await node.start()
  expect(node.role).toBe('leader')
  return { node, leaseDir, logLines, gateway: () => held as unknown as Gateway }
}

test('a leader whose gateway stop outlasts the teardown bound while it advances stops cleanly: the log closed, the lease released after it, no STOP_TIMEOUT', async () => {
  const world = await startWorld({ seed: 141 })
  worlds.push(world)
  const advancingMs = TEARDOWN_WAIT_MS_MAX * 4
  const { node, leaseDir, logLines, gateway } = await leaderAdvancingFor(world, advancingMs)
  const startedMs = performance.now()
  const outcome = await node.stop().then(() => 'stopped', (error: unknown) => `rejected: ${(error as { code?: string }).code}`)
  const stopMs = performance.now() - startedMs
  // Before the fix: "rejected: STOP_TIMEOUT" at TEARDOWN_WAIT_MS_MAX, the lease released with the gateway still stopping.
  expect({ outcome, logClosed: gateway().engine.wal.hasClosed, leaseExpiresAtMs: readCurrentLease(leaseDir)?.expiresAtMs, role: node.role }).toEqual({
    outcome: 'stopped',
    logClosed: true,
    leaseExpiresAtMs: 0,
    role: 'stopped',
  })
  expect(stopMs).toBeGreaterThanOrEqual(advancingMs)
  expect(logLines.filter((line) => line.includes('giving up on it'))).toEqual([])
}, 30_000)

test('a leader whose gateway stop advances without end is cut at the ceiling: STOP_TIMEOUT naming it, the lease released', async () => {
  const world = await startWorld({ seed: 142 })
  worlds.push(world)
  const ceilingMs = TEARDOWN_WAIT_MS_MAX * 3
  Object.assign(GATEWAY_STOP_BOUNDS, { ceilingMs })
  const { node, leaseDir, logLines } = await leaderAdvancingFor(world, 60_000)
  const outcome = await Promise.race([
    node.stop().then(() => ({ code: 'stopped', change: '', waitMsMax: 0 }), (error: unknown) => error as { code?: string; change?: string; waitMsMax?: number }),
    Bun.sleep(ceilingMs + 10_000).then(() => ({ code: 'still waiting', change: '', waitMsMax: 0 })),
  ])
  expect({ code: outcome.code, change: outcome.change, waitMsMax: outcome.waitMsMax, leaseExpiresAtMs: readCurrentLease(leaseDir)?.expiresAtMs, role: node.role }).toEqual({
    code: 'STOP_TIMEOUT',
    change: 'teardown (stopping the gateway)',
    waitMsMax: ceilingMs,
    leaseExpiresAtMs: 0,
    role: 'stopped',
  })
  expect(logLines.some((line) => line.includes(`the teardown was still stopping the gateway at ${ceilingMs} ms, its ceiling`))).toBe(true)
}, 30_000)
