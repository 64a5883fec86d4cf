import { afterEach, describe, expect, test } from 'bun:test'
import { Wal, WalRecordError, WalReplicationError, hashesEqual, openReadOnly, rawFrameBytes, toHex, type RecordInput } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir, text } from './support.ts'

afterEach(removeTempDirs)

/** The raw bytes of frames fromLsn..toLsn of `wal`, concatenated as a leader streams them. */
function rawRange(wal: Wal, fromLsn: number, toLsn = wal.lastLsn): Uint8Array {
  const parts: Uint8Array[] = []
  for (const frame of wal.read(fromLsn, { toLsn })) parts.push(rawFrameBytes(frame).slice())
  return Buffer.concat(parts)
}

/** A leader log holding `records`, appended `appendRecords` at a time (all in one append unless given). */
async function leaderWith(records: RecordInput[], epoch = 1, appendRecords = records.length): Promise<Wal> {
  const wal = Wal.open(tempDir(), { durability: 'none', epoch })
  for (let index = 0; index < records.length; index += appendRecords) await wal.append(records.slice(index, index + appendRecords))
  return wal
}

function expectRefusal(promise: Promise<unknown>, code: string): Promise<void> {
  return promise.then(
    () => {
      throw new Error(`expected a ${code} refusal`)
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(WalReplicationError)
      expect((error as WalReplicationError).code).toBe(code as WalReplicationError['code'])
    },
  )
}

