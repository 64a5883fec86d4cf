// A running gateway's compaction removes its segments one per turn of the event loop (compact-turns.ts). Each
// removal is fsynced on its own (a directory fsync, two when archiving) so a power cut leaves a suffix of the log; done
// in one go, a compaction of N segments held the loop for N of those synchronous fsyncs, where it had held it for one:
// intake, venue reports, replication and lease renewals waited (seconds for hundreds of segments on a loaded disk).
import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, type WalIo } from '../../../wal/index.ts'
import { COMPACTION_SEGMENTS_PER_TURN } from '../../../src/runtime/snapshot/compact-turns.ts'
import { run, startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()

/** The log's io, noting for each segment removed (unlinked or moved to the archive) the turn of the event loop it ran in. */
function turnNotingIo(): { io: WalIo; turnsOfRemovals: number[]; startTurns: () => () => void } {
  let turn = 0
  const turnsOfRemovals: number[] = []
  const io: WalIo = {
    ...nodeIo,
    unlink: (path) => {
      if (path.endsWith('.seg')) turnsOfRemovals.push(turn)
      nodeIo.unlink(path)
    },
    rename: (from, to) => {
      if (to.includes('/archive/') && to.endsWith('.seg')) turnsOfRemovals.push(turn)
      nodeIo.rename(from, to)
    },
  }
  // A turn ends each time the loop gets to its macrotasks: a setImmediate that counts them, re-armed until stopped.
  const startTurns = (): (() => void) => {
    let on = true
    const tick = (): void => {
      if (!on) return
      turn++
      setImmediate(tick)
    }
    setImmediate(tick)
    return () => void (on = false)
  }
  return { io, turnsOfRemovals, startTurns }
}

describe('automatic compaction of many segments', () => {
  for (const mode of ['delete', 'archive'] as const) {
    test(`${mode}: removes them all, at most ${COMPACTION_SEGMENTS_PER_TURN} per turn of the event loop`, async () => {
      const noting = turnNotingIo()
      const world = await startWorld({ seed: 4101, wal: { segmentBytesMax: 4096, io: noting.io }, snapshots: { keep: 1, atShutdown: false, compaction: mode } })
      worlds.push(world)
      await trade(world, { orders: 40, tag: `turns-${mode}`, seed: 4101 })
      await run(world, 100)
      const segmentsBefore = world.gateway.engine.wal.segments.length
      const stopTurns = noting.startTurns()
      const taken = await world.gateway.snapshot()
      stopTurns()
      expect(taken).not.toBeNull()
      const compaction = world.gateway.snapshotter.stats.lastCompaction
      // Everything below the snapshot went: the log now starts at the segment holding its LSN.
      const basisLsn = compaction?.basis?.lsn ?? 0
      const first = world.gateway.engine.wal.segments[0]
      expect(first !== undefined && first.firstLsn <= basisLsn && basisLsn <= first.lastLsn).toBe(true)
      const removed = compaction?.removed ?? []
      expect(removed.length).toBeGreaterThan(3 * COMPACTION_SEGMENTS_PER_TURN)
      expect(removed.length).toBe(segmentsBefore - world.gateway.engine.wal.segments.length)
      expect(noting.turnsOfRemovals).toHaveLength(removed.length)
      for (const name of removed) expect(existsSync(join(world.dir, 'log', name))).toBe(false)
      if (mode === 'archive') expect(readdirSync(join(world.dir, 'archive')).filter((name) => name.endsWith('.seg')).sort()).toEqual([...removed].sort())
      // Never more than COMPACTION_SEGMENTS_PER_TURN removals without the loop getting its turn.
      const perTurn = new Map<number, number>()
      for (const turn of noting.turnsOfRemovals) perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1)
      expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(COMPACTION_SEGMENTS_PER_TURN)
      expect(perTurn.size).toBeGreaterThanOrEqual(Math.ceil(removed.length / COMPACTION_SEGMENTS_PER_TURN))
    }, 60_000)
  }
})

