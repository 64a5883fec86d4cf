/**
 * A standby writes a leader's frames only as whole appends (src/runtime/ha/whole-appends.ts). The stream ends an
 * envelope inside an append larger than twice its bound; a replica that wrote such an envelope as it came ended inside
 * the append, and its engine, snapshots, acknowledgements and lease floor stood there — while its next open cuts the
 * half append (wal/frame.ts), so the node no longer started (LOG_BEHIND_SNAPSHOT) or took over.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { frameContinues, rawFrameBytes, Wal } from '../../../wal/index.ts'
import { WholeAppends } from '../../../src/runtime/ha/whole-appends.ts'
import { removeTempDirs, record, tempDir } from '../../wal/support.ts'
import { removeDir, run, startWorld } from '../harness.ts'
import { trade } from '../snapshot/support.ts'
import { haHttp, replicator, serveReplication, waitFor } from './support.ts'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  removeTempDirs()
})

/** The raw frames of `wal`, one Uint8Array per frame. */
function rawFrames(wal: Wal): Uint8Array[] {
  return Array.from(wal.read(1), (frame) => rawFrameBytes(frame).slice())
}

describe('WholeAppends', () => {
  test('hands on only frames of appends whose last frame has come, holding the rest; bytes it cannot walk pass whole', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    await wal.append([record('a0'), record('a1'), record('a2')])
    await wal.append([record('b0')])
    await wal.append([record('c0'), record('c1')])
    const frames = rawFrames(wal)
    await wal.close()
    const whole = new WholeAppends()
    const lsnsOut: number[][] = []
    const take = (from: number, to: number): void => {
      const out = whole.take(Buffer.concat(frames.slice(from, to)))
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
      const lsns: number[] = []
      for (let offset = 0; offset < out.byteLength; offset += view.getUint32(offset, true) + 8) lsns.push(Number(view.getBigUint64(offset + 40, true)))
      lsnsOut.push(lsns)
    }
    take(0, 2) // a0 a1: the append is open
    expect(whole.heldBytes).toBeGreaterThan(0)
    take(2, 5) // a2 closes it, b0 is whole, c0 opens the next
    take(5, 6) // c1
    expect(lsnsOut).toEqual([[], [1, 2, 3, 4], [5, 6]])
    expect(whole.heldBytes).toBe(0)
    const garbage = new Uint8Array([1, 2, 3])
    expect(whole.take(garbage)).toEqual(garbage)
  })

  test('more than its bound held is refused, and nothing stays held', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    await wal.append(Array.from({ length: 10 }, (_, index) => record(`x${index}`.padEnd(100, '.'))))
    const frames = rawFrames(wal)
    await wal.close()
    const whole = new WholeAppends(500)
    expect(() => whole.take(Buffer.concat(frames.slice(0, 9)))).toThrow('exceeds 500 bytes')
    expect(whole.heldBytes).toBe(0)
  })
})

describe('a standby following a leader whose envelopes end inside appends', () => {
  test('its log never ends inside an append, and it reopens whole, holding the leader\'s log', async () => {
    const world = await startWorld({ seed: 11 })
    // An HA leader's decisions (command record first): with a 150-byte bound, every one of several frames is "larger
    // than twice the bound" and the stream ends envelopes inside it.
    world.gateway.engine.commandRecords = true
    cleanups.push(async () => {
      await world.gateway.stop()
      removeDir(world.dir)
    })
    await trade(world, { orders: 8, tag: 'whole', seed: 11 })
    await run(world, 500)
    const leader = world.gateway.engine.wal
    const server = serveReplication(() => leader, haHttp({ chunkBytesMax: 150 }))
    cleanups.push(() => server.stop())
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    const insideAppend: number[] = []
    replica.subscribe((batch) => {
      const last = batch.frames.at(-1)
      if (last !== undefined && frameContinues(rawFrameBytes(last))) insideAppend.push(batch.lastLsn)
    })
    const follower = replicator(replica, () => server.url)
    follower.start()
    cleanups.push(() => follower.stop())
    await waitFor(() => replica.lastLsn === leader.lastLsn, 10_000, 'the replica to catch up')
    await follower.stop()
    expect(insideAppend).toEqual([])
    await replica.close()
    const reopened = Wal.openReplica(replica.dir, { durability: 'none' })
    expect(reopened.recovery.tornTail).toBeNull()
    expect(reopened.lastLsn).toBe(leader.lastLsn)
    await reopened.close()
  })
})
