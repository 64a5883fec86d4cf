// A running gateway's snapshot file is written and fsynced off the event loop, in pieces (store-write.ts): written at
// once and fsynced on the loop, a 186 MB file (100k orders with the back office) held the loop ~0.5 s, the longest
// stretch of the snapshot (scripts/bench-snapshot.ts). Each piece is a step a stop's bound sees (stop-watch.ts); the
// temp file is renamed into place only once every piece is written and fsynced; a failed write leaves nothing under the
// snapshot's name, removes its temp file at once (failed-write-temp.test.ts) and the log goes on; a failed fsync off the
// loop stops the log (fsync-fatal.test.ts).
import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, type WalIo } from '../../../wal/index.ts'
import { SnapshotStore, takeSnapshot } from '../../../src/runtime/snapshot/index.ts'
import { run, startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { trade } from './support.ts'

const worlds = worldsStoppedAfterEach()
const SLOW_MS = 40

/**
 * node:fs, where a snapshot file's (`*.snap.tmp`) writes and fsyncs take SLOW_MS each, on the loop (sleeping) or off it
 * (answered late); `events` records each call and the rename, in order. `timerAtWrite`: the first write sets a timer
 * (0 ms) that records `timer`. `failWrite`: that write (1-based, off the loop) answers ENOSPC.
 */
function slowSnapshotIo(options: { failWrite?: number; timerAtWrite?: boolean } = {}): { io: WalIo; events: string[] } {
  const events: string[] = []
  const snapshotFds = new Set<number>()
  let writes = 0
  const late = (call: () => void): void => void setTimeout(call, SLOW_MS)
  const written = (): number => {
    events.push('write')
    if (++writes === 1 && options.timerAtWrite === true) setTimeout(() => events.push('timer'), 0)
    return writes
  }
  const io: WalIo = {
    ...nodeIo,
    openAppend: (path) => {
      const fd = nodeIo.openAppend(path)
      if (path.endsWith('.snap.tmp')) snapshotFds.add(fd)
      return fd
    },
    close: (fd) => {
      snapshotFds.delete(fd)
      nodeIo.close(fd)
    },
    write: (fd, data, positionBytes) => {
      if (snapshotFds.has(fd)) {
        written()
        Bun.sleepSync(SLOW_MS)
      }
      nodeIo.write(fd, data, positionBytes)
    },
    writeOffLoop: (fd, data, positionBytes, done) => {
      if (!snapshotFds.has(fd)) return nodeIo.writeOffLoop(fd, data, positionBytes, done)
      const failing = written() === options.failWrite
      late(() => {
        if (failing) return done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }))
        nodeIo.writeOffLoop(fd, data, positionBytes, done)
      })
    },
    fsync: (fd) => {
      if (snapshotFds.has(fd)) {
        events.push('fsync')
        Bun.sleepSync(SLOW_MS)
      }
      nodeIo.fsync(fd)
    },
    fsyncOffLoop: (fd, done) => {
      if (!snapshotFds.has(fd)) return nodeIo.fsyncOffLoop(fd, done)
      events.push('fsync')
      late(() => nodeIo.fsyncOffLoop(fd, done))
    },
    rename: (from, to) => {
      if (from.endsWith('.snap.tmp')) events.push('rename')
      nodeIo.rename(from, to)
    },
  }
  return { io, events }
}

describe("a running gateway's snapshot file is written off the event loop", () => {
  test('a timer set as the write begins fires before the file is renamed into place', async () => {
    const slow = slowSnapshotIo({ timerAtWrite: true })
    const world = await startWorld({ seed: 931, snapshots: { io: slow.io, atShutdown: false } })
    worlds.push(world)
    await trade(world, { orders: 20, tag: 'w931', seed: 931 })
    await run(world, 100)
    // The timer is set as the snapshot file's first write begins: on the loop, it fires only once the write and fsync
    // have returned.
    const taken = await world.gateway.snapshot()
    expect(taken).not.toBeNull()
    expect(slow.events.indexOf('timer')).toBeGreaterThanOrEqual(0)
    expect(slow.events.indexOf('timer')).toBeLessThan(slow.events.indexOf('rename'))
    // The loop was held no longer than a slow call would have held it (two of them, written at once).
    expect(taken?.blockMsMax ?? Infinity).toBeLessThan(2 * SLOW_MS)
  })

  test('each piece is written, then fsynced, each call told as a step, before the rename', async () => {
    const slow = slowSnapshotIo()
    const world = await startWorld({ seed: 932, snapshots: { enabled: false, atShutdown: false } })
    worlds.push(world)
    await trade(world, { orders: 20, tag: 'w932', seed: 932 })
    await run(world, 100)
    const store = new SnapshotStore(join(world.dir, 'snapshots-spec'), { io: slow.io, keep: 1 })
    const taken = await takeSnapshot(world.gateway.engine, store, { nowMs: world.clock.nowMs(), pieceBytes: 4096, onStep: () => slow.events.push('step') })
    expect(taken).not.toBeNull()
    const pieces = Math.ceil((taken?.bytes ?? 0) / 4096)
    expect(pieces).toBeGreaterThan(2)
    // Each call off the loop told as a step as it runs (a stop watching progress sees the write advance), the rename
    // only after the last piece's fsync, and the file durable a step too.
    const piecesTold = Array.from({ length: pieces }, () => ['write', 'step', 'fsync', 'step']).flat()
    expect(slow.events.slice(slow.events.indexOf('write'))).toEqual([...piecesTold, 'rename', 'step'])
  })

  test('a piece failing to write leaves no snapshot under its name and no temp file, and the log goes on', async () => {
    const slow = slowSnapshotIo({ failWrite: 2 })
    const world = await startWorld({ seed: 933, snapshots: { enabled: false, atShutdown: false } })
    worlds.push(world)
    await trade(world, { orders: 20, tag: 'w933', seed: 933 })
    await run(world, 100)
    const dir = join(world.dir, 'snapshots-spec')
    const store = new SnapshotStore(dir, { io: slow.io, keep: 1 })
    const outcome = await takeSnapshot(world.gateway.engine, store, { nowMs: world.clock.nowMs(), pieceBytes: 4096 }).then(() => 'taken', (error: unknown) => String(error))
    expect(outcome).toContain('ENOSPC')
    expect(slow.events).not.toContain('rename')
    expect(readdirSync(dir).filter((name) => name.endsWith('.snap'))).toEqual([])
    expect(store.candidates()).toEqual([])
    expect(world.gateway.engine.wal.fatalError).toBeNull()
    // Its temp file is gone at once (left until the next start, it held the space a full disk's log needs), and the
    // next snapshot is written whole.
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([])
    expect(store.removeTempFiles()).toEqual([])
    const again = await takeSnapshot(world.gateway.engine, store, { nowMs: world.clock.nowMs(), pieceBytes: 4096 })
    expect(again === null ? false : existsSync(again.path)).toBe(true)
  })
})
