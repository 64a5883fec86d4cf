// A failed fdatasync on Linux (ext4, xfs) marks the pages it could not write clean and leaves them in the page cache:
// reads return their bytes, and a later fsync of the file — by this process or the next — has nothing to write and
// succeeds. The writer dies of the failure and never acknowledges the batch; but if it leaves the batch's frames in
// the file, the restart's open reads them as valid frames, its own fdatasync "succeeds", and it reports them as the
// log (an order its client was refused, which the executor may then send) and appends after them. When the page cache
// goes (a power cut), the disk holds a hole where they were, before frames the restart acknowledged.
//
// The same holds for the sync a writable open makes of the frames it finds (open-sync.ts): a batch written and never
// synced (kill -9), an open whose fdatasync of it fails (fatal: it refuses to start), and the next open read the batch
// from the page cache, synced nothing and reported it as the log, then appended after it.
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { nodeIo, openReadOnly, SyncFailedError, Wal, WalFatalError, type WalIo } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterAll(removeTempDirs)

interface FileState {
  /** The bytes a power cut leaves. */
  durable: Uint8Array
  /** Byte ranges a failed sync marked clean without writing them: never written by a later sync unless written again. */
  lost: [number, number][]
}

/**
 * node:fs with the disk modelled per file (segments and their temp files, by name): a sync writes the file's bytes but the lost ranges,
 * which read as zeros on the disk; `failNextSync` makes the next segment sync (`after` others) fail as EIO, marking
 * what it would have written lost. `powerCut` writes the disk's files into `target`.
 */
function linuxPageCacheIo(): WalIo & { failNextSync(after?: number): void; powerCut(from: string, target: string): void } {
  const files = new Map<string, FileState>()
  const paths = new Map<number, string>()
  /** The segment syncs to let through before the one that fails; null: none fails. */
  let failAfter: number | null = null
  const stateOf = (path: string): FileState => {
    let state = files.get(path)
    if (state === undefined) files.set(path, (state = { durable: new Uint8Array(0), lost: [] }))
    return state
  }
  const sync = (fd: number, run: () => void): void => {
    const path = paths.get(fd)
    if (path === undefined) return run()
    const state = stateOf(path)
    const bytes = new Uint8Array(readFileSync(path))
    if (failAfter !== null && failAfter-- === 0) {
      failAfter = null
      if (bytes.byteLength > state.durable.byteLength) state.lost.push([state.durable.byteLength, bytes.byteLength])
      throw Object.assign(new Error('EIO: injected fdatasync failure'), { code: 'EIO' })
    }
    run()
    for (const [from, to] of state.lost) bytes.fill(0, Math.min(from, bytes.byteLength), Math.min(to, bytes.byteLength))
    state.durable = bytes
  }
  const track = (path: string, fd: number): number => {
    if (/\.seg(\.tmp)?$/.test(basename(path))) paths.set(fd, path)
    return fd
  }
  return {
    ...nodeIo,
    openAppend: (path) => track(path, nodeIo.openAppend(path)),
    openRead: (path) => track(path, nodeIo.openRead(path)),
    close: (fd) => {
      paths.delete(fd)
      nodeIo.close(fd)
    },
    write: (fd, data, positionBytes) => {
      nodeIo.write(fd, data, positionBytes)
      const path = paths.get(fd)
      if (path === undefined) return
      // Written again: dirty, so the next sync writes them.
      const end = positionBytes + data.byteLength
      const state = stateOf(path)
      state.lost = state.lost.flatMap(([from, to]): [number, number][] => [[from, Math.min(to, positionBytes)], [Math.max(from, end), to]]).filter(([from, to]) => from < to)
    },
    truncate: (fd, lengthBytes) => {
      nodeIo.truncate(fd, lengthBytes)
      const path = paths.get(fd)
      if (path !== undefined) stateOf(path).lost = stateOf(path).lost.map(([from, to]): [number, number] => [from, Math.min(to, lengthBytes)]).filter(([from, to]) => from < to)
    },
    // A new segment is synced as its temp file, then renamed into place: its disk state goes with it.
    rename: (from, to) => {
      nodeIo.rename(from, to)
      const state = files.get(from)
      files.delete(from)
      if (state !== undefined) files.set(to, state)
    },
    fdatasync: (fd) => sync(fd, () => nodeIo.fdatasync(fd)),
    fsync: (fd) => sync(fd, () => nodeIo.fsync(fd)),
    fdatasyncOffLoop: (fd, done) => {
      try {
        sync(fd, () => nodeIo.fdatasync(fd))
      } catch (error) {
        return void setImmediate(() => done(error as Error))
      }
      setImmediate(() => done(null))
    },
    failNextSync: (after = 0) => void (failAfter = after),
    powerCut: (from, target) => {
      mkdirSync(target)
      for (const name of readdirSync(from)) {
        if (!name.endsWith('.seg')) continue
        writeFileSync(join(target, name), stateOf(join(from, name)).durable)
      }
    },
  }
}

