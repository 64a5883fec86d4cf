// A kill -9 between a batch's write and its fdatasync leaves the batch in the page cache; the next open reads it as
// the log's end. Unless that open syncs it, a power cut before the new run's first batch sync takes it away again —
// after the run has already named it (a snapshot, the anchors file's start line), so the log would then end below
// durable evidence (LOG_BEHIND_ANCHOR / LOG_BEHIND_SNAPSHOT at the next start).
import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { openReadOnly, Wal, type WalIo } from '../../wal/index.ts'
import { powerCutIo } from '../support/power-cut-io.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterAll(removeTempDirs)

/** `io` whose batch syncs do nothing while `lost.on`: the process dies before its sync reached the disk. */
function syncsLostWhile(io: WalIo, lost: { on: boolean }): WalIo {
  return {
    ...io,
    fdatasync: (fd) => (lost.on ? undefined : io.fdatasync(fd)),
    fdatasyncOffLoop: (fd, done) => (lost.on ? queueMicrotask(() => done(null)) : io.fdatasyncOffLoop(fd, done)),
  }
}

describe('a writable open', () => {
  test('makes the frames it finds durable: what it reports as the end survives a power cut before the first new batch', async () => {
    const root = tempDir()
    const scratch = tempDir()
    const io = powerCutIo(root)
    const lost = { on: false }
    const options = { io: syncsLostWhile(io, lost), durability: 'fsync', preallocateBytes: 0 } as const
    const first = Wal.open(root, options)
    expect(await first.append([record('synced 1'), record('synced 2')])).toEqual([1, 2])
    lost.on = true
    // Written, never synced; the process is killed (the page cache keeps the bytes).
    expect(await first.append([record('unsynced 3'), record('unsynced 4')])).toEqual([3, 4])
    first.abandonAsCrashed()
    lost.on = false

    const second = Wal.open(root, options)
    // The run that opened it reports LSN 4 as its end and would name it (a snapshot, an anchors file's start line).
    expect(second.lastLsn).toBe(4)
    // The power goes before this run's first batch.
    io.materialize(join(scratch, 'after-cut'), () => true)
    expect(openReadOnly(join(scratch, 'after-cut')).lastLsn).toBe(4)
    second.abandonAsCrashed()
  })
})
