// The offline tools (`egress snapshot`, `egress compact`) on a data dir: refused while a gateway writes its log (the
// log directory's lock, wal/dir-lock.ts), and usable on any stopped log, whatever epoch its frames carry.
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { compactOffline, snapshotOffline } from '../../../src/runtime/snapshot/index.ts'
import { openReadOnly, WalLockedError } from '../../../wal/index.ts'
import { removeDir, startWorld, type World } from '../harness.ts'
import { trade } from './support.ts'

const worlds: World[] = []
afterAll(async () => {
  for (const world of worlds) {
    await world.gateway.stop().catch(() => undefined)
    removeDir(world.dir)
  }
})

function snapshotFiles(dir: string): string[] {
  if (!existsSync(join(dir, 'snapshots'))) return []
  return readdirSync(join(dir, 'snapshots')).filter((name) => name.endsWith('.snap') || name.endsWith('.tmp')).sort()
}

describe('offline snapshot and compaction', () => {
  test('egress snapshot is refused (LOG_LOCKED) while a gateway writes the log, and writes nothing', async () => {
    const world = await startWorld({ seed: 801, wal: { segmentBytesMax: 4096 }, snapshots: { atShutdown: false } })
    worlds.push(world)
    await trade(world, { orders: 12, tag: 'lock', seed: 801 })
    const before = snapshotFiles(world.dir)
    // Before the fix the read-only open raced the writer: the snapshot could name a batch written but not yet synced
    // (a crash then leaves a snapshot beyond the log's end, and the gateway refuses to start), and its store removed
    // the running gateway's snapshot temp files and pruned by its own `keep`.
    expect(() => snapshotOffline(world.dir, { keep: 1, nowMs: 0 })).toThrow(WalLockedError)
    expect(snapshotFiles(world.dir)).toEqual(before)
    await expect(compactOffline(world.dir, { mode: 'delete', archiveDir: null, keep: 3, dryRun: false })).rejects.toThrow(WalLockedError)
    await world.gateway.stop()
    // Stopped, both run.
    expect(snapshotOffline(world.dir, { keep: 3, nowMs: 0 }).written).not.toBeNull()
    expect((await compactOffline(world.dir, { mode: 'delete', archiveDir: null, keep: 3, dryRun: false })).basis).not.toBeNull()
  }, 60_000)

  test('the progress it reports names the log\'s last LSN, so the share done climbs to 100 % (it was always 100 %)', async () => {
    const world = await startWorld({ seed: 803, snapshots: { atShutdown: false } })
    worlds.push(world)
    await trade(world, { orders: 10, tag: 'progress', seed: 803 })
    await world.gateway.stop()
    const lastLsn = openReadOnly(join(world.dir, 'log')).lastLsn
    const told: { lsn: number; lastLsn: number }[] = []
    snapshotOffline(world.dir, { keep: 3, nowMs: 0, progressEveryRecords: 5, onProgress: (lsn, last) => told.push({ lsn, lastLsn: last }) })
    expect(told.length).toBeGreaterThan(2)
    expect(told.every((progress) => progress.lastLsn === lastLsn)).toBe(true)
    expect(told[0]!.lsn).toBeLessThan(lastLsn)
  }, 60_000)

  test('egress compact works on a stopped log whose frames carry an epoch above 1 (an HA node\'s)', async () => {
    const world = await startWorld({ seed: 802, wal: { segmentBytesMax: 4096, epoch: 3 }, snapshots: { atShutdown: false } })
    worlds.push(world)
    await trade(world, { orders: 30, tag: 'epoch', seed: 802 })
    await world.gateway.stop()
    expect(openReadOnly(join(world.dir, 'log')).lastEpoch).toBe(3)
    expect(snapshotOffline(world.dir, { keep: 3, nowMs: 0 }).written).not.toBeNull()
    // Before the fix: LeaseError LEASE_LOST ("the log holds frames of epoch 3; this writer has epoch 1").
    const result = await compactOffline(world.dir, { mode: 'delete', archiveDir: null, keep: 3, dryRun: false })
    expect(result.removed.length).toBeGreaterThan(0)
    const log = openReadOnly(join(world.dir, 'log'))
    expect(log.firstLsn).toBe(result.firstLsnAfter)
    expect(log.lastEpoch).toBe(3)
  }, 60_000)
})
