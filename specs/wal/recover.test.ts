import { afterEach, describe, expect, test } from 'bun:test'
import { appendFileSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { HASH_BYTES } from '../../wal/chain.ts'
import { frameBytesFor } from '../../wal/frame.ts'
import { LeaseError, Wal, WalCorruptionError, openReadOnly, tailTruncationNotice, type WalCorruptionCode } from '../../wal/index.ts'
import { encodeFrame, record, removeTempDirs, tempDir, prng } from './support.ts'

afterEach(removeTempDirs)

const HEADER_BYTES = 64
const PAYLOAD = 'p'.repeat(44) // every frame is 100 bytes, so frame k starts at 64 + (k - 1) * 100
const FRAME_BYTES = frameBytesFor(PAYLOAD.length)

/** `count` records in appends of `appendRecords` (10 unless given). */
async function buildLog(count: number, options: { segmentBytesMax?: number; epoch?: number; appendRecords?: number } = {}): Promise<string> {
  const dir = tempDir()
  const wal = Wal.open(dir, { segmentBytesMax: options.segmentBytesMax ?? 1 << 20, epoch: options.epoch ?? 1 })
  const appendRecords = options.appendRecords ?? 10
  for (let index = 0; index < count; index += appendRecords) {
    await wal.append(Array.from({ length: Math.min(appendRecords, count - index) }, () => record(PAYLOAD)))
  }
  await wal.close()
  return dir
}

function segments(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.seg')).sort().map((name) => join(dir, name))
}

function frameOffset(lsnInSegment: number): number {
  return HEADER_BYTES + (lsnInSegment - 1) * FRAME_BYTES
}

function expectRefusal(dir: string, code: WalCorruptionCode, where: { file: string; offsetBytes: number; lsn: number }): void {
  let caught: unknown
  try {
    Wal.open(dir)
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(WalCorruptionError)
  const error = caught as WalCorruptionError
  expect(error.code).toBe(code)
  expect(error.location).toEqual(where)
  expect(error.message).toContain(where.file)
  // Read-only verification reaches the same verdict without changing anything.
  expect(() => openReadOnly(dir)).toThrow(WalCorruptionError)
}

function flipByte(path: string, offset: number): void {
  const bytes = readFileSync(path)
  bytes[offset] = (bytes[offset] as number) ^ 0x01
  writeFileSync(path, bytes)
}

describe('recovery on open', () => {
  test('a torn trailing frame is truncated on open and appends continue from the last whole frame', async () => {
    const dir = await buildLog(20, { appendRecords: 1 })
    const [path] = segments(dir) as [string]
    truncateSync(path, statSync(path).size - 30)
    const wal = Wal.open(dir)
    expect(wal.lastLsn).toBe(19)
    expect(wal.recovery.tornTail).toEqual({ file: path, offsetBytes: frameOffset(20), removedBytes: FRAME_BYTES - 30, reason: 'short', truncated: true, lsn: 20, validFramesRemoved: 0, appendFramesRemoved: 0, quarantineFile: null })
    expect(statSync(path).size).toBe(frameOffset(20))
    expect(await wal.append([record(PAYLOAD)])).toEqual([20])
    await wal.close()
    expect(Wal.open(dir).lastLsn).toBe(20)
  })

  test('a torn last frame of an append takes the append\'s whole frames with it: an append is in the log whole or not at all', async () => {
    const dir = await buildLog(20)
    const [path] = segments(dir) as [string]
    truncateSync(path, statSync(path).size - 30)
    const wal = Wal.open(dir)
    expect(wal.lastLsn).toBe(10)
    expect(wal.recovery.tornTail).toEqual({
      file: path, offsetBytes: frameOffset(11), removedBytes: 10 * FRAME_BYTES - 30, reason: 'short, its append incomplete', truncated: true, lsn: 11, validFramesRemoved: 0, appendFramesRemoved: 9, quarantineFile: null,
    })
    expect(statSync(path).size).toBe(frameOffset(11))
    // Said as what it is: the append's whole frames, not frames past a power cut's hole.
    const notice = tailTruncationNotice(wal.recovery) ?? ''
    expect(notice).toContain('9 whole frame(s) of an append whose last frame never reached the disk went with it')
    expect(notice).not.toContain('past a hole')
    expect(await wal.append([record(PAYLOAD)])).toEqual([11])
    await wal.close()
    expect(Wal.open(dir).lastLsn).toBe(11)
  })

  test('a log ending on whole frames of an append whose last frames never came is cut back to where the append began', async () => {
    const dir = await buildLog(20)
    const [path] = segments(dir) as [string]
    truncateSync(path, frameOffset(18))
    const readOnly = openReadOnly(dir)
    expect(readOnly.lastLsn).toBe(10)
    expect(readOnly.report.tornTail).toMatchObject({ offsetBytes: frameOffset(11), reason: 'its append incomplete', truncated: false, lsn: 11, validFramesRemoved: 0, appendFramesRemoved: 7 })
    expect([...readOnly.read(1)].map((frame) => frame.lsn)).toEqual(Array.from({ length: 10 }, (_, index) => index + 1))
    expect(statSync(path).size).toBe(frameOffset(18))
    const wal = Wal.open(dir)
    expect(wal.lastLsn).toBe(10)
    expect(statSync(path).size).toBe(frameOffset(11))
    const [first] = [...wal.read(1, { toLsn: 1 })]
    expect(first?.version).toBe(1)
    await wal.close()
  })

  test('a read-only open reports a torn tail but does not truncate it', async () => {
    const dir = await buildLog(5, { appendRecords: 1 })
    const [path] = segments(dir) as [string]
    truncateSync(path, statSync(path).size - 7)
    const readOnly = openReadOnly(dir)
    expect(readOnly.lastLsn).toBe(4)
    expect(readOnly.report.tornTail?.truncated).toBe(false)
    expect(statSync(path).size).toBe(frameOffset(6) - 7)
  })

  test('garbage after the tail is truncated and reported as a torn tail', async () => {
    const seed = 7
    const random = prng(seed)
    const dir = await buildLog(12)
    const [path] = segments(dir) as [string]
    const garbage = Uint8Array.from({ length: 777 }, () => Math.floor(random() * 256))
    appendFileSync(path, garbage)
    const wal = Wal.open(dir)
    expect(wal.lastLsn, `seed ${seed}`).toBe(12)
    expect(wal.recovery.tornTail?.removedBytes).toBe(garbage.length)
    await wal.close()
    expect(statSync(path).size).toBe(frameOffset(13))
  })

  test('zeros after the tail are preallocated space, trimmed without being reported as damage', async () => {
    const dir = await buildLog(12)
    const [path] = segments(dir) as [string]
    appendFileSync(path, new Uint8Array(4096))
    const wal = Wal.open(dir)
    expect(wal.lastLsn).toBe(12)
    expect(wal.recovery.tornTail).toBeNull()
    expect(wal.recovery.preallocatedBytes).toBe(4096)
    await wal.close()
  })

  test('a crash leaves preallocated zeros in the last segment, and reopening continues at the right offset', async () => {
    const dir = tempDir()
    const wal = Wal.open(dir, { preallocateBytes: 64 * 1024 })
    await wal.append([record('a'), record('b')])
    // No close(): as after a crash, the segment still carries its zero-filled tail.
    wal.abandonAsCrashed()
    const [path] = segments(dir) as [string]
    expect(statSync(path).size).toBeGreaterThanOrEqual(64 * 1024)
    const reopened = Wal.open(dir)
    expect(reopened.lastLsn).toBe(2)
    expect(await reopened.append([record('c')])).toEqual([3])
    await reopened.close()
    expect(Wal.open(dir).lastLsn).toBe(3)
  })

  test('a bit flip in a frame followed by valid frames refuses to open, naming file, offset and LSN', async () => {
    const dir = await buildLog(30)
    const [path] = segments(dir) as [string]
    flipByte(path, frameOffset(17) + 70)
    expectRefusal(dir, 'FRAME_CORRUPT', { file: path, offsetBytes: frameOffset(17), lsn: 17 })
  })

  test('a bit flip in the length field of a mid-log frame is still caught as corruption, not a torn tail', async () => {
    const dir = await buildLog(30)
    const [path] = segments(dir) as [string]
    flipByte(path, frameOffset(9) + 1)
    expectRefusal(dir, 'FRAME_CORRUPT', { file: path, offsetBytes: frameOffset(9), lsn: 9 })
  })

  test('a bit flip in an earlier segment refuses to open', async () => {
    const dir = await buildLog(100, { segmentBytesMax: 4096 })
    const [first] = segments(dir) as [string]
    flipByte(first, frameOffset(3) + 60)
    expectRefusal(dir, 'FRAME_CORRUPT', { file: first, offsetBytes: frameOffset(3), lsn: 3 })
  })

  test('a truncated earlier segment refuses to open', async () => {
    const dir = await buildLog(100, { segmentBytesMax: 4096 })
    const [first] = segments(dir) as [string]
    const framesInFirst = Math.floor((4096 - HEADER_BYTES) / FRAME_BYTES)
    truncateSync(first, statSync(first).size - 10)
    expectRefusal(dir, 'SEGMENT_TRAILING_BYTES', { file: first, offsetBytes: frameOffset(framesInFirst), lsn: framesInFirst })
  })

  test('a deleted segment refuses to open as a missing LSN range', async () => {
    const dir = await buildLog(100, { segmentBytesMax: 4096 })
    const all = segments(dir)
    rmSync(all[1] as string)
    const third = all[2] as string
    const thirdFirstLsn = Number(third.split('/').pop()?.slice(0, 20))
    expectRefusal(dir, 'SEGMENT_MISSING', { file: third, offsetBytes: 0, lsn: thirdFirstLsn })
  })

  test('a valid frame copied to the wrong place refuses to open', async () => {
    const dir = await buildLog(20)
    const [path] = segments(dir) as [string]
    const bytes = readFileSync(path)
    const frame3 = bytes.subarray(frameOffset(3), frameOffset(4))
    bytes.set(frame3, frameOffset(12))
    writeFileSync(path, bytes)
    expectRefusal(dir, 'LSN_GAP', { file: path, offsetBytes: frameOffset(12), lsn: 12 })
  })

  test('an edited payload with a fixed-up CRC is caught by the chain at its LSN', async () => {
    const dir = await buildLog(20)
    const [path] = segments(dir) as [string]
    const bytes = readFileSync(path)
    const at = frameOffset(8)
    bytes[at + 60] = 'q'.charCodeAt(0)
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(at + 4, Bun.hash.crc32(bytes.subarray(at + 8, at + FRAME_BYTES)), true)
    writeFileSync(path, bytes)
    expectRefusal(dir, 'CHAIN_BREAK', { file: path, offsetBytes: at, lsn: 8 })
  })

  test('a frame whose epoch goes backwards refuses to open', async () => {
    const dir = await buildLog(10, { epoch: 2 })
    const wal = Wal.open(dir, { epoch: 2 })
    const head = wal.chainHead
    await wal.close()
    const [path] = segments(dir) as [string]
    const payload = new TextEncoder().encode(PAYLOAD)
    const buffer = new Uint8Array(frameBytesFor(payload.length))
    encodeFrame(buffer, 0, { lsn: 11, epoch: 1, record: { type: 7, version: 1, payload }, previousHash: head, scratchHash: new Uint8Array(HASH_BYTES) })
    appendFileSync(path, buffer)
    expectRefusal(dir, 'EPOCH_REGRESSION', { file: path, offsetBytes: frameOffset(11), lsn: 11 })
  })

  test('a writer with an epoch lower than the log holds is refused', async () => {
    const dir = await buildLog(3, { epoch: 5 })
    expect(() => Wal.open(dir, { epoch: 4 })).toThrow(LeaseError)
    const wal = Wal.open(dir, { epoch: 6 })
    expect(await wal.append([record('x')])).toEqual([4])
    await wal.close()
  })

  test('a corrupt segment header refuses to open', async () => {
    const dir = await buildLog(5)
    const [path] = segments(dir) as [string]
    flipByte(path, 20)
    expectRefusal(dir, 'SEGMENT_HEADER_CORRUPT', { file: path, offsetBytes: 0, lsn: 1 })
  })

  test('a segment roll that crashed before its rename leaves a temp file that is removed on open', async () => {
    const dir = await buildLog(5)
    writeFileSync(join(dir, '00000000000000000006.seg.tmp'), new Uint8Array(10))
    const wal = Wal.open(dir)
    expect(wal.recovery.removedTempFiles).toEqual(['00000000000000000006.seg.tmp'])
    expect(readdirSync(dir).some((name) => name.endsWith('.tmp'))).toBe(false)
    await wal.close()
  })

  test('only a segment roll\'s temp file is removed: other files ending in .tmp in the log directory are not the log\'s', async () => {
    const dir = await buildLog(5)
    const others = ['notes.tmp', 'anchors.jsonl.4242.tmp', '6.seg.tmp', '00000000000000000006.seg.tmp.tmp']
    for (const name of others) writeFileSync(join(dir, name), 'not the log\'s')
    writeFileSync(join(dir, '00000000000000000006.seg.tmp'), new Uint8Array(10))
    // Before the fix: every *.tmp went, the operator's and another tool's files with the roll's.
    expect(openReadOnly(dir).report.removedTempFiles).toEqual(['00000000000000000006.seg.tmp'])
    const wal = Wal.open(dir)
    expect(wal.recovery.removedTempFiles).toEqual(['00000000000000000006.seg.tmp'])
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp')).sort()).toEqual([...others].sort())
    expect(wal.lastLsn).toBe(5)
    await wal.close()
  })
})
