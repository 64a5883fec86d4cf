/**
 * An anchored open (a restart from a snapshot) reads only the headers and the last frames of the sealed segments below
 * the anchor (wal/segment-end.ts). It used to read only the headers and credit each skipped segment with every LSN up
 * to the next one's first: a segment missing in the middle went unseen until a read of its LSNs failed. Now it is
 * SEGMENT_MISSING naming the LSNs, as a full open refuses it.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FRAME_SEARCH_BASE_CRC_BYTES, frameSearchWork, nodeIo, openReadOnly, PAYLOAD_BYTES_MAX, Wal, WalCorruptionError, type WalIo } from '../../wal/index.ts'
import { FRAME_HEADER_BYTES, FRAME_PREFIX_BYTES } from '../../wal/frame.ts'
import { SEGMENT_END_PROBE_BYTES } from '../../wal/segment-end.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

async function buildLog(options: { segmentBytesMax: number; frames: number; payloadBytes: number }): Promise<string> {
  const dir = tempDir()
  const wal = Wal.open(dir, { segmentBytesMax: options.segmentBytesMax, durability: 'none', preallocateBytes: 0 })
  for (let lsn = 1; lsn <= options.frames; lsn += 10) {
    await wal.append(Array.from({ length: 10 }, (_, index) => record(`${lsn + index}:`.padEnd(options.payloadBytes, 'p'))))
  }
  await wal.close()
  return dir
}

function segmentFiles(dir: string): { path: string; firstLsn: number }[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.seg'))
    .sort()
    .map((name) => ({ path: join(dir, name), firstLsn: Number(name.slice(0, 20)) }))
}

function openError(open: () => unknown): WalCorruptionError {
  try {
    open()
  } catch (error) {
    if (error instanceof WalCorruptionError) return error
    throw error
  }
  throw new Error('expected a WalCorruptionError')
}

/** 56 bytes that decode as a frame of LSN `lsn` with an empty payload and a valid CRC (its chain hash all zeros). */
function frameLookalike(lsn: number): Uint8Array {
  const bytes = new Uint8Array(FRAME_HEADER_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, FRAME_HEADER_BYTES - FRAME_PREFIX_BYTES, true)
  view.setUint32(40, lsn, true)
  view.setUint16(52, 7, true)
  view.setUint16(54, 1, true)
  view.setUint32(4, Bun.hash.crc32(bytes.subarray(FRAME_PREFIX_BYTES)), true)
  return bytes
}

const SMALL = { segmentBytesMax: 4096, frames: 400, payloadBytes: 44 } as const
const WAL = { segmentBytesMax: SMALL.segmentBytesMax, durability: 'none', preallocateBytes: 0 } as const

