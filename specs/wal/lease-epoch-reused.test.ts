/**
 * An epoch taken again while its holder still leads, by a taker whose log already holds that epoch's frames.
 *
 * The window: holder `old` leads at epoch 1 and its standby's log has its frames; epoch 1's file is lost (a lease
 * directory emptied by hand, a damaged disk), and the standby takes the lease — epoch 1 again (the link succeeds: the
 * name is free). From that link until `old`'s next renewal (which reads another holder's record there: LEASE_LOST,
 * wal/lease-retaken), `old`'s fencing check before each batch finds no epoch 2 and an epoch-1 file, and reads the lease
 * as held. Opened on the taker's log at epoch 1, both wrote and acknowledged at epoch 1: two leaders, one epoch, two
 * histories no reader can tell apart by epoch. A writer with a lease refuses a log that already holds its epoch's
 * frames; the taker gives the lease up and takes epoch 2, which fences `old` at its very next write. (`old`'s check
 * now tells the taker's file from its own and is fenced at its next write by that already: wal/lease-retaken-writes.)
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Lease, LeaseError, rawFrameBytes, Wal } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

const T0_MS = 1_000_000
const leaseOptions = { ttlMs: 10_000, clockSkewMsMax: 100, nowMs: () => T0_MS }

/** The raw bytes of every frame of `wal`, as a leader streams them to its standby. */
function allFrames(wal: Wal): Uint8Array {
  return Buffer.concat([...wal.read(1)].map((frame) => rawFrameBytes(frame).slice()))
}

/** `old` leading at epoch 1 on its log, and its standby's copy of that log (closed), holding frames of epoch 1. */
async function leaderAndStandbyCopy(leaseDir: string): Promise<{ old: Lease; oldWal: Wal; standbyLog: string }> {
  const old = Lease.acquire({ dir: leaseDir, holderId: 'old', ...leaseOptions })
  const oldWal = Wal.open(tempDir(), { lease: old, epoch: old.epoch, durability: 'none' })
  expect(await oldWal.append([record('bootstrap at epoch 1')])).toEqual([1])
  const standbyLog = tempDir()
  const replica = Wal.openReplica(standbyLog, { durability: 'none' })
  await replica.appendFrames(allFrames(oldWal))
  await replica.close()
  return { old, oldWal, standbyLog }
}

/** Who of `wals` got an append acknowledged now. */
async function acknowledgedWriters(wals: Record<string, Wal>): Promise<string[]> {
  const writers: string[] = []
  for (const [name, wal] of Object.entries(wals)) {
    const acknowledged = await wal.append([record(`written by ${name}`)]).then(() => true, () => false)
    if (acknowledged) writers.push(name)
  }
  return writers
}

describe('a taker whose log already holds frames of the epoch it took', () => {
  test('is refused the log at that epoch: the old holder is the only writer at epoch 1', async () => {
    const leaseDir = tempDir()
    const { old, oldWal, standbyLog } = await leaderAndStandbyCopy(leaseDir)
    rmSync(join(leaseDir, 'epoch-0000000001.json'))
    const taker = Lease.acquire({ dir: leaseDir, holderId: 'taker', ...leaseOptions })
    expect(taker.epoch).toBe(1)
    // The old holder's fencing check finds another file under its epoch's name, the taker's record in it: fenced
    // (wal/lease-retaken-writes; before, it read the taker's file as its own until its next renewal).
    expect(old.isHeld()).toBe(false)
    let takerWal: Wal | null = null
    let refusal: unknown = null
    try {
      takerWal = Wal.open(standbyLog, { lease: taker, epoch: taker.epoch, durability: 'none' })
    } catch (error) {
      refusal = error
    }
    // Without the refusal: ['taker'], writing at epoch 1 after old's frames of epoch 1 (and, before old's check told
    // the taker's file from its own, ['old', 'taker']: both acknowledged at epoch 1).
    expect(await acknowledgedWriters({ old: oldWal, ...(takerWal === null ? {} : { taker: takerWal }) })).toEqual([])
    expect(refusal).toBeInstanceOf(LeaseError)
    expect((refusal as LeaseError).code).toBe('LEASE_LOST')
    expect((refusal as LeaseError).message).toMatch(/already holds frames of epoch 1/)
    await takerWal?.close()
    await oldWal.close()
  })

  test('given up, the lease is taken at the next epoch: the taker writes, the old holder is fenced at its next append', async () => {
    const leaseDir = tempDir()
    const { oldWal, standbyLog } = await leaderAndStandbyCopy(leaseDir)
    rmSync(join(leaseDir, 'epoch-0000000001.json'))
    const refused = Lease.acquire({ dir: leaseDir, holderId: 'taker', ...leaseOptions })
    expect(() => Wal.open(standbyLog, { lease: refused, epoch: refused.epoch, durability: 'none' })).toThrow(LeaseError)
    refused.release()
    const taker = Lease.acquire({ dir: leaseDir, holderId: 'taker', ...leaseOptions })
    expect(taker.epoch).toBe(2)
    const takerWal = Wal.open(standbyLog, { lease: taker, epoch: taker.epoch, durability: 'none' })
    expect(await acknowledgedWriters({ old: oldWal, taker: takerWal })).toEqual(['taker'])
    expect([...takerWal.read(1)].map((frame) => frame.epoch)).toEqual([1, 2])
    await takerWal.close()
    await oldWal.close().catch(() => {})
  })

  test('a writer without a lease (a single node, epoch 1) still reopens its own log', async () => {
    const dir = tempDir()
    const first = Wal.open(dir, { durability: 'none' })
    await first.append([record('one')])
    await first.close()
    const second = Wal.open(dir, { durability: 'none' })
    expect(await second.append([record('two')])).toEqual([2])
    await second.close()
  })
})
