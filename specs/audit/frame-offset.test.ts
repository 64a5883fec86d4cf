/**
 * Where a finding's frame starts (the self-check's file and byte offset): found from the log's sparse index, not by
 * reading the whole segment and walking it from its header. A segment may be up to 1 GiB and the walk runs on the
 * serving process's event loop just as tampering is found.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { frameOffset, frameOffsetReads } from '../../src/audit/frame-offset.ts'
import { Wal } from '../../wal/index.ts'
import { rawFrames } from './support.ts'
import { record, removeTempDirs, tempDir } from '../wal/support.ts'

afterEach(removeTempDirs)

const FRAMES = 4_000
const STRIDE = 64

async function oneSegmentLog(): Promise<Wal> {
  const wal = Wal.open(tempDir(), { segmentBytesMax: 64 * 1024 * 1024, durability: 'none', preallocateBytes: 0, indexStrideFrames: STRIDE })
  for (let lsn = 1; lsn <= FRAMES; lsn += 100) {
    await wal.append(Array.from({ length: 100 }, (_, index) => record(`${lsn + index}:`.padEnd(200, 'p'))))
  }
  return wal
}

describe('frameOffset', () => {
  test('gives every frame its offset, as a walk of the whole file does', async () => {
    const wal = await oneSegmentLog()
    try {
      const segment = wal.segments[0]
      if (segment === undefined) throw new Error('no segment')
      expect(wal.segments).toHaveLength(1)
      const frames = rawFrames(segment.path)
      expect(frames).toHaveLength(FRAMES)
      for (const frame of frames) expect(frameOffset(segment, frame.lsn)).toBe(frame.offset)
      // Without the index, from the header: the same offsets.
      for (const lsn of [1, 2, STRIDE, STRIDE + 1, FRAMES]) expect(frameOffset({ path: segment.path, firstLsn: segment.firstLsn }, lsn)).toBe(frames[lsn - 1]?.offset as number)
    } finally {
      await wal.close()
    }
  })

  test('reads about one index stride for a frame near the end of a large segment, not the file', async () => {
    const wal = await oneSegmentLog()
    try {
      const segment = wal.segments[0]
      if (segment === undefined) throw new Error('no segment')
      const fileBytes = statSync(segment.path).size
      expect(fileBytes).toBeGreaterThan(900_000)
      frameOffsetReads.bytes = 0
      expect(frameOffset(segment, FRAMES - 1)).toBe(rawFrames(segment.path)[FRAMES - 2]?.offset as number)
      // One chunked window from the index point before it (64 frames of ~260 bytes fit in one 64 KiB read).
      expect(frameOffsetReads.bytes).toBeLessThanOrEqual(64 * 1024)
      expect(frameOffsetReads.bytes).toBeLessThan(fileBytes / 10)
    } finally {
      await wal.close()
    }
  })

  test('0 when the frame lies past the file or the file cannot be read', async () => {
    const wal = await oneSegmentLog()
    try {
      const segment = wal.segments[0]
      if (segment === undefined) throw new Error('no segment')
      expect(frameOffset({ path: segment.path, firstLsn: 1 }, FRAMES + 5)).toBe(0)
      expect(frameOffset({ path: `${segment.path}.gone`, firstLsn: 1 }, 3)).toBe(0)
    } finally {
      await wal.close()
    }
  })
})
