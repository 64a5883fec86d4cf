// A kill -9 between a batch's write and its fdatasync leaves the batch in the page cache; the next open reads it as
// the log's end. Unless that open syncs it, a power cut before the new run's first batch sync takes it away again —
// after the run has already named it (a snapshot, the anchors file's start line), so the log would then end below
// durable evidence (LOG_BEHIND_ANCHOR / LOG_BEHIND_SNAPSHOT at the next start).
import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { nodeIo, openReadOnly, Wal, type WalIo } from '../../wal/index.ts'
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

  test('writes again only what the last batch can span before its sync: the last batchBytesMax bytes, or the last append whole', async () => {
    const dir = tempDir()
    const writes: { positionBytes: number; bytes: number }[] = []
    const io: WalIo = { ...nodeIo, write: (fd, data, positionBytes) => {
      writes.push({ positionBytes, bytes: data.byteLength })
      nodeIo.write(fd, data, positionBytes)
    } }
    const options = { io, durability: 'fsync', preallocateBytes: 0, batchBytesMax: 4096 } as const
    const first = Wal.open(dir, options)
    for (let index = 0; index < 40; index++) await first.append([record(`small ${index} `.padEnd(200, '.'))])
    await first.close()
    const segment = join(dir, '00000000000000000001.seg')
    const endBytes = Bun.file(segment).size
    writes.length = 0
    await Wal.open(dir, options).close()
    expect(writes.length).toBeGreaterThan(0)
    expect(Math.min(...writes.map((write) => write.positionBytes))).toBe(endBytes - 4096)
    expect(Math.max(...writes.map((write) => write.positionBytes + write.bytes))).toBe(endBytes)

    // The last append larger than a batch: written again from its first frame.
    const second = Wal.open(dir, options)
    await second.append(['x', 'y', 'z'].map((letter) => record(letter.repeat(3000))))
    await second.close()
    const bigStartBytes = endBytes
    writes.length = 0
    await Wal.open(dir, options).close()
    expect(Math.min(...writes.map((write) => write.positionBytes))).toBe(bigStartBytes)

    // Nothing is written again where nothing is synced.
    writes.length = 0
    await Wal.open(dir, { ...options, durability: 'none' }).close()
    expect(writes).toEqual([])
  })
})
