import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isSyncFailure, nodeIo, SyncFailedError, Wal, WalFatalError, type WalIo } from '../../wal/index.ts'
import { countingIo, record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

describe('I/O failures are fatal', () => {
  for (const call of ['fdatasync', 'write'] as const) {
    for (const code of ['EIO', 'ENOSPC'] as const) {
      test(`a failing ${call} (${code}) fails the batch and everything queued, and the writer refuses further appends`, async () => {
        const io = countingIo()
        const dir = tempDir()
        const wal = Wal.open(dir, { io })
        expect(await wal.append([record('durable')])).toEqual([1])
        io.failNext(call, code)
        const outcomes = await Promise.allSettled([wal.append([record('lost-1')]), wal.append([record('lost-2')])])
        for (const outcome of outcomes) {
          expect(outcome.status).toBe('rejected')
          if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(WalFatalError)
        }
        expect(String(wal.fatalError)).toContain(code)
        const syncsAfterFailure = io.counts.fdatasync
        await expect(wal.append([record('after')])).rejects.toBeInstanceOf(WalFatalError)
        expect(io.counts.fdatasync).toBe(syncsAfterFailure) // never retried
        await wal.close()
        // Recovery by reopening keeps everything acknowledged.
        const reopened = Wal.open(dir)
        expect(reopened.lastLsn).toBeGreaterThanOrEqual(1)
        expect([...reopened.read(1, { toLsn: 1 })][0]?.lsn).toBe(1)
        await reopened.close()
      })
    }
  }

  test('an fsync failing in a clean close (the trim of the preallocated zeros) kills the log instead of passing as a clean close', async () => {
    const io = countingIo()
    const dir = tempDir()
    const wal = Wal.open(dir, { io, preallocateBytes: 64 * 1024 })
    expect(await wal.append([record('durable')])).toEqual([1])
    io.failNext('fsync', 'EIO')
    await wal.close()
    // Before the fix: the failure was swallowed — fatalError null, `died` pending, and `egress serve` said "stopped cleanly".
    expect(wal.fatalError).toBeInstanceOf(WalFatalError)
    expect(String(wal.fatalError)).toContain('EIO')
    expect(await wal.died).toBe(wal.fatalError as Error)
    // The record was synced before it was acknowledged: a reopen has it.
    const reopened = Wal.open(dir)
    expect([...reopened.read(1, { toLsn: 1 })].map((frame) => frame.lsn)).toEqual([1])
    await reopened.close()
  })
})

describe('a failed fsync while a writable open repairs the log', () => {
  /** A log whose last frame was torn (a crash mid-write), and the path of its segment. */
  async function tornLog(): Promise<{ dir: string; segment: string }> {
    const dir = tempDir()
    const wal = Wal.open(dir, { preallocateBytes: 0 })
    for (let index = 0; index < 3; index++) await wal.append([record(`record ${index}`)])
    await wal.close()
    const segment = join(dir, readdirSync(dir).find((name) => name.endsWith('.seg')) as string)
    truncateSync(segment, statSync(segment).size - 5)
    return { dir, segment }
  }

  function openError(dir: string, io: WalIo): unknown {
    try {
      Wal.open(dir, { io }).abandonAsCrashed()
    } catch (error) {
      return error
    }
    throw new Error('the open succeeded')
  }

  test('the fsync of a torn tail cut is FSYNC_FAILED (SyncFailedError naming the segment), not a raw errno; the next open goes on from the last whole frame', async () => {
    const { dir, segment } = await tornLog()
    const io = countingIo()
    io.failNext('fsync', 'EIO')
    const error = openError(dir, io)
    // Before the fix: the node error (code EIO) came out as it was, which no caller takes as a failed fsync.
    expect(error).toBeInstanceOf(SyncFailedError)
    expect(isSyncFailure(error)).toBe(true)
    expect(error).toMatchObject({ code: 'FSYNC_FAILED', target: segment })
    expect(String(error)).toContain('EIO')
    // The cut it made, told here: the next open finds it made and reports no torn tail (before, nothing said it).
    expect(String(error)).toMatch(new RegExp(`after cutting the torn tail at ${statSync(segment).size} bytes \\(\\d+ bytes from LSN 3 on: `))
    // The process recovers by opening again: the log ends at the last whole frame and takes appends.
    const reopened = Wal.open(dir)
    expect(reopened.lastLsn).toBe(2)
    expect(await reopened.append([record('after')])).toEqual([3])
    await reopened.close()
  })

  test('a torn tail that cannot be cut (the truncate fails: EROFS) is WAL_FATAL naming the cut, not a raw errno; nothing is cut', async () => {
    const { dir, segment } = await tornLog()
    const sizeBefore = statSync(segment).size
    const io: WalIo = { ...nodeIo, truncate: () => failTruncate() }
    const error = openError(dir, io)
    expect(error).toBeInstanceOf(WalFatalError)
    expect(error).toMatchObject({ code: 'WAL_FATAL' })
    expect(String(error)).toContain(`cutting the torn tail of ${segment}`)
    expect(String(error)).toContain('EROFS')
    expect(statSync(segment).size).toBe(sizeBefore)
    // Once the cut can be made, the open makes it.
    const reopened = Wal.open(dir)
    expect(reopened.lastLsn).toBe(2)
    await reopened.close()
  })

  test('the directory fsync after removing a crashed roll\'s temp file is FSYNC_FAILED too', async () => {
    const { dir } = await tornLog()
    writeFileSync(join(dir, '00000000000000000004.seg.tmp'), 'a roll that crashed before its rename')
    const io = { ...countingIo(), fsyncDirectory: (path: string) => (path === dir ? failDirectorySync() : nodeIo.fsyncDirectory(path)) }
    const error = openError(dir, io)
    expect(error).toBeInstanceOf(SyncFailedError)
    expect(error).toMatchObject({ code: 'FSYNC_FAILED', target: dir })
  })
})

function failTruncate(): never {
  throw Object.assign(new Error('EROFS: injected read-only file system, ftruncate'), { code: 'EROFS' })
}

function failDirectorySync(): never {
  throw Object.assign(new Error('EIO: injected directory fsync failure'), { code: 'EIO' })
}

describe('a real full disk', () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'egress-tmpfs-'))
  let mounted = false
  try {
    mkdirSync(mountPoint, { recursive: true })
    const result = Bun.spawnSync(['mount', '-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', mountPoint])
    mounted = result.exitCode === 0
  } catch {
    mounted = false
  }
  afterAll(() => {
    if (mounted) Bun.spawnSync(['umount', mountPoint])
    rmSync(mountPoint, { recursive: true, force: true })
  })

  test.skipIf(!mounted)('filling a small tmpfs fails the writer with ENOSPC and every acknowledged record survives reopening', async () => {
    const dir = join(mountPoint, 'log')
    const wal = Wal.open(dir, { segmentBytesMax: 64 * 1024 })
    const acknowledged: number[] = []
    let failure: unknown = null
    for (let index = 0; index < 10_000 && failure === null; index++) {
      try {
        acknowledged.push(...(await wal.append([record('f'.repeat(500))])))
      } catch (error) {
        failure = error
      }
    }
    expect(failure).toBeInstanceOf(WalFatalError)
    expect(String(failure)).toContain('ENOSPC')
    await wal.close()
    const reopened = Wal.open(dir, { segmentBytesMax: 64 * 1024 })
    const lastAcknowledged = acknowledged[acknowledged.length - 1] ?? 0
    expect(lastAcknowledged).toBeGreaterThan(100)
    expect(reopened.lastLsn).toBeGreaterThanOrEqual(lastAcknowledged)
    expect([...reopened.read(1, { toLsn: lastAcknowledged, verifyChain: true })].length).toBe(lastAcknowledged)
    await reopened.close()
  })
})
