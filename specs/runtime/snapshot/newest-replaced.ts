/**
 * Shared by the specs of a newest snapshot that a start would not use (damaged-newest, unusable-newest): what a start
 * loads, and a running engine's snapshot at the log's last LSN replacing the file there.
 */

import { expect } from 'bun:test'
import { join } from 'node:path'
import { Engine } from '../../../src/runtime/index.ts'
import { loadNewestValid, SnapshotStore, takeSnapshot } from '../../../src/runtime/snapshot/index.ts'
import { nodeIo, openReadOnly, Wal } from '../../../wal/index.ts'

/** The LSN of the snapshot a start in `dir` loads, or null. */
export function newestValid(dir: string): number | null {
  const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 3 })
  return loadNewestValid(store, openReadOnly(join(dir, 'log'))).loaded?.lsn ?? null
}

/**
 * A running engine replayed from `dir`'s log (which ends at `lsn`, no record since the newest snapshot) takes a snapshot
 * at `lsn`, replacing the file there; a second one finds nothing to do; a start then loads it.
 */
export async function expectRunningSnapshotReplaces(dir: string, lsn: number, nowMs: number): Promise<void> {
  const wal = Wal.open(join(dir, 'log'), { durability: 'none', preallocateBytes: 0 })
  try {
    const engine = Engine.replay(wal)
    expect(engine.state.lastLsn).toBe(lsn)
    const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 3 })
    const taken = await takeSnapshot(engine, store, { nowMs })
    expect(taken?.lsn).toBe(lsn)
    expect(await takeSnapshot(engine, store, { nowMs })).toBeNull()
  } finally {
    await wal.close()
  }
  expect(newestValid(dir)).toBe(lsn)
}
