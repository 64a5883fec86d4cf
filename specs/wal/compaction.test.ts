// Compaction of the writable log (wal/compaction.ts) where the file system does not simply do as asked: an archive
// directory on another file system (rename fails EXDEV), and a removal that fails part-way.
import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { SyncFailedError, nodeIo, openReadOnly, Wal, WalCompactedError, type WalIo } from '../../wal/index.ts'
import type { SegmentInfo } from '../../wal/catalog.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

const otherDevice: string[] = []
afterAll(() => {
  removeTempDirs()
  for (const dir of otherDevice) rmSync(dir, { recursive: true, force: true })
})

async function logOfSegments(dir: string, io: WalIo = nodeIo): Promise<Wal> {
  const wal = Wal.open(dir, { io, segmentBytesMax: 4096, preallocateBytes: 0, durability: 'none' })
  for (let index = 0; index < 60; index++) await wal.append([record(`record ${index} ${'x'.repeat(400)}`)])
  expect(wal.segments.length).toBeGreaterThan(4)
  return wal
}

describe('compaction', () => {
  // /dev/shm is a tmpfs, another file system than the temp dir's on Linux runners; elsewhere the case is skipped.
  const shm = existsSync('/dev/shm') ? '/dev/shm' : null
  test.skipIf(shm === null)('archives into a directory on another file system (rename fails EXDEV): copied, synced, then removed', async () => {
    const dir = tempDir()
    const archive = join(mkdtempSync(join(shm as string, 'egress-archive-')), 'archive')
    otherDevice.push(archive)
    const wal = await logOfSegments(dir)
    const doomed = wal.segments.slice(0, 3).map((segment) => ({ name: segment.name, bytes: readFileSync(segment.path) }))
    const bound = (wal.segments[2]?.lastLsn as number) + 1
    // Before the fix: EXDEV thrown, and the catalog had already dropped the segments that were still on disk.
    expect(wal.removeSegmentsBelow(bound, { archiveDir: archive })).toEqual(doomed.map((segment) => segment.name))
    expect(wal.firstLsn).toBe(bound)
    for (const segment of doomed) {
      expect(existsSync(join(dir, segment.name))).toBe(false)
      expect(readFileSync(join(archive, segment.name)).equals(segment.bytes)).toBe(true)
    }
    expect(readdirSync(archive).sort()).toEqual(doomed.map((segment) => segment.name))
    await wal.close()
    expect(openReadOnly(dir).firstLsn).toBe(bound)
  })

  test('a removal that fails part-way leaves the catalog as the disk is: the rest goes on a later compaction', async () => {
    const dir = tempDir()
    let failing = false
    const io: WalIo = {
      ...nodeIo,
      unlink: (path) => {
        if (failing && path.endsWith('.seg')) {
          failing = false
          throw Object.assign(new Error(`EBUSY: injected unlink failure ${path}`), { code: 'EBUSY' })
        }
        nodeIo.unlink(path)
      },
    }
    const wal = await logOfSegments(dir, io)
    const [first, second, third] = wal.segments.map((segment) => ({ ...segment }))
    if (first === undefined || second === undefined || third === undefined) throw new Error('a log of several segments')
    expect(wal.removeSegmentsBelow(first.lastLsn + 1)).toEqual([first.name])
    failing = true
    expect(() => wal.removeSegmentsBelow(third.lastLsn + 1)).toThrow('EBUSY')
    // Before the fix the catalog had dropped the second segment though it is still on disk: the log claimed to start
    // at the third, reads of the second's LSNs found nothing, and no later compaction would ever remove it.
    expect(existsSync(second.path)).toBe(true)
    expect(wal.firstLsn).toBe(second.firstLsn)
    expect([...wal.read(second.firstLsn, { toLsn: second.firstLsn })]).toHaveLength(1)
    expect(wal.removeSegmentsBelow(third.lastLsn + 1)).toEqual([second.name, third.name])
    expect(existsSync(second.path)).toBe(false)
    expect(wal.firstLsn).toBe(third.lastLsn + 1)
    await wal.close()
  })

  test('a failed fsync of the log directory after removals is fatal to the log: never retried by the next compaction', async () => {
    const dir = tempDir()
    let failing = false
    const io: WalIo = {
      ...nodeIo,
      fsyncDirectory: (path) => {
        if (failing) {
          failing = false
          throw Object.assign(new Error(`EIO: injected fsync failure ${path}`), { code: 'EIO' })
        }
        nodeIo.fsyncDirectory(path)
      },
    }
    const wal = await logOfSegments(dir, io)
    const [first] = wal.segments.map((segment) => ({ ...segment }))
    if (first === undefined) throw new Error('a log of several segments')
    failing = true
    expect(() => wal.removeSegmentsBelow(first.lastLsn + 1)).toThrow(SyncFailedError)
    // Before the fix the log went on: the next batch's (or compaction's) fsync of the same directory would have been
    // trusted, though after EIO a success proves nothing.
    expect(wal.fatalError?.message).toContain('FSYNC_FAILED')
    expect(await wal.append([record('after the failed fsync')]).then(() => 'appended', (error: unknown) => String(error))).toContain('WalFatalError')
    await wal.close().catch(() => undefined)
    const reopened = openReadOnly(dir)
    expect(reopened.firstLsn).toBe(first.lastLsn + 1)
  })

  test('a reader paused between frames that a compaction leaves behind throws LOG_COMPACTED instead of ending as if the log did', async () => {
    const wal = await logOfSegments(tempDir())
    const [first, second, third] = wal.segments.map((segment) => ({ ...segment })) as [SegmentInfo, SegmentInfo, SegmentInfo]
    const reader = wal.read(1)
    const read: number[] = []
    // Paused on the first segment's last frame (its file stays open), the next segment not yet opened.
    for (let lsn = 1; lsn <= first.lastLsn; lsn++) read.push((reader.next().value as { lsn: number }).lsn)
    expect(wal.removeSegmentsBelow(third.firstLsn)).toHaveLength(2)
    // Before the fix: the reader ended here, quietly, at the first segment's last LSN of a log that goes on past it.
    let error: unknown = null
    try {
      reader.next()
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(WalCompactedError)
    expect(error).toMatchObject({ code: 'LOG_COMPACTED', lsn: first.lastLsn + 1, firstLsn: second.lastLsn + 1 })
    expect(read).toEqual(Array.from({ length: first.lastLsn }, (_, index) => index + 1))
    await wal.close()
  })

  test('a reader paused inside a segment that a compaction removes reads it to its end from the file it holds open', async () => {
    const wal = await logOfSegments(tempDir())
    const [first, , third] = wal.segments.map((segment) => ({ ...segment })) as [SegmentInfo, SegmentInfo, SegmentInfo]
    const reader = wal.read(1, { toLsn: third.firstLsn - 1 })
    expect(reader.next().value?.lsn).toBe(1)
    // The segment it reads and the next one go: the next one was not open yet.
    expect(wal.removeSegmentsBelow(third.firstLsn)).toHaveLength(2)
    const rest: number[] = []
    expect(() => {
      for (let next = reader.next(); next.done !== true; next = reader.next()) rest.push(next.value.lsn)
    }).toThrow(WalCompactedError)
    expect(rest).toEqual(Array.from({ length: first.lastLsn - 1 }, (_, index) => index + 2))
    await wal.close()
  })
})
