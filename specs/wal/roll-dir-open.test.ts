/**
 * Where a directory that cannot be opened for its fsync stays fatal: the log's own segment roll. The new segment's
 * name is not known durable, and the records of the batch that rolled into it would sit in a file a power loss may
 * take away: the batch is never acknowledged and the writer dies (as of any failed write), unlike a snapshot or a
 * compaction, which only fail (specs/runtime/snapshot/dir-open-failure.test.ts).
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { closeSync, fstatSync, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, openReadOnly, Wal, WalFatalError, type WalIo } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

describe('a segment roll whose directory cannot be opened for its fsync', () => {
  test('the batch is not acknowledged and the writer dies; the log reopens', async () => {
    const dir = tempDir()
    let armed = false
    const io: WalIo = {
      ...nodeIo,
      // The real open fails (a path that does not exist, standing in for EMFILE).
      fsyncDirectory: (path) => nodeIo.fsyncDirectory(armed ? join(path, 'not-openable') : path),
    }
    const wal = Wal.open(dir, { io, segmentBytesMax: 4096, durability: 'fsync', preallocateBytes: 0 })
    await wal.append([record('before')])
    const segmentsBefore = wal.segments.length
    armed = true
    const outcome = await wal.append(Array.from({ length: 60 }, (_, index) => record(`rolls ${index}`.padEnd(60, '.')))).then(
      () => 'acknowledged',
      (error: unknown) => error,
    )
    expect(outcome).toBeInstanceOf(WalFatalError)
    expect(String((outcome as Error).cause)).toContain('DIRECTORY_OPEN_FAILED')
    expect(wal.fatalError).not.toBeNull()
    expect(wal.segments.length).toBeGreaterThanOrEqual(segmentsBefore)
    expect(await wal.append([record('after')]).then(() => 'acknowledged', () => 'refused')).toBe('refused')
    await wal.close().catch(() => undefined)
    armed = false
    // The part written before the roll may be on disk (synced there, never acknowledged); the log opens as it is.
    expect(openReadOnly(dir).lastLsn).toBeGreaterThanOrEqual(1)
  })

  test("the dead log's close leaves alone the descriptor number the sealed segment had (the next file opened takes it)", async () => {
    const dir = tempDir()
    let armed = false
    const io: WalIo = { ...nodeIo, fsyncDirectory: (path) => nodeIo.fsyncDirectory(armed ? join(path, 'not-openable') : path) }
    const wal = Wal.open(dir, { io, segmentBytesMax: 4096, durability: 'fsync', preallocateBytes: 0 })
    await wal.append([record('before')])
    armed = true
    await wal.append(Array.from({ length: 60 }, (_, index) => record(`rolls ${index}`.padEnd(60, '.')))).catch(() => undefined)
    expect(wal.fatalError).not.toBeNull()
    // Another part of the process opens a file now: it gets the lowest free number, the sealed segment's.
    const other = join(dir, 'unrelated')
    writeFileSync(other, 'not the log')
    const fd = openSync(other, 'r')
    try {
      await wal.close().catch(() => undefined)
      expect(() => fstatSync(fd)).not.toThrow()
    } finally {
      try {
        closeSync(fd)
      } catch {
        // closed by the log (the failure above says so)
      }
    }
  })
})
