import { afterEach, describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { Wal, nodeIo, type WalIo } from '../../wal/index.ts'
import { countingIo, record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

const MIB = 1024 * 1024
const STEP = 256 * 1024

/** The real I/O layer, noting the size of every write. */
function noteWrites(sizes: number[]): WalIo {
  return { ...nodeIo, write: (fd, data, positionBytes) => (sizes.push(data.byteLength), nodeIo.write(fd, data, positionBytes)) }
}

describe('preallocation', () => {
  test('the zero-filled lead is built and kept up a step per batch, never megabytes of zeros in one batch', async () => {
    const sizes: number[] = []
    const dir = tempDir()
    const wal = Wal.open(dir, { io: noteWrites(sizes), preallocateBytes: 4 * MIB, durability: 'none' })
    const segment = join(dir, wal.segments[0]?.name ?? '')
    sizes.length = 0
    await wal.append([record('first')])
    // The first batch: its own bytes and one step of zeros ahead.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(STEP)
    expect(statSync(segment).size).toBeGreaterThanOrEqual(STEP)
    expect(statSync(segment).size).toBeLessThan(2 * STEP)
    const payload = 'x'.repeat(4000)
    for (let batch = 0; batch < 40; batch++) await wal.append(Array.from({ length: 8 }, () => record(payload)))
    expect(Math.max(...sizes)).toBeLessThanOrEqual(STEP)
    // 41 batches, one step each: the lead grew to (about) its full 4 MiB beyond the ~1.3 MB of frames.
    const written = wal.segments[0]?.sizeBytes ?? 0
    expect(statSync(segment).size - written).toBeGreaterThanOrEqual(4 * MIB - STEP)
    await wal.close()
    // Closing trims the zeros: the segment ends at its last frame, and every record reads back.
    expect(statSync(segment).size).toBe(written)
    const reopened = Wal.open(dir)
    expect(reopened.lastLsn).toBe(321)
    await reopened.close()
  })

  test('under fsync the zeros are written off the event loop beside the sync; no batch is written or acknowledged until they are back', async () => {
    const base = countingIo()
    const zeroWrites: { sizeBytes: number; release: () => void }[] = []
    const io: WalIo = {
      ...base,
      writeOffLoop: (fd, data, positionBytes, done) => {
        base.counts.writeOffLoop++
        zeroWrites.push({ sizeBytes: data.byteLength, release: () => nodeIo.writeOffLoop(fd, data, positionBytes, done) })
      },
    }
    const dir = tempDir()
    const wal = Wal.open(dir, { io, preallocateBytes: 4 * MIB, durability: 'fsync' })
    const segment = join(dir, wal.segments[0]?.name ?? '')
    const writesBefore = base.counts.write
    let acknowledged = false
    const first = wal.append([record('first')]).then((lsns) => ((acknowledged = true), lsns))
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
    for (let index = 0; index < 5; index++) await turn()
    // The frame went out on the loop; its step of zeros waits off it, and holds the batch back.
    expect(base.counts.write - writesBefore).toBe(1)
    expect(zeroWrites.map((step) => step.sizeBytes)).toEqual([STEP])
    const second = wal.append([record('second')])
    for (let index = 0; index < 5; index++) await turn()
    expect(acknowledged).toBe(false)
    expect(wal.lastLsn).toBe(0)
    expect(base.counts.write - writesBefore).toBe(1) // the next batch waits: nothing is written under pending zeros
    zeroWrites.shift()?.release()
    expect(await first).toEqual([1])
    for (let index = 0; index < 5 && zeroWrites.length === 0; index++) await turn()
    zeroWrites.shift()?.release()
    expect(await second).toEqual([2])
    expect(statSync(segment).size).toBeGreaterThanOrEqual(2 * STEP)
    expect(base.counts.write - writesBefore).toBe(2)
    await wal.close()
    expect(statSync(segment).size).toBe(wal.segments[0]?.sizeBytes ?? -1)
    const reopened = Wal.open(dir)
    expect([...reopened.read(1)].map((frame) => frame.lsn)).toEqual([1, 2])
    await reopened.close()
  })

  test('a failed write of the zeros acknowledges the batch its sync made durable, then stops the log; nothing is retried', async () => {
    const io = countingIo()
    const dir = tempDir()
    const wal = Wal.open(dir, { io, preallocateBytes: 4 * MIB, durability: 'fsync' })
    io.failNext('writeOffLoop', 'ENOSPC')
    // The frame was written before the zeros were issued, and synced: it is durable, so it is acknowledged.
    expect(await wal.append([record('durable')])).toEqual([1])
    expect(wal.lastLsn).toBe(1)
    expect(wal.fatalError?.message).toContain('ENOSPC')
    await expect(wal.append([record('after')])).rejects.toThrow('ENOSPC')
    expect(io.counts.writeOffLoop).toBe(1)
    await wal.close()
    const reopened = Wal.open(dir)
    expect([...reopened.read(1)].map((frame) => frame.lsn)).toEqual([1])
    await reopened.close()
  })

  test('an append queued behind a batch whose zeros fail is rejected, not written', async () => {
    const io = countingIo()
    const wal = Wal.open(tempDir(), { io, preallocateBytes: 4 * MIB, durability: 'fsync' })
    io.failNext('writeOffLoop', 'EIO')
    const first = wal.append([record('first')])
    await new Promise((resolve) => setImmediate(resolve)) // the first batch is written; its sync and zeros are in flight
    const queued = wal.append([record('queued')]) // the next batch: written only after both came back
    const queuedSettled = queued.then(
      () => 'acknowledged',
      (error: Error) => error.message,
    )
    expect(await first).toEqual([1])
    expect(await queuedSettled).toContain('EIO')
    expect(wal.lastLsn).toBe(1)
    await wal.close()
  })
})