describe('anchored open: a segment missing below the anchor', () => {
  test('a middle segment deleted is SEGMENT_MISSING naming its LSNs, anchored or not', async () => {
    const dir = await buildLog(SMALL)
    const segments = segmentFiles(dir)
    expect(segments.length).toBeGreaterThan(6)
    const victim = segments[3] as { path: string; firstLsn: number }
    const after = segments[4] as { path: string; firstLsn: number }
    unlinkSync(victim.path)
    const range = `LSNs ${victim.firstLsn}..${after.firstLsn - 1} are missing`
    for (const open of [
      () => Wal.open(dir, { ...WAL, chainAnchorLsn: 390 }),
      () => Wal.open(dir, WAL),
      () => openReadOnly(dir),
    ]) {
      const error = openError(open)
      expect({ code: error.code, file: error.location.file }).toEqual({ code: 'SEGMENT_MISSING', file: after.path })
      expect(error.message).toContain(range)
    }
  })

  test('the last segment below the anchor (the one before the anchor\'s) deleted is found too', async () => {
    const dir = await buildLog(SMALL)
    const segments = segmentFiles(dir)
    const anchorIndex = segments.findIndex((segment, index) => (segments[index + 1]?.firstLsn ?? Infinity) > 390)
    const victim = segments[anchorIndex - 1] as { path: string; firstLsn: number }
    const anchorSegment = segments[anchorIndex] as { path: string; firstLsn: number }
    unlinkSync(victim.path)
    const error = openError(() => Wal.open(dir, { ...WAL, chainAnchorLsn: 390 }))
    // Named at the segment after the hole, whose first LSN the log does not reach.
    expect({ code: error.code, file: error.location.file }).toEqual({ code: 'SEGMENT_MISSING', file: anchorSegment.path })
    expect(error.message).toContain(`LSNs ${victim.firstLsn}..${anchorSegment.firstLsn - 1} are missing`)
  })

  test('a skipped segment whose last frame is damaged is scanned whole and refused as a full open refuses it', async () => {
    const dir = await buildLog(SMALL)
    const victim = segmentFiles(dir)[2] as { path: string }
    const bytes = readFileSync(victim.path)
    bytes[bytes.byteLength - 3] = (bytes[bytes.byteLength - 3] as number) ^ 0x01
    writeFileSync(victim.path, bytes)
    const full = openError(() => Wal.open(dir, WAL))
    const anchored = openError(() => Wal.open(dir, { ...WAL, chainAnchorLsn: 390 }))
    expect({ code: anchored.code, lsn: anchored.location.lsn }).toEqual({ code: full.code, lsn: full.location.lsn })
  })

  test('a skipped segment whose tail is crafted so every fourth offset reads as a frame ending at its end: the probe gives up within its CRC budget', async () => {
    const dir = await buildLog(SMALL)
    const victim = segmentFiles(dir)[2] as { path: string }
    const bytes = readFileSync(victim.path)
    const tail = Buffer.alloc(2 << 20)
    const size = bytes.byteLength + tail.byteLength
    for (let at = tail.byteLength - 4; at >= 0; at -= 4) tail.writeUInt32LE(Math.max(0, size - (bytes.byteLength + at) - FRAME_PREFIX_BYTES), at)
    writeFileSync(victim.path, Buffer.concat([bytes, tail]))
    const full = openError(() => Wal.open(dir, WAL))
    const before = frameSearchWork.crcBytes
    const anchored = openError(() => Wal.open(dir, { ...WAL, chainAnchorLsn: 390 }))
    const work = frameSearchWork.crcBytes - before
    expect({ code: anchored.code, lsn: anchored.location.lsn }).toEqual({ code: full.code, lsn: full.location.lsn })
    // Before, the probe CRC-checked ~1 MiB at every fourth offset of its last MiB (~128 GiB: seconds per segment).
    expect(work).toBeGreaterThan(FRAME_SEARCH_BASE_CRC_BYTES)
    expect(work).toBeLessThanOrEqual(FRAME_SEARCH_BASE_CRC_BYTES + 2 * (FRAME_HEADER_BYTES + PAYLOAD_BYTES_MAX))
  })

  test('a last frame longer than the probe whose payload ends in a valid-looking frame does not hide a missing segment', async () => {
    // One 80 KiB record per segment. Record 2's payload ends with 56 bytes that read as a whole frame (length, CRC, LSN
    // 3) ending at the end of its segment, where the first 64 KiB window is searched; the real frame starts before it.
    const dir = tempDir()
    const wal = Wal.open(dir, { ...WAL, segmentBytesMax: 100 * 1024 })
    for (let lsn = 1; lsn <= 6; lsn++) {
      const payload = new Uint8Array(80 * 1024).fill(0x70)
      if (lsn === 2) payload.set(frameLookalike(3), payload.byteLength - FRAME_HEADER_BYTES)
      await wal.append([{ type: 7, version: 1, payload }])
    }
    await wal.close()
    const segments = segmentFiles(dir)
    expect(segments.map((segment) => segment.firstLsn)).toEqual([1, 2, 3, 4, 5, 6])
    // Whole, the log opens anchored: the lookalike is no frame of its own (record 2 is read back whole).
    const whole = Wal.open(dir, { ...WAL, segmentBytesMax: 100 * 1024, chainAnchorLsn: 5 })
    expect(whole.lastLsn).toBe(6)
    expect([...whole.read(2, { toLsn: 3 })].map((frame) => [frame.lsn, frame.payload.byteLength])).toEqual([[2, 80 * 1024], [3, 80 * 1024]])
    await whole.close()
    unlinkSync((segments[2] as { path: string }).path)
    const error = openError(() => Wal.open(dir, { ...WAL, segmentBytesMax: 100 * 1024, chainAnchorLsn: 5 }))
    expect({ code: error.code, file: error.location.file }).toEqual({ code: 'SEGMENT_MISSING', file: (segments[3] as { path: string }).path })
    expect(error.message).toContain('LSNs 3..3 are missing')
  })

  test('a whole log is still opened reading only each skipped segment\'s header and tail, not its frames', async () => {
    const dir = await buildLog({ segmentBytesMax: 512 * 1024, frames: 8000, payloadBytes: 200 })
    const segments = segmentFiles(dir)
    expect(segments.length).toBeGreaterThan(3)
    const readBytes = new Map<number, number>()
    const paths = new Map<number, string>()
    const io: WalIo = {
      ...nodeIo,
      openRead: (path) => {
        const fd = nodeIo.openRead(path)
        paths.set(fd, path)
        return fd
      },
      read: (fd, target, positionBytes) => {
        const count = nodeIo.read(fd, target, positionBytes)
        readBytes.set(fd, (readBytes.get(fd) ?? 0) + count)
        return count
      },
    }
    const wal = Wal.open(dir, { ...WAL, segmentBytesMax: 512 * 1024, io, chainAnchorLsn: 7990 })
    expect(wal.lastLsn).toBe(8000)
    expect(wal.recovery.skippedSegments).toBe(segments.length - 1)
    const byPath = new Map<string, number>()
    for (const [fd, bytes] of readBytes) byPath.set(paths.get(fd) as string, (byPath.get(paths.get(fd) as string) ?? 0) + bytes)
    // Its own header and tail, and its header once more as the next header after the skipped segment before it.
    for (const segment of segments.slice(0, -1)) expect(byPath.get(segment.path) ?? 0).toBeLessThanOrEqual(2 * 64 + SEGMENT_END_PROBE_BYTES)
    // Reads below the anchor still work (the frames are scanned when first read).
    expect([...wal.read(1, { toLsn: 3 })].map((frame) => frame.lsn)).toEqual([1, 2, 3])
    await wal.close()
  })
})
