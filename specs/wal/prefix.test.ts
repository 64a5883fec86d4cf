/**
 * copyLogPrefix: a log holding exactly another log's frames up to an LSN — sealed segments hard-linked, the segment
 * holding the LSN copied and cut — that opens as a normal writable log and never changes the source.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Wal, WalCorruptionError, WalPrefixError, copyLogPrefix, nodeIo, openReadOnly, toHex, type WalIo } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir, text } from './support.ts'

afterEach(removeTempDirs)

const WAL = { segmentBytesMax: 4096, durability: 'none', preallocateBytes: 0 } as const
/** 100-byte frames: 40 per 4 KiB segment, so LSN 40k is the last frame of a segment. */
const payload = (lsn: number): string => `payload ${String(lsn).padStart(36, '0')}`

/**
 * A closed log of `frames` frames at `epoch` (appended to `dir` if it holds a log already), each frame an append of its
 * own: a prefix through any LSN then ends on a whole append (one through an append's middle is cut back on open).
 */
async function writeLog(dir: string, frames: number, epoch = 1, fromLsn = 1): Promise<string> {
  const wal = Wal.open(dir, { ...WAL, epoch })
  for (let lsn = fromLsn; lsn < fromLsn + frames; lsn += 10) {
    await Promise.all(Array.from({ length: Math.min(10, fromLsn + frames - lsn) }, (_, index) => wal.append([record(payload(lsn + index))])))
  }
  await wal.close()
  return dir
}

function segments(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.seg')).sort()
}

function hashAt(dir: string, lsn: number): string {
  for (const frame of openReadOnly(dir).read(lsn, { toLsn: lsn })) return toHex(frame.hash)
  throw new Error(`no LSN ${lsn} in ${dir}`)
}

function prefixError(build: () => unknown): WalPrefixError {
  try {
    build()
  } catch (error) {
    if (error instanceof WalPrefixError) return error
    throw error
  }
  throw new Error('expected a WalPrefixError')
}