describe('appendFrames (replication)', () => {
  test('the same bytes give the same LSNs, payloads and chain head as the leader', async () => {
    const leader = await leaderWith(Array.from({ length: 40 }, (_, index) => record(`r${index}`)))
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    expect(await replica.appendFrames(rawRange(leader, 1, 25))).toBe(25)
    expect(await replica.appendFrames(rawRange(leader, 26))).toBe(40)
    expect(toHex(replica.chainHead)).toBe(toHex(leader.chainHead))
    expect(Array.from(replica.read(1), (frame) => text(frame.payload))).toEqual(Array.from(leader.read(1), (frame) => text(frame.payload)))
    await replica.close()
    // Reopening verifies every frame and the chain again (the pair check to the one made before writing).
    const reopened = openReadOnly(replica.dir)
    expect(reopened.lastLsn).toBe(40)
    expect(hashesEqual(reopened.chainHead, leader.chainHead)).toBe(true)
    await leader.close()
  })

  test('segments roll on the replica at its own size limit without splitting frames', async () => {
    const leader = await leaderWith(Array.from({ length: 200 }, (_, index) => record(`payload-${index}-${'x'.repeat(60)}`)), 1, 1)
    const replica = Wal.openReplica(tempDir(), { durability: 'none', segmentBytesMax: 4096 })
    await replica.appendFrames(rawRange(leader, 1))
    expect(replica.segments.length).toBeGreaterThan(3)
    await replica.close()
    const again = Wal.openReplica(replica.dir, { durability: 'none', segmentBytesMax: 4096 })
    expect(again.lastLsn).toBe(200)
    expect(toHex(again.chainHead)).toBe(toHex(leader.chainHead))
    await again.close()
    await leader.close()
  })

  test('the replica rolls only between appends, and a replica left holding part of an append cuts it on open and takes it whole again', async () => {
    const leader = await leaderWith(Array.from({ length: 200 }, (_, index) => record(`payload-${index}-${'x'.repeat(60)}`)), 1, 10)
    const replica = Wal.openReplica(tempDir(), { durability: 'none', segmentBytesMax: 4096 })
    await replica.appendFrames(rawRange(leader, 1, 95))
    await replica.close()
    expect(replica.segments.length).toBeGreaterThanOrEqual(3)
    for (const segment of replica.segments.slice(0, -1)) expect(segment.lastLsn % 10).toBe(0)
    const reopened = Wal.openReplica(replica.dir, { durability: 'none', segmentBytesMax: 4096 })
    expect(reopened.lastLsn).toBe(90)
    expect(reopened.recovery.tornTail).toMatchObject({ lsn: 91, appendFramesRemoved: 5, reason: 'its append incomplete' })
    expect(await reopened.appendFrames(rawRange(leader, 91))).toBe(200)
    expect(toHex(reopened.chainHead)).toBe(toHex(leader.chainHead))
    await reopened.close()
    expect(openReadOnly(reopened.dir).lastLsn).toBe(200)
    await leader.close()
  })

  test('a frame with a bad CRC is refused and nothing of the chunk is written', async () => {
    const leader = await leaderWith([record('a'), record('b'), record('c')])
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    const bytes = rawRange(leader, 1)
    bytes[bytes.byteLength - 1] = (bytes[bytes.byteLength - 1] as number) ^ 0xff
    await expectRefusal(replica.appendFrames(bytes), 'FRAME_CORRUPT')
    expect(replica.lastLsn).toBe(0)
    // The log stays healthy: a good chunk is taken afterwards.
    expect(await replica.appendFrames(rawRange(leader, 1))).toBe(3)
    await leader.close()
    await replica.close()
  })

  test('an LSN gap is refused', async () => {
    const leader = await leaderWith([record('a'), record('b'), record('c')])
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    await replica.appendFrames(rawRange(leader, 1, 1))
    await expectRefusal(replica.appendFrames(rawRange(leader, 3)), 'LSN_GAP')
    expect(replica.lastLsn).toBe(1)
    await leader.close()
    await replica.close()
  })

  test('a frame of a lower epoch than the log already holds is refused', async () => {
    const newer = await leaderWith([record('a')], 2)
    const older = await leaderWith([record('a'), record('b')], 1)
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    await replica.appendFrames(rawRange(newer, 1))
    expect(replica.lastEpoch).toBe(2)
    await expectRefusal(replica.appendFrames(rawRange(older, 2)), 'EPOCH_REGRESSION')
    await newer.close()
    await older.close()
    await replica.close()
  })

  test('a frame above the epoch ceiling (the lease\'s current epoch) is refused (EPOCH_AHEAD); the ceiling is read only when the epoch rises', async () => {
    const term1 = await leaderWith([record('a'), record('b')], 1)
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    let reads = 0
    const ceiling = (): number => {
      reads++
      return 1
    }
    expect(await replica.appendFrames(rawRange(term1, 1, 1), { epochCeiling: ceiling })).toBe(1)
    expect(await replica.appendFrames(rawRange(term1, 2), { epochCeiling: ceiling })).toBe(2)
    // Epoch 1 over an empty log raised the epoch once; frames of the same epoch after it do not read the ceiling.
    expect(reads).toBe(1)
    // Frames of epoch 5 that chain from the replica's head (a peer that rewrote them): refused, nothing written.
    const rewritten = Wal.open(tempDir(), { durability: 'none', epoch: 1 })
    await rewritten.append([record('a'), record('b')])
    await rewritten.close()
    const reopened = Wal.open(rewritten.dir, { durability: 'none', epoch: 5 })
    await reopened.append([record('c')])
    await expectRefusal(replica.appendFrames(rawRange(reopened, 3), { epochCeiling: ceiling }), 'EPOCH_AHEAD')
    expect({ lastLsn: replica.lastLsn, lastEpoch: replica.lastEpoch, reads }).toEqual({ lastLsn: 2, lastEpoch: 1, reads: 2 })
    // Once the lease has reached epoch 5 (a takeover), the same frames are taken; without a ceiling, as before.
    expect(await replica.appendFrames(rawRange(reopened, 3), { epochCeiling: () => 5 })).toBe(3)
    expect(replica.lastEpoch).toBe(5)
    await Promise.all([term1.close(), reopened.close(), replica.close()])
  })

  test('frames that do not chain from the replica head (a fork) are refused', async () => {
    const leader = await leaderWith([record('a'), record('b')])
    const fork = await leaderWith([record('A'), record('b')])
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    await replica.appendFrames(rawRange(fork, 1, 1))
    await expectRefusal(replica.appendFrames(rawRange(leader, 2)), 'CHAIN_BREAK')
    expect(replica.lastLsn).toBe(1)
    await leader.close()
    await fork.close()
    await replica.close()
  })

  test('a replica refuses records of its own, and a leader log refuses replicated frames', async () => {
    const leader = await leaderWith([record('a')])
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    await expect(replica.append([record('x')])).rejects.toBeInstanceOf(WalRecordError)
    await expectRefusal(leader.appendFrames(rawRange(leader, 1)), 'NOT_A_REPLICA')
    await leader.close()
    await replica.close()
  })

  test('a replica takes its epoch from the frames it holds and can be reopened as a leader of a later epoch', async () => {
    const leader = await leaderWith([record('a'), record('b')], 3)
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    await replica.appendFrames(rawRange(leader, 1))
    await replica.close()
    expect(() => Wal.open(replica.dir, { durability: 'none', epoch: 2 })).toThrow()
    const promoted = Wal.open(replica.dir, { durability: 'none', epoch: 4 })
    expect(await promoted.append([record('c')])).toEqual([3])
    await promoted.close()
    await leader.close()
  })

  test('commit listeners (tail followers) see replicated frames', async () => {
    const leader = await leaderWith([record('a'), record('b')])
    const replica = Wal.openReplica(tempDir(), { durability: 'none' })
    const seen: string[] = []
    replica.subscribe((batch) => {
      for (const frame of batch.frames) seen.push(`${frame.lsn}:${text(frame.payload)}`)
    })
    await replica.appendFrames(rawRange(leader, 1))
    expect(seen).toEqual(['1:a', '2:b'])
    await leader.close()
    await replica.close()
  })
})
