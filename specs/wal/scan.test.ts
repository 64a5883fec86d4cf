import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { Wal, WalCorruptionError } from '../../wal/index.ts'
import { SCAN_CHUNK_BYTES } from '../../wal/scan.ts'
import { removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

const WAL = { durability: 'none', preallocateBytes: 0, segmentBytesMax: 32 << 20 } as const
const PAYLOAD_BYTES = 1000
const FRAME_BYTES = 56 + PAYLOAD_BYTES
const RECORDS = 9000 // ~9.5 MB in one segment: more than two scan chunks
/** The frame that straddles the end of the first scan chunk (which starts after the 64-byte segment header). */
const STRADDLING_LSN = Math.floor(SCAN_CHUNK_BYTES / FRAME_BYTES) + 1

function payloadOf(lsn: number): Uint8Array {
  return new TextEncoder().encode(`${lsn}:`.padEnd(PAYLOAD_BYTES, String.fromCharCode(97 + (lsn % 26))))
}

function offsetOf(lsn: number): number {
  return 64 + (lsn - 1) * FRAME_BYTES
}

/** A closed log of RECORDS frames in one segment; returns its dir and segment path. */
async function bigSegment(): Promise<{ dir: string; path: string }> {
  const dir = tempDir()
  const wal = Wal.open(dir, WAL)
  // Appends of one record each (in batches of 1000): a torn last frame takes no other frame with it.
  for (let first = 1; first <= RECORDS; first += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, index) => wal.append([{ type: 5, version: 1, payload: payloadOf(first + index) }])))
  }
  const path = wal.segments[0]?.path as string
  expect(wal.segments.length).toBe(1)
  await wal.close()
  return { dir, path }
}

function openFailure(dir: string): WalCorruptionError {
  try {
    Wal.open(dir, WAL)
  } catch (error) {
    if (error instanceof WalCorruptionError) return error
    throw error
  }
  throw new Error('the log opened')
}

describe('scanning a segment larger than one scan chunk', () => {
  test('every frame is checked and indexed, frames straddling chunk ends included', async () => {
    const { dir } = await bigSegment()
    expect(offsetOf(STRADDLING_LSN) < 64 + SCAN_CHUNK_BYTES && offsetOf(STRADDLING_LSN + 1) > 64 + SCAN_CHUNK_BYTES).toBe(true)
    const wal = Wal.open(dir, WAL)
    expect(wal.recovery.frameCount).toBe(RECORDS)
    expect(wal.lastLsn).toBe(RECORDS)
    for (const lsn of [1, STRADDLING_LSN - 1, STRADDLING_LSN, STRADDLING_LSN + 1, 7777, RECORDS]) {
      const read = Array.from(wal.read(lsn, { toLsn: lsn, verifyChain: true }), (frame) => new TextDecoder().decode(frame.payload))
      expect(read).toEqual([new TextDecoder().decode(payloadOf(lsn))])
    }
    await wal.close()
  })

  test('a bit flip in the frame straddling a chunk end, with valid frames after it, refuses to open at its offset', async () => {
    const { dir, path } = await bigSegment()
    const bytes = readFileSync(path)
    const flipAt = offsetOf(STRADDLING_LSN) + FRAME_BYTES - 3
    bytes[flipAt] = (bytes[flipAt] as number) ^ 0x04
    writeFileSync(path, bytes)
    const failure = openFailure(dir)
    expect(failure.code).toBe('FRAME_CORRUPT')
    expect(failure.location).toEqual({ file: path, offsetBytes: offsetOf(STRADDLING_LSN), lsn: STRADDLING_LSN })
  })

  test('an edited payload with a fixed-up CRC past the first chunk is a chain break at its LSN', async () => {
    const { dir, path } = await bigSegment()
    const bytes = readFileSync(path)
    const at = offsetOf(7000)
    bytes[at + 100] = (bytes[at + 100] as number) ^ 0x01
    bytes.writeUInt32LE(Bun.hash.crc32(bytes.subarray(at + 8, at + FRAME_BYTES)), at + 4)
    writeFileSync(path, bytes)
    const failure = openFailure(dir)
    expect(failure.code).toBe('CHAIN_BREAK')
    expect(failure.location).toEqual({ file: path, offsetBytes: at, lsn: 7000 })
  })

  test('a torn last frame past the first chunk is truncated; zero-filled space after the frames is preallocation', async () => {
    const { dir, path } = await bigSegment()
    truncateSync(path, offsetOf(RECORDS) + 500)
    const torn = Wal.open(dir, WAL)
    expect(torn.recovery.tornTail).toEqual({ file: path, offsetBytes: offsetOf(RECORDS), removedBytes: 500, reason: 'short', truncated: true, lsn: RECORDS, validFramesRemoved: 0, appendFramesRemoved: 0, quarantineFile: null })
    expect(torn.lastLsn).toBe(RECORDS - 1)
    await torn.close()
    const end = statSync(path).size
    expect(end).toBe(offsetOf(RECORDS))
    truncateSync(path, end + 3 * 1024 * 1024) // zeros, as the writer preallocates them
    const reopened = Wal.open(dir, WAL)
    expect(reopened.recovery.tornTail).toBeNull()
    expect(reopened.recovery.preallocatedBytes).toBe(3 * 1024 * 1024)
    expect(reopened.lastLsn).toBe(RECORDS - 1)
    await reopened.close()
  })
})