describe('a batch whose fdatasync failed', () => {
  test('is not in the log the restart opens, and what the restart acknowledges survives a power cut', async () => {
    const dir = tempDir()
    const io = linuxPageCacheIo()
    const options = { io, durability: 'fsync', preallocateBytes: 0 } as const
    const first = Wal.open(dir, options)
    expect(await first.append([record('acknowledged 1'), record('acknowledged 2')])).toEqual([1, 2])
    io.failNextSync()
    const refused = await first.append([record('refused 3'), record('refused 4')]).then(
      () => 'acknowledged',
      (error: unknown) => error,
    )
    expect(refused).toBeInstanceOf(WalFatalError)
    await first.close()

    // The restart: the refused batch's pages are still in the page cache, clean.
    const second = Wal.open(dir, options)
    expect(second.lastLsn).toBe(2)
    expect(await second.append([record('acknowledged after the restart')])).toEqual([3])
    await second.close()

    const afterCut = join(tempDir(), 'after-cut')
    io.powerCut(dir, afterCut)
    const log = openReadOnly(afterCut)
    expect(log.lastLsn).toBe(3)
    expect([...log.read(1)].map((frame) => new TextDecoder().decode(frame.payload))).toEqual(['acknowledged 1', 'acknowledged 2', 'acknowledged after the restart'])
  })

  test('that rolled into a new segment: the part past the roll is cut, and the restart appends where the log ends', async () => {
    const dir = tempDir()
    const io = linuxPageCacheIo()
    const options = { io, durability: 'fsync', preallocateBytes: 0, segmentBytesMax: 4096 } as const
    const first = Wal.open(dir, options)
    expect(await first.append([record('acknowledged 1')])).toEqual([1])
    // The part before the roll is synced there, the new segment is made (its temp file synced); the batch's own sync, in
    // the new segment, fails.
    io.failNextSync(2)
    const batch = [first.append([record('x'.repeat(3000))]), first.append([record('y'.repeat(3000))])]
    const outcomes = await Promise.allSettled(batch)
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected'])
    await first.close()

    const second = Wal.open(dir, options)
    expect(second.lastLsn).toBe(2)
    expect(await second.append([record('acknowledged after the restart')])).toEqual([3])
    await second.close()

    const afterCut = join(tempDir(), 'after-cut')
    io.powerCut(dir, afterCut)
    expect(openReadOnly(afterCut).lastLsn).toBe(3)
  })
})

/** `io` whose batch syncs do nothing while `lost.on`: the process is killed before its sync reached the disk. */
function syncsLostWhile(io: WalIo, lost: { on: boolean }): WalIo {
  return {
    ...io,
    fdatasync: (fd) => (lost.on ? undefined : io.fdatasync(fd)),
    fdatasyncOffLoop: (fd, done) => (lost.on ? queueMicrotask(() => done(null)) : io.fdatasyncOffLoop(fd, done)),
  }
}

describe('an open whose fdatasync failed, then another open', () => {
  async function afterFailedOpenSync(options: { batchBytesMax?: number; unsynced: string[] }): Promise<string[]> {
    const dir = tempDir()
    const io = linuxPageCacheIo()
    const lost = { on: false }
    const walOptions = { io: syncsLostWhile(io, lost), durability: 'fsync', preallocateBytes: 0, ...(options.batchBytesMax === undefined ? {} : { batchBytesMax: options.batchBytesMax }) } as const
    const first = Wal.open(dir, walOptions)
    expect(await first.append([record('acknowledged 1'), record('acknowledged 2')])).toEqual([1, 2])
    // Written, never synced: the process is killed (its pages stay in the page cache, dirty).
    lost.on = true
    await first.append(options.unsynced.map((text) => record(text)))
    first.abandonAsCrashed()
    lost.on = false

    // The restart's open: its sync of those pages fails (EIO), and it refuses to start.
    io.failNextSync()
    expect(() => Wal.open(dir, walOptions)).toThrow(SyncFailedError)

    // The next restart reads them from the page cache (clean now, never written) and reports them as the log.
    const third = Wal.open(dir, walOptions)
    const unsyncedLastLsn = 2 + options.unsynced.length
    expect(third.lastLsn).toBe(unsyncedLastLsn)
    expect(await third.append([record('acknowledged after the restart')])).toEqual([unsyncedLastLsn + 1])
    await third.close()

    // The power goes: the disk must hold every frame that open reported and acknowledged after.
    const afterCut = join(tempDir(), 'after-cut')
    io.powerCut(dir, afterCut)
    return [...openReadOnly(afterCut).read(1)].map((frame) => new TextDecoder().decode(frame.payload))
  }

  test('writes the frames it found again before its own sync: they and what it acknowledges after survive a power cut', async () => {
    const payloads = await afterFailedOpenSync({ unsynced: ['unsynced 3', 'unsynced 4'] })
    expect(payloads).toEqual(['acknowledged 1', 'acknowledged 2', 'unsynced 3', 'unsynced 4', 'acknowledged after the restart'])
  })

  test('an unsynced append larger than a batch is written again whole, from its first frame', async () => {
    const big = ['a', 'b', 'c'].map((letter) => letter.repeat(3000))
    const payloads = await afterFailedOpenSync({ batchBytesMax: 4096, unsynced: big })
    expect(payloads).toEqual(['acknowledged 1', 'acknowledged 2', ...big, 'acknowledged after the restart'])
  })
})
