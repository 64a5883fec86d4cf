/**
 * `egress serve --role auto` (an HA leader) stops under serve's stop bound, on time without progress
 * (GATEWAY_STOP_BOUNDS, src/runtime/stop-watch.ts; HA teardown: src/runtime/ha/teardown.ts teardownBounds), as the
 * plain serve does (serve-stop-progress.test.ts, serve-stop-stuck.test.ts). The teardown had a fixed bound of its own
 * (30 s, TEARDOWN_WAIT_MS_MAX_DEFAULT) which the preload did not shorten: a leader's shutdown snapshot of a large state
 * outlasting it was cut (exit 1, no snapshot), a stop advancing without end ran past serve's ceiling, and a stop stuck
 * on a disk kept the lease renewed 30 s whatever serve's stall bound said. Real processes; the slow turns, the hung
 * syncs and the short bounds come from the spec-only preload (specs/cli/support/hang-sync-preload.ts).
 */

import { afterEach, expect, test } from 'bun:test'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXIT_FAILURE, EXIT_OK } from '../../src/cli/command.ts'
import { Cluster, type ClusterNode } from '../runtime/ha/cluster.ts'

const PRELOAD = join(import.meta.dir, 'support', 'hang-sync-preload.ts')
const STOP_STALL_MS = 1_000
const SLOW_TURN_MS = 400

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.stop()
  cluster?.remove()
  cluster = null
})

/** Starts a leader, places an order, turns `flag` ('slow' turns or 'hang'ing syncs) on, signals: exit code, stop time, stderr. */
async function leaderStop(flag: 'slow' | 'hang', ceilingMs: number): Promise<{ code: number | string; stopMs: number; stderr: string; node: ClusterNode }> {
  cluster = new Cluster({ leaseTtlMs: 2_000, clockSkewMs: 50, sync: 'off', syncTimeoutMs: 1_000, verbose: false, log: () => {} })
  await cluster.startVenue()
  const node = await cluster.addNode('node-a')
  const flags = { slow: join(cluster.work, 'slow-turns-now'), hang: join(cluster.work, 'hang-syncs-now') }
  cluster.spawn(node, {
    preload: PRELOAD,
    env: {
      EGRESS_WAL_DURABILITY: 'fsync', EGRESS_SPEC_HANG_SYNC_FLAG: flags.hang, EGRESS_SPEC_SLOW_TURN_FLAG: flags.slow, EGRESS_SPEC_SLOW_TURN_MS: String(SLOW_TURN_MS),
      EGRESS_SPEC_STOP_STALL_MS: String(STOP_STALL_MS), EGRESS_SPEC_STOP_CEILING_MS: String(ceilingMs),
    },
  })
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && !(await node.isReadyLeader())) await Bun.sleep(100)
  expect(await node.isReadyLeader()).toBe(true)
  const place = (key: string): Promise<Response> => fetch(`${node.url}/v1/orders`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${(cluster as Cluster).trader}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
    body: JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price: '58000' }),
  })
  expect((await place(`${flag}-order`)).status).toBe(202)
  writeFileSync(flags[flag], '')
  if (flag === 'hang') {
    // A command the stop's drain waits for, never durable (its answer never comes): the stop makes no progress.
    void place('hang-second-order').catch(() => {})
    await Bun.sleep(200)
  }
  const child = node.child as ReturnType<typeof Bun.spawn>
  const signalledAtMs = performance.now()
  child.kill('SIGTERM')
  const code = await Promise.race([child.exited, Bun.sleep(20_000).then(() => 'still running 20 s after SIGTERM')])
  const stopMs = performance.now() - signalledAtMs
  await Bun.sleep(100) // the last lines of stderr
  return { code, stopMs, stderr: node.stderr.join('\n'), node }
}

test("a leader's stop longer than the stall bound that keeps advancing finishes: exit 0, the shutdown snapshot written", async () => {
  const { code, stopMs, stderr, node } = await leaderStop('slow', 60_000)
  expect({ code, cut: stderr.includes('giving up on it') }).toEqual({ code: EXIT_OK, cut: false })
  expect(stopMs).toBeGreaterThan(STOP_STALL_MS)
  expect(readdirSync(join(node.dataDir, 'snapshots')).some((file) => file.endsWith('.snap'))).toBe(true)
}, 90_000)

test("a leader's stop that keeps advancing past serve's ceiling is cut there: exit 1, saying so", async () => {
  const ceilingMs = 1_200
  const { code, stderr } = await leaderStop('slow', ceilingMs)
  // Before the fix: the teardown's own 30 s bound, no ceiling of serve's: the stop ran on, exit 0.
  expect({ code, said: stderr.includes(`at ${ceilingMs} ms, its ceiling`) }).toEqual({ code: EXIT_FAILURE, said: true })
}, 90_000)

test("a leader's stop stuck on a disk whose syncs never answer is cut at serve's stall bound: exit 1, STOP_TIMEOUT", async () => {
  const { code, stopMs, stderr } = await leaderStop('hang', 60_000)
  // Before the fix: the teardown's fixed 30 s, the lease renewed all the while: still running 20 s after SIGTERM.
  expect({ code, said: stderr.includes(`made no progress for ${STOP_STALL_MS} ms`), timeout: stderr.includes('STOP_TIMEOUT') }).toEqual({ code: EXIT_FAILURE, said: true, timeout: true })
  expect(stopMs).toBeLessThan(15_000)
}, 90_000)
