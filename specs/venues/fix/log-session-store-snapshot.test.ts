/**
 * The FIX numbers a snapshot carries (`fix-session:<venue>`) were the store's newest *settled* save at the capture. A
 * save under way then — its record already given an LSN below the snapshot's, durable by the time the snapshot is
 * written, its promise not settled yet — was left out. Compaction through the snapshot removes that record; a restart
 * before the session's next save then took the older numbers from the snapshot and logged on with a MsgSeqNum the
 * venue had already seen (the message the save was for had gone out): "MsgSeqNum too low", at every Logon.
 */

import { afterAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { nodeIo, Wal } from '../../../wal/index.ts'
import { restoreEngine, SnapshotStore, takeSnapshot } from '../../../src/runtime/snapshot/index.ts'
import { LogFixSessionStore, type FixSeqNumLog } from '../../../src/venues/fix/log-session-store.ts'
import { crashWorld, removeDir, T0 } from '../../runtime/harness.ts'
import { tradedWorld } from '../../runtime/snapshot/support.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

const WAL = { durability: 'none', preallocateBytes: 0, segmentBytesMax: 1 << 20 } as const

/** A traded world whose log holds a fix-session store's save of {40, 30}: the store, its log and the engine. */
async function storeSaved(seed: number) {
  const world = await tradedWorld(seed, 2)
  dirs.push(world.dir)
  const engine = world.gateway.engine
  const log: FixSeqNumLog = {
    append: (records) => engine.appendRecords(records),
    read: (fromLsn, toLsn) => engine.wal.read(fromLsn, { toLsn }),
    bounds: () => ({ firstLsn: engine.wal.firstLsn, lastLsn: engine.wal.lastLsn }),
  }
  const store = new LogFixSessionStore({ venue: 'broker-a', log })
  await store.load()
  await store.save({ nextSenderSeqNum: 40, nextTargetSeqNum: 30 })
  return { world, engine, log, store }
}

test('a save under way at the capture, its record below the snapshot\'s LSN, is in the snapshot: a restart from it after compaction resumes after the numbers used', async () => {
  const { world, engine, log, store } = await storeSaved(93)
  // The session saves before it writes MsgSeqNum 40; a kernel decision lands after the record, before the snapshot.
  const saving = store.save({ nextSenderSeqNum: 41, nextTargetSeqNum: 31 })
  const recordLsn = engine.appendedLsn
  void engine.submit({ kind: 'fund', nowMs: T0, principalId: 'olga', accountId: 'acct-a', asset: 'USD', amount: 1n, reference: 'fix-snapshot' })
  const snapshots = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 })
  const name = LogFixSessionStore.sectionName('broker-a')
  const taken = await takeSnapshot(engine, snapshots, { nowMs: T0, sections: [{ name, capture: () => store.capture() }] })
  await saving
  expect(taken?.lsn).toBeGreaterThan(recordLsn)
  await crashWorld(world)

  const wal = Wal.open(join(world.dir, 'log'), WAL)
  const restored = restoreEngine(wal, new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 }), { load: true })
  expect(restored.report.snapshot?.lsn).toBe(taken?.lsn as number)
  // Compacted through the snapshot: no record of the venue is left after it.
  const snapshotLsn = taken?.lsn as number
  const compacted: FixSeqNumLog = { ...log, bounds: () => ({ firstLsn: snapshotLsn + 1, lastLsn: snapshotLsn }) }
  const restart = new LogFixSessionStore({ venue: 'broker-a', log: compacted, restoredSection: () => restored.sections.get(name) })
  expect(await restart.load()).toEqual({ nextSenderSeqNum: 41, nextTargetSeqNum: 31 })
  expect(restart.loadedFrom).toBe('snapshot')
  await wal.close()
})

test('a save under way whose record comes after the snapshot\'s LSN is not in it: the snapshot keeps the numbers durable at its LSN', async () => {
  const { world, engine, log, store } = await storeSaved(94)
  const saving = store.save({ nextSenderSeqNum: 41, nextTargetSeqNum: 31 })
  const name = LogFixSessionStore.sectionName('broker-a')
  // No kernel decision after the record: the snapshot's LSN is the kernel's, below the record's.
  const taken = await takeSnapshot(engine, new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 }), { nowMs: T0, sections: [{ name, capture: () => store.capture() }] })
  await saving
  expect(taken?.lsn).toBeLessThan(engine.wal.lastLsn)
  await crashWorld(world)
  const wal = Wal.open(join(world.dir, 'log'), WAL)
  const restored = restoreEngine(wal, new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 2 }), { load: true })
  const section = restored.sections.get(name)
  expect(section === undefined ? null : JSON.parse(new TextDecoder().decode(section))).toEqual({ venue: 'broker-a', nextSenderSeqNum: 40, nextTargetSeqNum: 30 })
  // The record after the snapshot is in the log, and wins.
  const restart = new LogFixSessionStore({ venue: 'broker-a', log: { ...log, read: (fromLsn, toLsn) => wal.read(fromLsn, { toLsn }), bounds: () => ({ firstLsn: wal.firstLsn, lastLsn: wal.lastLsn }) }, restoredSection: () => section })
  expect(await restart.load()).toEqual({ nextSenderSeqNum: 41, nextTargetSeqNum: 31 })
  await wal.close()
})
