// A segment file the open cannot read — a read failing with EIO (a bad sector), a directory under a segment's name —
// refuses the open with SEGMENT_UNREADABLE naming the file. Before, node's own error came out as it was: "EIO: i/o
// error, read" or "EISDIR: illegal operation on a directory, read", naming no file, so `egress serve`, `egress
// snapshot` and `egress compact` failed with one line that did not say which of the log's segments to look at.
import { afterEach, describe, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, openReadOnly, Wal, WalSegmentUnreadableError, type WalIo } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

async function logOfSegments(): Promise<{ dir: string; second: string }> {
  const dir = tempDir()
  const wal = Wal.open(dir, { segmentBytesMax: 4096, preallocateBytes: 0, durability: 'none' })
  for (let index = 0; index < 40; index++) await wal.append([record(`record ${index} ${'x'.repeat(400)}`)])
  const second = wal.segments[1]?.path
  await wal.close()
  if (second === undefined) throw new Error('a log of several segments')
  return { dir, second }
}

/** node:fs, except that every read of `path` fails with EIO, as node reports it (no path in the message). */
function failingReadsOf(path: string): WalIo {
  const fds = new Set<number>()
  return {
    ...nodeIo,
    openRead: (file) => {
      const fd = nodeIo.openRead(file)
      if (file === path) fds.add(fd)
      return fd
    },
    read: (fd, target, position) => {
      if (fds.has(fd)) throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', errno: -5, syscall: 'read' })
      return nodeIo.read(fd, target, position)
    },
    close: (fd) => {
      fds.delete(fd)
      nodeIo.close(fd)
    },
  }
}

describe('a segment the open cannot read', () => {
  test('EIO on a read: SEGMENT_UNREADABLE naming the file, writable and read-only opens alike', async () => {
    const { dir, second } = await logOfSegments()
    const io = failingReadsOf(second)
    for (const open of [() => Wal.open(dir, { io, durability: 'none', preallocateBytes: 0 }), () => openReadOnly(dir, { io })]) {
      let caught: unknown = null
      try {
        open()
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(WalSegmentUnreadableError)
      expect((caught as WalSegmentUnreadableError).code).toBe('SEGMENT_UNREADABLE')
      expect((caught as WalSegmentUnreadableError).file).toBe(second)
      expect((caught as Error).message).toContain(second)
    }
    // The same log with a healthy disk opens.
    expect(openReadOnly(dir).lastLsn).toBe(40)
  })

  test('a directory under a segment\'s name: SEGMENT_UNREADABLE naming it', async () => {
    const { dir } = await logOfSegments()
    const stray = join(dir, '00000000000099999999.seg')
    mkdirSync(stray)
    expect(() => openReadOnly(dir)).toThrow(WalSegmentUnreadableError)
    expect(() => openReadOnly(dir)).toThrow(stray)
  })
})
