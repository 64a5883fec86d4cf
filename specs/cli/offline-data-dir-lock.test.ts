/**
 * The offline commands and a plain `egress serve` finish interrupted swaps only under the data dir's lock
 * (src/runtime/ha/data-dir-lock.ts), which a running HA node holds from its start to the end of its stop.
 *
 * They used to finish (or roll back) swaps before taking any lock: `egress snapshot` or `egress compact` run on the
 * data dir of a running HA node deleted its `log.recovering/` — a snapshot install being built, not committed yet — and
 * were refused only afterwards, by the log's lock (not even that while the node's gateway is stopped for the install,
 * the log's lock free). So did a second `egress serve` as it started. Now each is refused first, the build untouched.
 */

import { afterEach, expect, test } from 'bun:test'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startServeGateway } from '../../src/cli/serve-gateway.ts'
import { StoppableClock } from '../../src/cli/stoppable-clock.ts'
import { parseConfig } from '../../src/config/index.ts'
import { Gateway } from '../../src/runtime/index.ts'
import { lockDataDir } from '../../src/runtime/ha/index.ts'
import { LogDirLock } from '../../wal/index.ts'
import { startWorld, worldsStoppedAfterEach } from '../runtime/harness.ts'
import { leaderOptionsOf, takeoverNode } from '../runtime/ha/takeover-node.ts'
import { cli } from './io.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A running HA node (leading at once) whose data dir holds a snapshot install being built (`log.recovering/`). */
async function nodeBuildingAnInstall(seed: number): Promise<{ dataDir: string; build: string; stop: () => Promise<void> }> {
  const world = await startWorld({ seed })
  worlds.push(world)
  const { node, dataDir } = takeoverNode(
    cleanups,
    (dir, errors) => async (_role, lease, beforeBootstrap) => {
      if (lease === null) throw new Error('expected to lead at once')
      return Gateway.start(leaderOptionsOf(world, dir, errors, lease, beforeBootstrap))
    },
    { oldLeader: false, role: 'auto', leaseTtlMs: 5_000 },
  )
  await node.start()
  expect(node.role).toBe('leader')
  const build = join(dataDir, 'log.recovering')
  mkdirSync(build)
  writeFileSync(join(build, 'part'), 'half built')
  return { dataDir, build, stop: () => node.stop() }
}

test('egress snapshot and egress compact on a running HA node\'s data dir are refused before they touch its swap: the build in progress stays', async () => {
  const { dataDir, build, stop } = await nodeBuildingAnInstall(151)
  for (const argv of [['snapshot', dataDir], ['compact', dataDir]]) {
    const run = await cli(argv)
    expect({ argv, code: run.code }).toEqual({ argv, code: 1 })
    expect(run.err).toContain(`the directory ${dataDir} is open in another process`)
    expect(run.err).not.toContain('interrupted snapshot recovery')
    expect(existsSync(join(build, 'part'))).toBe(true)
  }
  // Once the node has stopped, the data dir is free: the leftover build is rolled back as a start would.
  await stop()
  const run = await cli(['snapshot', dataDir])
  expect(run.code).toBe(0)
  expect(run.err).toContain('interrupted snapshot recovery rolled back before the offline snapshot')
  expect(existsSync(build)).toBe(false)
}, 30_000)

test("a plain egress serve on a running HA node's data dir is refused before it touches its swap", async () => {
  const { dataDir, build } = await nodeBuildingAnInstall(152)
  const clock = new StoppableClock()
  cleanups.push(() => clock.cancelAll())
  const config = parseConfig({ dataDir, wal: { durability: 'none' }, auth: { hs256Secret: 'x'.repeat(32) }, backoffice: { reconcileIntervalMs: 86_400_000 } })
  const lines: string[] = []
  const started = await startServeGateway(config, { clock, buildCommit: 'spec', wal: { preallocateBytes: 0 }, onError: () => {}, log: (line) => void lines.push(line) }).then(
    async (served) => {
      await served.stop()
      return 'started'
    },
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  )
  expect(started).toContain(`the directory ${dataDir} is open in another process`)
  expect(lines).toEqual([])
  expect(existsSync(join(build, 'part'))).toBe(true)
}, 30_000)

test('an HA node whose data dir does not exist yet makes it, takes its lock and leads', async () => {
  const world = await startWorld({ seed: 153 })
  worlds.push(world)
  const { node, dataDir } = takeoverNode(
    cleanups,
    (dir, errors) => async (_role, lease, beforeBootstrap) => {
      if (lease === null) throw new Error('expected to lead at once')
      return Gateway.start(leaderOptionsOf(world, dir, errors, lease, beforeBootstrap))
    },
    { oldLeader: false, role: 'auto', leaseTtlMs: 5_000 },
  )
  rmSync(dataDir, { recursive: true, force: true })
  await node.start()
  expect({ role: node.role, lock: existsSync(join(dataDir, 'DATA_DIR_LOCK')) }).toEqual({ role: 'leader', lock: true })
}, 30_000)

test("egress compact --dry-run on the data dir of an HA node between two gateways (a takeover, a re-sync) is refused: it never takes the log's lock from under the node", async () => {
  // A node holds the data dir's lock all along, but its log's lock only while a gateway runs: a takeover stops the
  // standby gateway and opens the log again as leader, a re-sync stops it for its swap and opens the log to follow.
  // compact --dry-run took no data dir lock and opened the log as a replica (the log's lock): a node opening its log
  // meanwhile was refused (LOG_LOCKED) — a takeover that fails, a standby that cannot follow again (FOLLOW_FAILED).
  const world = await startWorld({ seed: 154 })
  worlds.push(world)
  await world.gateway.stop()
  const dataDir = world.dir
  const node = lockDataDir(dataDir, { create: false }) // the node, its gateway stopped: the log's lock is free
  try {
    const run = await cli(['compact', dataDir, '--dry-run'])
    expect(run.code).toBe(1)
    expect(run.err).toContain(`the directory ${dataDir} is open in another process`)
    // What the node's next gateway start does: open the log for writing. It must not find the log's lock taken.
    LogDirLock.acquire(join(dataDir, 'log')).release()
  } finally {
    node.release()
  }
  // The node gone, the dry run runs (and a dir no node ever ran on, without the lock file, is not given one).
  expect((await cli(['compact', dataDir, '--dry-run'])).code).toBe(0)
  rmSync(join(dataDir, 'DATA_DIR_LOCK'))
  expect((await cli(['compact', dataDir, '--dry-run'])).code).toBe(0)
  expect(existsSync(join(dataDir, 'DATA_DIR_LOCK'))).toBe(false)
}, 30_000)
