// A directory that cannot be opened for its fsync (EMFILE: too many open files) while a running gateway snapshots or
// compacts. The FSYNC_FAILED wrappers used to cover the open too, so the log halted as if an fsync had failed. No fsync
// was attempted: now that snapshot (or compaction) fails with DIRECTORY_OPEN_FAILED and the log goes on; the snapshot
// is not counted as taken (its file is removed again, so the next take writes it). A failed fsync stays fatal
// (fsync-fatal.test.ts). The open failure here is node:fs's own (a path that does not exist stands in for EMFILE).
import { describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, type WalIo } from '../../../wal/index.ts'
import { snapshotFileName } from '../../../src/runtime/snapshot/index.ts'
import { run, startWorld, traderA, worldsStoppedAfterEach, type World } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()

/** node:fs, except that while armed the directory fsyncs whose path `matches` fail to open the directory. */
function unopenableDirIo(matches: (path: string) => boolean): { io: WalIo; arm: (armed: boolean) => void; failures: () => number } {
  const state = { armed: false, failures: 0 }
  const io: WalIo = {
    ...nodeIo,
    fsyncDirectory: (path) => {
      if (!state.armed || !matches(path)) return nodeIo.fsyncDirectory(path)
      state.failures++
      nodeIo.fsyncDirectory(join(path, 'not-openable')) // the real open fails: ENOENT
    },
  }
  return { io, arm: (armed) => void (state.armed = armed), failures: () => state.failures }
}

async function placeOne(world: World, tag: string): Promise<string> {
  const body = { account: 'acct-a', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.01', price: '59500', client_order_id: tag }
  const placed = await world.gateway.place(traderA, body, null)
  return placed.reply.kind
}

describe('a directory not opened for its fsync fails the snapshot or compaction, not the log', () => {
  test('the snapshot directory: DIRECTORY_OPEN_FAILED, not counted, no file left; the log goes on and the next take writes it', async () => {
    const faulty = unopenableDirIo((path) => path.endsWith('/snapshots'))
    const world = await startWorld({ seed: 3521, wal: { segmentBytesMax: 4096 }, snapshots: { io: faulty.io, atShutdown: false } })
    worlds.push(world)
    await trade(world, { orders: 8, tag: 'd3521', seed: 3521 })
    await run(world, 100)
    faulty.arm(true)
    const outcome = await world.gateway.snapshot().then(() => 'done', (error: unknown) => String(error))
    expect(faulty.failures()).toBeGreaterThan(0)
    expect(outcome).toContain('DIRECTORY_OPEN_FAILED')
    expect(outcome).not.toContain('FSYNC_FAILED')
    expect(world.gateway.engine.wal.fatalError).toBeNull()
    const lsn = world.gateway.engine.wal.lastLsn
    expect(existsSync(join(world.dir, 'snapshots', snapshotFileName(lsn)))).toBe(false)
    expect(await placeOne(world, 'after-dir-open-failure')).toBe('accepted')
    await run(world, 100)
    faulty.arm(false)
    const taken = await world.gateway.snapshot()
    expect(taken?.lsn).toBe(world.gateway.engine.wal.lastLsn)
    expect(existsSync(join(world.dir, 'snapshots', snapshotFileName(taken?.lsn ?? 0)))).toBe(true)
  })

  test('the log directory after compaction removed segments: DIRECTORY_OPEN_FAILED, the log goes on', async () => {
    const faulty = unopenableDirIo((path) => path.endsWith('/log'))
    const world = await startWorld({ seed: 3522, wal: { segmentBytesMax: 4096, io: faulty.io }, snapshots: { keep: 1, atShutdown: false, compaction: 'delete' } })
    worlds.push(world)
    await trade(world, { orders: 25, tag: 'c3522', seed: 3522 })
    await run(world, 100)
    const firstLsnBefore = world.gateway.engine.wal.firstLsn
    faulty.arm(true)
    const outcome = await world.gateway.snapshot().then(() => 'done', (error: unknown) => String(error))
    faulty.arm(false)
    expect(faulty.failures()).toBe(1)
    expect(outcome).toContain('DIRECTORY_OPEN_FAILED')
    expect(world.gateway.engine.wal.firstLsn).toBeGreaterThan(firstLsnBefore) // removed before the directory fsync
    expect(world.gateway.engine.wal.fatalError).toBeNull()
    expect(await placeOne(world, 'after-compaction-dir-open-failure')).toBe('accepted')
  })
})
