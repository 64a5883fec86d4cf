// A kill -9 between a new segment's rename into place and the fsync of the log's directory (a roll's, or the first
// segment's at a first open) leaves the segment's name in the page cache only. The next run finds it, writes its
// batches into it and acknowledges them after their fdatasync, which makes the file's bytes durable, never its name:
// unless the open syncs the directory, a power cut then takes the segment away, acknowledged records and all.
import { afterAll, describe, expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly, Wal } from '../../wal/index.ts'
import { powerCutIo, type PowerCutIo } from '../support/power-cut-io.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterAll(removeTempDirs)

const KILLED = 'killed before the directory fsync'

/** Kills the process (throws out of the io) at the next fsync of the log's directory. */
function killAtDirSync(io: PowerCutIo): void {
  io.beforeChange = (label) => {
    if (label !== 'fsync dir .') return
    io.beforeChange = null
    throw new Error(KILLED)
  }
}

/** The last LSN of the log a power cut now leaves, keeping none of the directory changes not yet fsynced. */
function lastLsnAfterCut(io: PowerCutIo, scratch: string, name: string): number {
  const dir = join(scratch, name)
  io.materialize(dir, () => false)
  return openReadOnly(dir).lastLsn
}

describe('a writable open after a kill between a segment rename and its directory fsync', () => {
  test("a roll's: the records the next run acknowledges survive a power cut", async () => {
    const root = tempDir()
    const scratch = tempDir()
    const io = powerCutIo(root)
    const options = { io, segmentBytesMax: 4096, preallocateBytes: 0, durability: 'fsync' } as const
    const first = Wal.open(root, options)
    expect(await first.append([record('before the roll')])).toEqual([1])
    killAtDirSync(io)
    const rolled = await first.append(Array.from({ length: 60 }, (_, index) => record(`rolls ${index}`.padEnd(60, '.')))).then(
      () => 'acknowledged',
      (error: unknown) => String(error),
    )
    expect(rolled).toContain(KILLED)
    // The new segment is in place (in the page cache): the next run writes into it.
    expect(readdirSync(root).filter((name) => name.endsWith('.seg')).length).toBe(2)
    first.abandonAsCrashed()

    const second = Wal.open(root, options)
    const lastBefore = second.lastLsn
    const lsns = await second.append([record('acknowledged after the restart')])
    expect(lsns).toEqual([lastBefore + 1])
    expect(lastLsnAfterCut(io, scratch, 'after-roll')).toBe(lastBefore + 1)
    second.abandonAsCrashed()
  })

  test("the first segment's: the records the next run acknowledges survive a power cut", async () => {
    const root = tempDir()
    const scratch = tempDir()
    const io = powerCutIo(root)
    const options = { io, preallocateBytes: 0, durability: 'fsync' } as const
    killAtDirSync(io)
    expect(() => Wal.open(root, options)).toThrow(KILLED)

    const second = Wal.open(root, options)
    expect(await second.append([record('acknowledged 1'), record('acknowledged 2')])).toEqual([1, 2])
    expect(lastLsnAfterCut(io, scratch, 'after-first')).toBe(2)
    second.abandonAsCrashed()
  })
})
