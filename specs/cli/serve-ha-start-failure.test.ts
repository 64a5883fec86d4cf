/**
 * `egress serve` in HA mode whose node cannot start: a data dir left mid-swap that the start cannot finish. The HTTP
 * server is already listening (it answers 503 "starting" meanwhile), so without care the process would stay up for
 * good, answering 503 and never exiting, and no supervisor would restart it. It exits instead: 74 (EX_IOERR) when an
 * fsync failed finishing the swap (a restart recovers from what is on disk), 1 when the swap is refused (ASIDE_EXISTS:
 * the message says what to move away by hand). Real processes; the fsync failure comes from a spec-only preload.
 */

import { afterEach, expect, test } from 'bun:test'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EXIT_FAILURE, EXIT_IO_ERROR } from '../../src/cli/command.ts'
import { Cluster, type ClusterNode } from '../runtime/ha/cluster.ts'

const PRELOAD = join(import.meta.dir, 'support/fail-dir-fsync-preload.ts')
const STILL_RUNNING = 'still running 20 s after it started'

let cluster: Cluster | null = null
afterEach(async () => {
  await cluster?.stop()
  cluster = null
})

/** A node whose data dir holds a committed, unfinished keeping of a diverged log's shared part. */
async function nodeMidSwap(): Promise<{ cluster: Cluster; node: ClusterNode }> {
  cluster = new Cluster({ leaseTtlMs: 1_000, clockSkewMs: 100, sync: 'off', syncTimeoutMs: 1_000, verbose: false, log: () => {} })
  await cluster.startVenue()
  const node = await cluster.addNode('node-a')
  mkdirSync(join(node.dataDir, 'log'))
  mkdirSync(join(node.dataDir, 'log.prefix'))
  writeFileSync(join(node.dataDir, 'diverged-prefix.commit'), JSON.stringify({ suffix: 'diverged-1' }))
  return { cluster, node }
}

/** Whether `node` wrote a stderr line containing `text`, waiting up to 5 s for its stderr to be read to there. */
async function said(node: ClusterNode, text: string): Promise<boolean> {
  const deadline = Date.now() + 5_000
  while (Date.now() < deadline && !node.stderr.some((line) => line.includes(text))) await Bun.sleep(20)
  return node.stderr.some((line) => line.includes(text))
}

async function exitOf(node: ClusterNode): Promise<number | string> {
  const child = node.child as ReturnType<typeof Bun.spawn>
  return Promise.race([child.exited, Bun.sleep(20_000).then(() => STILL_RUNNING)])
}

test('the swap is refused at start-up (its aside name is taken): the process exits 1, naming ASIDE_EXISTS', async () => {
  const { cluster, node } = await nodeMidSwap()
  mkdirSync(join(node.dataDir, 'log.diverged-1'))
  writeFileSync(join(node.dataDir, 'log.diverged-1', 'x'), 'evidence')
  cluster.spawn(node)
  expect(await exitOf(node)).toBe(EXIT_FAILURE)
  expect(await said(node, 'the node could not start: ASIDE_EXISTS')).toBe(true)
}, 60_000)

test('an fsync fails finishing the swap at start-up: the process exits 74; restarted on a sound disk, the swap finishes', async () => {
  const { cluster, node } = await nodeMidSwap()
  cluster.spawn(node, { preload: PRELOAD, env: { EGRESS_SPEC_FAIL_FSYNC_DIR: 'node-a' } })
  expect(await exitOf(node)).toBe(EXIT_IO_ERROR)
  expect(await said(node, 'the node could not start: FSYNC_FAILED')).toBe(true)
  cluster.spawn(node)
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline && !(await node.isReadyLeader())) await Bun.sleep(100)
  expect(await node.isReadyLeader()).toBe(true)
  expect(await said(node, "interrupted keeping of a diverged log's shared part finished at start-up")).toBe(true)
}, 60_000)
