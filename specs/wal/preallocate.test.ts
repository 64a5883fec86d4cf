import { afterEach, describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { Wal, nodeIo, type WalIo } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

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
})
