/**
 * An anchored open (WalOptions.chainAnchorLsn: a restart from a snapshot at LSN n) reads no sealed segment wholly
 * below n, verifies the chain only after n, and still refuses damage there; verifyChainBelowAnchor() checks the rest.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { frameBytesFor } from '../../wal/frame.ts'
import { Wal, WalCorruptionError, toHex } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir, text } from './support.ts'

afterEach(removeTempDirs)

const HEADER_BYTES = 64
const PAYLOAD_BYTES = 44
const FRAME_BYTES = frameBytesFor(PAYLOAD_BYTES) // 100: frame k of a segment starts at 64 + (k - first) * 100
const SEGMENT_BYTES_MAX = 4096 // 40 frames per segment
const FRAMES = 400

async function buildLog(): Promise<string> {
  const dir = tempDir()
  const wal = Wal.open(dir, { segmentBytesMax: SEGMENT_BYTES_MAX, durability: 'none', preallocateBytes: 0 })
  for (let lsn = 1; lsn <= FRAMES; lsn += 10) {
    await wal.append(Array.from({ length: 10 }, (_, index) => record(`payload ${String(lsn + index).padStart(36, '0')}`)))
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

/** Edits one payload byte of frame `lsn` and fixes its CRC, so only the chain can tell. */
function editFrame(dir: string, lsn: number, fixCrc: boolean): void {
  const segment = segmentFiles(dir).filter((item) => item.firstLsn <= lsn).at(-1)
  if (segment === undefined) throw new Error(`no segment holds LSN ${lsn}`)
  const bytes = readFileSync(segment.path)
  const at = HEADER_BYTES + (lsn - segment.firstLsn) * FRAME_BYTES
  bytes[at + 60] = (bytes[at + 60] as number) ^ 0x01
  if (fixCrc) new DataView(bytes.buffer, bytes.byteOffset).setUint32(at + 4, Bun.hash.crc32(bytes.subarray(at + 8, at + FRAME_BYTES)), true)
  writeFileSync(segment.path, bytes)
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

const WAL = { segmentBytesMax: SEGMENT_BYTES_MAX, durability: 'none', preallocateBytes: 0 } as const

describe('anchored open', () => {
  test('skips the sealed segments below the anchor and reads the same log as a full open', async () => {
    const dir = await buildLog()
    const anchorLsn = 390
    const full = Wal.open(dir, WAL)
    const fullFrames = Array.from(full.read(1), (frame) => `${frame.lsn}:${text(frame.payload)}:${toHex(frame.hash)}`)
    const fullHead = toHex(full.chainHead)
    await full.close()
    expect(full.recovery.skippedSegments).toBe(0)
    expect(full.chainAnchorLsn).toBe(0)

    const anchored = Wal.open(dir, { ...WAL, chainAnchorLsn: anchorLsn })
    expect(segmentFiles(dir).length).toBeGreaterThan(5)
    expect(anchored.recovery.skippedSegments).toBe(segmentFiles(dir).filter((item, index, all) => (all[index + 1]?.firstLsn ?? Infinity) - 1 < anchorLsn).length)
    expect(anchored.recovery.frameCount).toBeLessThan(FRAMES)
    expect(anchored.chainAnchorLsn).toBe(anchorLsn)
    expect(anchored.lastLsn).toBe(FRAMES)
    expect(toHex(anchored.chainHead)).toBe(fullHead)
    // Frames in skipped segments are still readable (scanned with CRC checks from the segment start).
    expect(Array.from(anchored.read(1), (frame) => `${frame.lsn}:${text(frame.payload)}:${toHex(frame.hash)}`)).toEqual(fullFrames)
    expect([...anchored.read(77, { toLsn: 77 })].map((frame) => frame.lsn)).toEqual([77])
    // Appends continue the chain as after a full open.
    await anchored.append([record('after the anchored open')])
    anchored.verifyChainBelowAnchor()
    expect(anchored.chainAnchorLsn).toBe(0)
    expect([...anchored.read(41, { toLsn: 45 })].map((frame) => frame.lsn)).toEqual([41, 42, 43, 44, 45])
    await anchored.close()
    const reopened = Wal.open(dir, WAL)
    expect(reopened.lastLsn).toBe(FRAMES + 1)
    await reopened.close()
  })

  test('an edited frame after the anchor is refused (CHAIN_BREAK), as by a full open', async () => {
    const dir = await buildLog()
    editFrame(dir, 395, true)
    const error = openError(() => Wal.open(dir, { ...WAL, chainAnchorLsn: 390 }))
    expect(error.code).toBe('CHAIN_BREAK')
    expect(error.location.lsn).toBe(395)
    expect(openError(() => Wal.open(dir, WAL)).code).toBe('CHAIN_BREAK')
  })

  test('a corrupt frame in the anchor segment before the anchor is still caught by its CRC', async () => {
    const dir = await buildLog()
    editFrame(dir, 385, false)
    const error = openError(() => Wal.open(dir, { ...WAL, chainAnchorLsn: 390 }))
    expect(error.code).toBe('FRAME_CORRUPT')
    expect(error.location.lsn).toBe(385)
  })

  test('an edit below the anchor is not read on open, and verifyChainBelowAnchor finds it at its LSN', async () => {
    const dir = await buildLog()
    editFrame(dir, 50, true)
    expect(openError(() => Wal.open(dir, WAL)).location.lsn).toBe(50)
    const anchored = Wal.open(dir, { ...WAL, chainAnchorLsn: 390 })
    expect(anchored.lastLsn).toBe(FRAMES)
    const error = openError(() => anchored.verifyChainBelowAnchor())
    expect(error.code).toBe('CHAIN_BREAK')
    expect(error.location.lsn).toBe(50)
    expect(anchored.chainAnchorLsn).toBe(390)
    await anchored.close()
  })

  test('a torn tail is still truncated on an anchored open', async () => {
    const dir = await buildLog()
    const last = segmentFiles(dir).at(-1) as { path: string }
    const bytes = readFileSync(last.path)
    writeFileSync(last.path, bytes.subarray(0, bytes.byteLength - 30))
    const wal = Wal.open(dir, { ...WAL, chainAnchorLsn: 390 })
    // The torn frame was the last of an append of 10: the append's nine whole frames go with it (frame.ts).
    expect(wal.lastLsn).toBe(FRAMES - 10)
    expect(wal.recovery.tornTail).toMatchObject({ truncated: true, lsn: FRAMES - 9, validFramesRemoved: 0, appendFramesRemoved: 9 })
    await wal.close()
  })

  test('an anchor beyond the log end verifies the last segment and nothing is trusted past it', async () => {
    const dir = await buildLog()
    const wal = Wal.open(dir, { ...WAL, chainAnchorLsn: 10_000 })
    expect(wal.lastLsn).toBe(FRAMES)
    expect(wal.chainAnchorLsn).toBe(FRAMES)
    wal.verifyChainBelowAnchor()
    expect(wal.chainAnchorLsn).toBe(0)
    await wal.close()
  })
})
