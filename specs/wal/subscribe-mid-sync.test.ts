/**
 * Subscribers are the ones there are when a batch becomes durable, not when it was written: with the fdatasync off
 * the event loop, a tail follower may subscribe in between (a back office opened during an HA takeover), and its
 * start position (lastLsn, the durable end) excludes that batch — so the batch it is told about must carry every frame.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { Wal, rawFrameBytes, toHex, type CommittedBatch } from '../../wal/index.ts'
import { heldSyncIo, record, removeTempDirs, tempDir, text } from './support.ts'

afterEach(removeTempDirs)

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

interface Seen {
  firstLsn: number
  lastLsn: number
  frames: { lsn: number; text: string; hash: string }[]
}

function seenOf(batch: CommittedBatch): Seen {
  return { firstLsn: batch.firstLsn, lastLsn: batch.lastLsn, frames: batch.frames.map((frame) => ({ lsn: frame.lsn, text: text(frame.payload), hash: toHex(frame.hash) })) }
}

describe('a subscriber added while a batch is being synced', () => {
  test('gets that batch whole (frames, LSNs, hashes) once it is durable, then the next ones', async () => {
    const io = heldSyncIo()
    const wal = Wal.open(tempDir(), { io, preallocateBytes: 0 })
    const first = wal.append([record('a'), record('b')])
    await turn()
    expect(io.held).toBe(1)
    const seen: Seen[] = []
    const unsubscribe = wal.subscribe((batch) => void seen.push(seenOf(batch)))
    expect(wal.lastLsn).toBe(0)
    io.release()
    expect(await first).toEqual([1, 2])
    const second = wal.append([record('c')])
    await turn()
    io.release()
    expect(await second).toEqual([3])
    const onDisk = Array.from(wal.read(1), (frame) => ({ lsn: frame.lsn, text: text(frame.payload), hash: toHex(frame.hash) }))
    expect(seen).toEqual([
      { firstLsn: 1, lastLsn: 2, frames: onDisk.slice(0, 2) },
      { firstLsn: 3, lastLsn: 3, frames: onDisk.slice(2) },
    ])
    unsubscribe()
    await wal.close()
  })

  test('on a replica too: replicated frames written before the subscription are handed over whole', async () => {
    const leader = Wal.open(tempDir(), { durability: 'none' })
    await leader.append([record('x'), record('y'), record('z')])
    const raw = Buffer.concat(Array.from(leader.read(1), (frame) => rawFrameBytes(frame).slice()))
    const io = heldSyncIo()
    const replica = Wal.openReplica(tempDir(), { io, preallocateBytes: 0 })
    const appended = replica.appendFrames(raw)
    await turn()
    expect(io.held).toBe(1)
    const seen: Seen[] = []
    replica.subscribe((batch) => void seen.push(seenOf(batch)))
    io.release()
    expect(await appended).toBe(3)
    const fromLeader = Array.from(leader.read(1), (frame) => ({ lsn: frame.lsn, text: text(frame.payload), hash: toHex(frame.hash) }))
    expect(seen).toEqual([{ firstLsn: 1, lastLsn: 3, frames: fromLeader }])
    await replica.close()
    await leader.close()
  })
})
