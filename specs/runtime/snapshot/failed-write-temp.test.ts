// A snapshot write that fails removes its temp file at once (store-write.ts). Before, the temp file stayed until the
// next start (SnapshotStore.removeTempFiles): on a full disk (ENOSPC) a partial snapshot, up to the whole file's size,
// held the space the log's next segment needs. The removal is best effort: one that fails is reported and the write's
// own error is what the caller gets. A failed fsync is still SyncFailedError (FSYNC_FAILED, of which a running
// gateway's log dies: fsync-fatal.test.ts); only its temp file goes too. The off-loop write: write-off-loop.test.ts.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, SyncFailedError, type WalIo } from '../../../wal/index.ts'
import { encodeSnapshot, KERNEL_SECTION, KERNEL_STATE_SCHEMA, snapshotFileName, SnapshotStore } from '../../../src/runtime/snapshot/index.ts'
import { removeDir, T0, tempDataDir } from '../harness.ts'

const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) removeDir(dir)
})

type Failing = 'write' | 'fsync' | 'rename'

/** node:fs, except that `failing` on a temp file (`*.tmp`) throws (ENOSPC, EIO for the fsync); `unlinkFails`: so does every unlink. */
function failingIo(failing: Failing, options: { unlinkFails?: boolean } = {}): WalIo {
  const tempFds = new Set<number>()
  const refuse = (code: string): never => {
    throw Object.assign(new Error(`${code}: simulated, ${failing}`), { code })
  }
  return {
    ...nodeIo,
    openAppend: (path) => {
      const fd = nodeIo.openAppend(path)
      if (path.endsWith('.tmp')) tempFds.add(fd)
      return fd
    },
    close: (fd) => {
      tempFds.delete(fd)
      nodeIo.close(fd)
    },
    write: (fd, data, positionBytes) => {
      if (failing === 'write' && tempFds.has(fd)) {
        nodeIo.write(fd, data.subarray(0, data.byteLength >> 1), positionBytes) // part of it reached the disk
        refuse('ENOSPC')
      }
      nodeIo.write(fd, data, positionBytes)
    },
    fsync: (fd) => (failing === 'fsync' && tempFds.has(fd) ? refuse('EIO') : nodeIo.fsync(fd)),
    rename: (from, to) => (failing === 'rename' && from.endsWith('.tmp') ? refuse('ENOSPC') : nodeIo.rename(from, to)),
    unlink: (path) => (options.unlinkFails === true ? refuse('EACCES') : nodeIo.unlink(path)),
  }
}

function snapshotsDir(): string {
  const dir = tempDataDir()
  dirs.push(dir)
  const snapshots = join(dir, 'snapshots')
  mkdirSync(snapshots, { recursive: true })
  return snapshots
}

const content = encodeSnapshot({ lsn: 7, chainHead: '0'.repeat(64), createdAtMs: T0, kernelSchema: KERNEL_STATE_SCHEMA }, new Map([[KERNEL_SECTION, new Uint8Array(64 << 10).fill(7)]]))

describe('a snapshot write that fails removes its temp file at once', () => {
  for (const [failing, expected] of [['write', /ENOSPC/], ['rename', /ENOSPC/], ['fsync', /FSYNC_FAILED|EIO/]] as const) {
    test(`its ${failing} failing: the write's error is thrown, and neither the snapshot nor its temp file is left`, () => {
      const dir = snapshotsDir()
      const store = new SnapshotStore(dir, { io: failingIo(failing), keep: 1 })
      let thrown: unknown = null
      try {
        store.write(content)
      } catch (error) {
        thrown = error
      }
      expect(String(thrown)).toMatch(expected)
      // A failed fsync is still the fatal kind, whatever became of the temp file.
      expect(thrown instanceof SyncFailedError).toBe(failing === 'fsync')
      expect(readdirSync(dir)).toEqual([])
    })
  }

  test('a temp file that cannot be removed is reported, and the write fails with its own error', () => {
    const dir = snapshotsDir()
    const lines: string[] = []
    const store = new SnapshotStore(dir, { io: failingIo('write', { unlinkFails: true }), keep: 1, log: (line) => lines.push(line) })
    expect(() => store.write(content)).toThrow(/ENOSPC/)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`${snapshotFileName(7)}.tmp`)
    expect(lines[0]).toContain('EACCES')
    // Left for the next start, as before.
    expect(readdirSync(dir)).toEqual([`${snapshotFileName(7)}.tmp`])
    expect(new SnapshotStore(dir, { io: nodeIo, keep: 1 }).removeTempFiles()).toEqual([`${snapshotFileName(7)}.tmp`])
  })

  test('its seal\'s write failing: the snapshot stays, durable and unsealed, and a temp file not removed is reported on the store\'s log', () => {
    const dir = snapshotsDir()
    const lines: string[] = []
    // Only the seal's temp file fails (ENOSPC), and no unlink goes: the snapshot's own write succeeds before it.
    const sealFds = new Set<number>()
    const io: WalIo = {
      ...nodeIo,
      openAppend: (path) => {
        const fd = nodeIo.openAppend(path)
        if (path.endsWith('.seal.tmp')) sealFds.add(fd)
        return fd
      },
      write: (fd, data, positionBytes) => {
        if (sealFds.has(fd)) throw Object.assign(new Error('ENOSPC: simulated, seal'), { code: 'ENOSPC' })
        nodeIo.write(fd, data, positionBytes)
      },
      unlink: (path) => {
        if (path.endsWith('.seal.tmp')) throw Object.assign(new Error('EACCES: simulated'), { code: 'EACCES' })
        nodeIo.unlink(path)
      },
    }
    const store = new SnapshotStore(dir, { io, keep: 1, log: (line) => lines.push(line) })
    expect(() => store.write({ ...content, seal: 'a.b.c' })).toThrow(/ENOSPC/)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`${snapshotFileName(7)}.seal.tmp`)
    expect(readdirSync(dir).sort()).toEqual([snapshotFileName(7), `${snapshotFileName(7)}.seal.tmp`])
    // The next start removes the seal's temp file and finds the snapshot, unsealed.
    const next = new SnapshotStore(dir, { io: nodeIo, keep: 1 })
    expect(next.removeTempFiles()).toEqual([`${snapshotFileName(7)}.seal.tmp`])
    expect(next.candidates().map((candidate) => candidate.file)).toEqual([snapshotFileName(7)])
    expect(next.readSeal(next.candidates()[0] as Parameters<SnapshotStore['readSeal']>[0])).toEqual({ kind: 'absent' })
  })
})
