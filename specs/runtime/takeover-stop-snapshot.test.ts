/**
 * A gateway stopped for an HA takeover (HaNode stops its standby gateway, then starts a leader on the same data dir)
 * skips its shutdown snapshot when the leader's start replays the records after the newest snapshot for less than
 * the snapshot costs to write and load (snapshotter.ts takesShutdownSnapshot). With 100k orders the snapshot added
 * 2.8 s to a takeover (scripts/bench-takeover-stop.ts). A stop for any other reason still takes it, and so does one for
 * a takeover when the log is far behind its newest snapshot (the leader's replay would cost more).
 */

import { afterEach, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { Gateway } from '../../src/runtime/index.ts'
import { TAKEOVER_REPLAY_RECORDS_PER_ORDER } from '../../src/runtime/snapshot/snapshotter.ts'
import { standbyOptionsOf, startWorld, worldsStoppedAfterEach, type World } from './harness.ts'
import { waitFor } from './ha/support.ts'
import { leaderOptionsOf, takeoverNode } from './ha/takeover-node.ts'
import { trade } from './snapshot/support.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function snapshotFiles(world: World): string[] {
  return readdirSync(join(world.dir, 'snapshots')).filter((name) => name.endsWith('.snap')).sort()
}

async function tradedWithSnapshot(seed: number): Promise<{ world: World; before: string[] }> {
  const world = await startWorld({ seed })
  worlds.push(world)
  await trade(world, { orders: 20, tag: 'a', seed })
  await world.gateway.snapshot()
  // A few records after the snapshot: far fewer than TAKEOVER_REPLAY_RECORDS_PER_ORDER per hot order.
  await trade(world, { orders: 2, tag: 'b', seed })
  const before = snapshotFiles(world)
  expect(before.length).toBe(1)
  return { world, before }
}

test('a stop for a takeover, the log a few records past the newest snapshot: no shutdown snapshot', async () => {
  const { world, before } = await tradedWithSnapshot(61)
  await world.gateway.stop({ forTakeover: true })
  expect(snapshotFiles(world)).toEqual(before)
}, 30_000)

test('the same state stopped for any other reason: the shutdown snapshot is written', async () => {
  const { world, before } = await tradedWithSnapshot(61)
  await world.gateway.stop()
  expect(snapshotFiles(world).length).toBe(before.length + 1)
}, 30_000)

test('a stop for a takeover with the log far behind its newest snapshot (none here): the shutdown snapshot is written', async () => {
  const world = await startWorld({ seed: 62 })
  worlds.push(world)
  await trade(world, { orders: 20, tag: 'a', seed: 62 })
  const { wal, state } = world.gateway.engine
  expect(wal.lastLsn).toBeGreaterThan(TAKEOVER_REPLAY_RECORDS_PER_ORDER * state.orders.size)
  await world.gateway.stop({ forTakeover: true })
  expect(snapshotFiles(world).length).toBe(1)
}, 30_000)

test("an HA takeover stops its standby gateway as a stop for a takeover", async () => {
  const world = await startWorld({ seed: 63 })
  worlds.push(world)
  const standbyStops: unknown[] = []
  const { node } = takeoverNode(cleanups, (dataDir, errors) => async (role, lease, beforeBootstrap) => {
    if (role === 'leader' && lease !== null) return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
    const standby = await Gateway.start(standbyOptionsOf(world, dataDir, errors))
    const stop = standby.stop.bind(standby)
    standby.stop = (options) => {
      standbyStops.push(options)
      return stop(options)
    }
    return standby
  })
  await node.start()
  await waitFor(() => node.role === 'leader', 5_000, 'the takeover')
  expect(standbyStops).toEqual([{ forTakeover: true }])
}, 30_000)