describe('a stop in the middle of a compaction', () => {
  test('ends it after the segment being removed; the next start opens the log and its compaction removes the rest', async () => {
    const noting = turnNotingIo()
    let stopping: Promise<void> | null = null
    const world = await startWorld({
      seed: 4102,
      wal: {
        segmentBytesMax: 4096,
        io: { ...noting.io, unlink: (path) => {
          noting.io.unlink(path)
          if (path.endsWith('.seg') && stopping === null) stopping = world.gateway.stop()
        } },
      },
      snapshots: { keep: 1, atShutdown: true, compaction: 'delete' },
    })
    worlds.push(world)
    await trade(world, { orders: 40, tag: 'turns-stop', seed: 4102 })
    await run(world, 100)
    const segmentsBefore = world.gateway.engine.wal.segments.length
    await world.gateway.snapshot()
    expect(stopping).not.toBeNull()
    await stopping
    // The stop did not wait for the whole compaction: it ended after the removal under way when it came.
    const stopped = world.gateway.snapshotter.stats.lastCompaction
    const boundLsn = stopped?.boundLsn ?? 0
    expect(stopped?.removed.length).toBeLessThanOrEqual(2)
    const segmentsLeft = readdirSync(join(world.dir, 'log')).filter((name) => name.endsWith('.seg')).length
    expect(segmentsLeft).toBeGreaterThan(segmentsBefore / 2)
    const restarted = await startWorld({ seed: 4102, dir: world.dir, clock: world.clock, venue: world.venue, wal: { segmentBytesMax: 4096 }, snapshots: { keep: 1, compaction: 'delete' } })
    worlds.push(restarted)
    expect(restarted.gateway.engine.wal.firstLsn).toBe(stopped?.firstLsnAfter ?? -1)
    await trade(restarted, { orders: 5, tag: 'turns-stop-2', seed: 4103 })
    await run(restarted, 100)
    expect(await restarted.gateway.snapshot()).not.toBeNull()
    const next = restarted.gateway.snapshotter.stats.lastCompaction
    expect(next?.boundLsn ?? 0).toBeGreaterThan(boundLsn)
    const first = restarted.gateway.engine.wal.segments[0]
    expect(first !== undefined && first.firstLsn <= (next?.boundLsn ?? 0) && (next?.boundLsn ?? 0) <= first.lastLsn).toBe(true)
  }, 60_000)
})

describe('a reader that holds the log (log-holds.ts)', () => {
  test('taken between two turns of a compaction, stops it where it is; once let go, the next compaction removes the rest', async () => {
    let release: (() => void) | null = null
    const world = await startWorld({
      seed: 4104,
      wal: {
        segmentBytesMax: 4096,
        io: { ...nodeIo, unlink: (path) => {
          nodeIo.unlink(path)
          // A live verification starting right after the first removal holds the log from its first LSN now.
          if (path.endsWith('.seg') && release === null) release = world.gateway.logHolds.hold(world.gateway.engine.wal.firstLsn)
        } },
      },
      snapshots: { keep: 1, atShutdown: false, compaction: 'delete' },
    })
    worlds.push(world)
    await trade(world, { orders: 40, tag: 'holds', seed: 4104 })
    await run(world, 100)
    const segmentsBefore = world.gateway.engine.wal.segments.length
    expect(await world.gateway.snapshot()).not.toBeNull()
    // The removal under way when the hold came went; none after it.
    expect(world.gateway.snapshotter.stats.lastCompaction?.removed).toHaveLength(1)
    expect(world.gateway.engine.wal.segments.length).toBe(segmentsBefore - 1)
    // While held, a new snapshot's compaction removes nothing.
    await trade(world, { orders: 2, tag: 'holds-2', seed: 4105 })
    await run(world, 100)
    expect(await world.gateway.snapshot()).not.toBeNull()
    expect(world.gateway.snapshotter.stats.lastCompaction?.removed).toHaveLength(0)
    ;(release as (() => void) | null)?.()
    expect(world.gateway.logHolds.size).toBe(0)
    await trade(world, { orders: 2, tag: 'holds-3', seed: 4106 })
    await run(world, 100)
    expect(await world.gateway.snapshot()).not.toBeNull()
    const after = world.gateway.snapshotter.stats.lastCompaction
    expect(after?.removed.length).toBeGreaterThan(3)
    const first = world.gateway.engine.wal.segments[0]
    const basisLsn = after?.basis?.lsn ?? 0
    expect(first !== undefined && first.firstLsn <= basisLsn && basisLsn <= first.lastLsn).toBe(true)
  }, 60_000)
})
