/**
 * `egress serve --role auto` (an HA leader) whose shutdown meets a failed fsync in its data dir (the shutdown
 * snapshot's, the log close's trim): the log dies of it, and the process exits 74 saying so — not 0 after a "clean"
 * stop. Every acknowledged record was synced before; a failed fsync is still never passed over (DESIGN §3). The plain
 * serve's side: specs/cli/serve-log-failure.test.ts. Real processes; the failure comes from a spec-only preload that
 * fails fsyncs of files in the node's data dir only (the lease's own writes go on).
 */

import { afterEach, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXIT_IO_ERROR } from '../../src/cli/command.ts'
import { Cluster } from '../runtime/ha/cluster.ts'

const PRELOAD = join(import.meta.dir, 'support/fail-fsync-preload.ts')

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.stop()
  cluster?.remove()
  cluster = null
})

test('an fsync failing while an HA leader stops: exit 74, "the log failed while stopping"', async () => {
  cluster = new Cluster({ leaseTtlMs: 2_000, clockSkewMs: 50, sync: 'off', syncTimeoutMs: 1_000, verbose: false, log: () => {} })
  await cluster.startVenue()
  const node = await cluster.addNode('node-a')
  const flag = join(cluster.work, 'fail-fsync-now')
  cluster.spawn(node, { preload: PRELOAD, env: { EGRESS_SPEC_FAIL_FSYNC_FLAG: flag, EGRESS_SPEC_FAIL_FSYNC_CALL: 'fsync', EGRESS_SPEC_FAIL_FSYNC_UNDER: node.dataDir } })
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && !(await node.isReadyLeader())) await Bun.sleep(100)
  expect(await node.isReadyLeader()).toBe(true)
  writeFileSync(flag, '')
  const child = node.child as ReturnType<typeof Bun.spawn>
  child.kill('SIGTERM')
  const code = await Promise.race([child.exited, Bun.sleep(20_000).then(() => 'still running 20 s after SIGTERM')])
  const stopDeadline = Date.now() + 5_000
  while (Date.now() < stopDeadline && !node.stderr.some((line) => line.includes('the log failed while stopping'))) await Bun.sleep(20)
  // Before the fix: the node's stop passed over its log's death (it watches the log only while not stopping) and the
  // process exited 0.
  expect({ code, said: node.stderr.some((line) => line.includes('the log failed while stopping')) }).toEqual({ code: EXIT_IO_ERROR, said: true })
}, 90_000)