describe('copyLogPrefix', () => {
  test('links the sealed segments below the LSN, copies the one holding it cut after its frame, and opens as a writable log there', async () => {
    const source = await writeLog(tempDir(), 400)
    const sourceBytes = new Map(segments(source).map((name) => [name, readFileSync(join(source, name))]))
    const target = join(tempDir(), 'log')
    const report = copyLogPrefix(source, target, 215)
    // LSN 215 is in the sixth segment (201..240): five linked, the sixth copied up to the end of frame 215.
    expect(report.linkedSegments).toEqual(segments(source).slice(0, 5))
    expect(report.copiedSegments).toEqual(segments(source).slice(5, 6))
    expect(report.copiedBytes).toBe(64 + 15 * 100)
    expect(segments(target)).toEqual(segments(source).slice(0, 6))
    for (const name of report.linkedSegments) expect(statSync(join(target, name)).ino).toBe(statSync(join(source, name)).ino)
    const cut = report.copiedSegments[0] as string
    expect(statSync(join(target, cut)).ino).not.toBe(statSync(join(source, cut)).ino)
    expect(toHex(readFileSync(join(target, cut)))).toBe(toHex((sourceBytes.get(cut) as Buffer).subarray(0, 64 + 15 * 100)))
    expect(report.chainHead).toBe(hashAt(source, 215))
    // A normal writable open: every frame checked, nothing torn, the head at LSN 215.
    const wal = Wal.open(target, WAL)
    expect(wal.recovery.tornTail).toBeNull()
    expect(wal.recovery.frameCount).toBe(215)
    expect(wal.lastLsn).toBe(215)
    expect(toHex(wal.chainHead)).toBe(hashAt(source, 215))
    expect(Array.from(wal.read(1), (frame) => text(frame.payload))).toEqual(Array.from({ length: 215 }, (_, index) => payload(index + 1)))
    // Writing on (into the copy and rolling past it) leaves every source file as it was: LSNs 216.. are still there.
    await wal.append(Array.from({ length: 60 }, (_, index) => record(`new ${index}`)))
    await wal.close()
    for (const [name, bytes] of sourceBytes) expect(toHex(readFileSync(join(source, name)))).toBe(toHex(bytes))
    const kept = openReadOnly(source)
    expect(kept.lastLsn).toBe(400)
    expect(text([...kept.read(216, { toLsn: 216 })][0]?.payload ?? new Uint8Array())).toBe(payload(216))
  })

  test('an LSN that ends a segment: that segment is copied whole and no later one is taken', async () => {
    const source = await writeLog(tempDir(), 130)
    const target = join(tempDir(), 'log')
    const report = copyLogPrefix(source, target, 80)
    expect(report.linkedSegments).toEqual(segments(source).slice(0, 1))
    expect(report.copiedSegments).toEqual(segments(source).slice(1, 2))
    expect(report.copiedBytes).toBe(statSync(join(source, segments(source)[1] as string)).size)
    expect(segments(target)).toEqual(segments(source).slice(0, 2))
    const wal = Wal.open(target, WAL)
    expect(wal.lastLsn).toBe(80)
    await wal.append([record('after 80')])
    await wal.close()
    expect(openReadOnly(source).lastLsn).toBe(130)
  })

  test('an LSN in the last segment, and the last LSN itself, copy that segment: the source keeps its own', async () => {
    const source = await writeLog(tempDir(), 100)
    for (const throughLsn of [95, 100]) {
      const target = join(tempDir(), 'log')
      const report = copyLogPrefix(source, target, throughLsn)
      expect(report.copiedSegments).toEqual(segments(source).slice(2, 3))
      const wal = Wal.open(target, WAL)
      expect(wal.lastLsn).toBe(throughLsn)
      expect(toHex(wal.chainHead)).toBe(hashAt(source, throughLsn))
      await wal.close()
    }
    expect(openReadOnly(source).lastLsn).toBe(100)
  })

  test('a compacted source: its first segment, whose header anchors the chain, is linked as it is', async () => {
    const source = await writeLog(tempDir(), 200)
    const compacting = Wal.open(source, WAL)
    expect(compacting.removeSegmentsBelow(81)).toEqual(['00000000000000000001.seg', '00000000000000000041.seg'])
    await compacting.close()
    const target = join(tempDir(), 'log')
    const report = copyLogPrefix(source, target, 150)
    expect(report.firstLsn).toBe(81)
    expect(report.linkedSegments).toEqual(['00000000000000000081.seg'])
    expect(report.copiedSegments).toEqual(['00000000000000000121.seg'])
    const wal = Wal.open(target, WAL)
    expect([wal.firstLsn, wal.lastLsn]).toEqual([81, 150])
    expect(toHex(wal.chainHead)).toBe(hashAt(source, 150))
    await wal.close()
    expect(prefixError(() => copyLogPrefix(source, join(tempDir(), 'below'), 80)).code).toBe('PREFIX_NOT_HELD')
  })

  test("the new log's last epoch is frame throughLsn's: a later epoch's frames beyond it leave nothing behind", async () => {
    // Frames 1..50 at epoch 2, then 51..70 at epoch 3 (what a writer deposed at epoch 3 wrote past the shared part).
    const source = await writeLog(await writeLog(tempDir(), 50, 2), 20, 3, 51)
    expect(() => Wal.open(source, { ...WAL, epoch: 2 })).toThrow(/LEASE_LOST/)
    const target = join(tempDir(), 'log')
    expect(copyLogPrefix(source, target, 50).lastEpoch).toBe(2)
    const wal = Wal.open(target, { ...WAL, epoch: 2 })
    expect([wal.lastLsn, wal.lastEpoch]).toEqual([50, 2])
    await wal.close()
    const replica = Wal.openReplica(target, WAL)
    expect(replica.epoch).toBe(2)
    await replica.close()
  })

  test('refuses an LSN the source does not hold and a target that is not empty, before writing anything', async () => {
    const source = await writeLog(tempDir(), 30)
    expect(prefixError(() => copyLogPrefix(source, join(tempDir(), 'a'), 0)).code).toBe('PREFIX_NOT_HELD')
    const beyond = join(tempDir(), 'b')
    expect(prefixError(() => copyLogPrefix(source, beyond, 31)).code).toBe('PREFIX_NOT_HELD')
    const busy = tempDir()
    writeFileSync(join(busy, 'something'), 'x')
    expect(prefixError(() => copyLogPrefix(source, busy, 10)).code).toBe('TARGET_NOT_EMPTY')
    expect(openReadOnly(source).lastLsn).toBe(30)
  })

  test('a link the filesystem refuses becomes a copy; any other failing call fails the build', async () => {
    const source = await writeLog(tempDir(), 200)
    const crossDevice: WalIo = {
      ...nodeIo,
      link: () => {
        throw Object.assign(new Error('EXDEV: cross-device link'), { code: 'EXDEV' })
      },
    }
    const target = join(tempDir(), 'log')
    const report = copyLogPrefix(source, target, 130, { io: crossDevice })
    expect(report.linkedSegments).toEqual([])
    expect(report.copiedSegments).toEqual(segments(source).slice(0, 4))
    for (const name of segments(source).slice(0, 3)) expect(statSync(join(target, name)).ino).not.toBe(statSync(join(source, name)).ino)
    const wal = Wal.open(target, WAL)
    expect(wal.lastLsn).toBe(130)
    await wal.close()
    const failingSync: WalIo = {
      ...nodeIo,
      fsync: () => {
        throw Object.assign(new Error('EIO: injected'), { code: 'EIO' })
      },
    }
    expect(() => copyLogPrefix(source, join(tempDir(), 'log'), 130, { io: failingSync })).toThrow(/EIO/)
    expect(openReadOnly(source).lastLsn).toBe(200)
  })

  test('a damaged frame before the LSN in the segment to cut is refused (WalCorruptionError), not copied', async () => {
    const source = await writeLog(tempDir(), 100)
    const name = segments(source)[1] as string
    const bytes = readFileSync(join(source, name))
    bytes[64 + 5 * 100 + 60] = (bytes[64 + 5 * 100 + 60] as number) ^ 0x01 // frame 46's payload: its CRC fails
    writeFileSync(join(source, name), bytes)
    expect(() => copyLogPrefix(source, join(tempDir(), 'log'), 60)).toThrow(WalCorruptionError)
  })
})
