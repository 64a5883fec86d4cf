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

/** The LSNs of each chunk's frames. */
function lsnsOf(chunks: Uint8Array[]): number[][] {
  return chunks.map((chunk) => {
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const lsns: number[] = []
    for (let offset = 0; offset < chunk.byteLength; offset += view.getUint32(offset, true) + 8) lsns.push(Number(view.getBigUint64(offset + 40, true)))
    return lsns
  })
}

describe('WholeAppends', () => {
  test('hands on only frames of appends whose last frame has come, holding the rest; bytes it cannot walk pass whole', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    await wal.append([record('a0'), record('a1'), record('a2')])
    await wal.append([record('b0')])
    await wal.append([record('c0'), record('c1')])
    const frames = rawFrames(wal)
    await wal.close()
    const whole = new WholeAppends(1 << 20)
    const take = (from: number, to: number): number[][] => lsnsOf(whole.take(Buffer.concat(frames.slice(from, to))))
    expect(take(0, 2)).toEqual([]) // a0 a1: the append is open
    expect(whole.heldBytes).toBeGreaterThan(0)
    // a2 closes the held append (it goes alone), b0 is whole, c0 opens the next.
    expect(take(2, 5)).toEqual([[1, 2, 3], [4]])
    expect(take(5, 6)).toEqual([[5, 6]])
    expect(whole.heldBytes).toBe(0)
    expect(take(0, 6)).toEqual([[1, 2, 3, 4, 5, 6]])
    const garbage = new Uint8Array([1, 2, 3])
    expect(whole.take(garbage)).toEqual([garbage])
  })

  test('chunks are whole appends of at most the batch bound; one append larger than it goes alone', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    for (let append = 0; append < 4; append++) await wal.append([record(`s${append}`.padEnd(100, '.'))])
    await wal.append(Array.from({ length: 6 }, (_, index) => record(`big${index}`.padEnd(100, '.'))))
    await wal.append([record('t'.padEnd(100, '.'))])
    const frames = rawFrames(wal)
    await wal.close()
    // 156 bytes a frame: two one-frame appends fit 400 bytes, the six-frame append (936) does not.
    const chunks = new WholeAppends(400).take(Buffer.concat(frames))
    expect(lsnsOf(chunks)).toEqual([[1, 2], [3, 4], [5, 6, 7, 8, 9, 10], [11]])
  })

  test('more than its bound held is refused, and nothing stays held', async () => {
    const wal = Wal.open(tempDir(), { durability: 'none' })
    await wal.append(Array.from({ length: 10 }, (_, index) => record(`x${index}`.padEnd(100, '.'))))
    const frames = rawFrames(wal)
    await wal.close()
    const whole = new WholeAppends(1 << 20, 500)
    expect(() => whole.take(Buffer.concat(frames.slice(0, 9)))).toThrow('exceeds 500 bytes')
    expect(whole.heldBytes).toBe(0)
  })
})

describe('a replica takes one whole append larger than its batch bound', () => {
  test('appendFrames takes it alone (as a leader writes it), and still refuses more than the bound that is not one append', async () => {
    const leader = Wal.open(tempDir(), { durability: 'none' })
    await leader.append(Array.from({ length: 40 }, (_, index) => record(`big${index}`.padEnd(200, '.'))))
    await leader.append([record('after')])
    const frames = rawFrames(leader)
    await leader.close()
    const replica = Wal.openReplica(tempDir(), { durability: 'none', batchBytesMax: 4096 })
    expect(await replica.appendFrames(Buffer.concat(frames.slice(0, 40)))).toBe(40)
    expect(await replica.appendFrames(Buffer.concat(frames.slice(40)))).toBe(41)
    await replica.close()
    const other = Wal.openReplica(tempDir(), { durability: 'none', batchBytesMax: 4096 })
    await expect(other.appendFrames(Buffer.concat(frames.slice(0, 30)))).rejects.toThrow('is not one whole append')
    await other.close()
    expect(Wal.openReplica(replica.dir, { durability: 'none', batchBytesMax: 4096 }).lastLsn).toBe(41)
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

  test('one append larger than the replica\'s batch bound (6 MiB: serve-ha\'s 1 MiB chunks, 8 MiB envelopes) is followed through', async () => {
    const leader = Wal.open(tempDir(), { durability: 'none' })
    await leader.append([record('before')])
    // Six records of 1,000,000 bytes in one append: the leader takes it (queue bound 64 MiB; a batch of its own).
    await leader.append(Array.from({ length: 6 }, (_, index) => record(String(index).padEnd(1_000_000, 'x'))))
    await leader.append([record('after')])
    const server = serveReplication(() => leader, haHttp({ chunkBytesMax: 1024 * 1024 }))
    cleanups.push(() => server.stop())
    const replica = Wal.openReplica(tempDir(), { durability: 'none' }) // the default batch bound, 4 MiB
    const lines: string[] = []
    const follower = replicator(replica, () => server.url, { envelopeBytesMax: 8 * 1024 * 1024, log: (line) => lines.push(line) })
    follower.start()
    cleanups.push(() => follower.stop())
    await waitFor(() => replica.lastLsn === leader.lastLsn, 5_000, `the replica to catch up (${lines.slice(0, 2).join('; ')})`)
    await follower.stop()
    await replica.close()
    await leader.close()
    expect(Wal.openReplica(replica.dir, { durability: 'none' }).lastLsn).toBe(8)
  })
})
