/**
 * A taker whose log holds frames of epochs above the lease directory's (wal/lease.ts, "Epochs the log holds"): the
 * directory emptied by hand, or one that lost its newest files. The log refuses a writer at or below its last epoch
 * (Wal.open), so each take below it was burnt by a failed start, one per start. Given its log's last epoch
 * (`logEpoch`), the taker takes the lease above it at once, linking every epoch in between first, in turn, as
 * released records: the fencing check (n+1 exists) and the races between takers hold as for a take of current + 1.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Lease, LeaseError, nodeIo, readCurrentLease, Wal, type WalIo } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

const T0_MS = 1_000_000
const leaseOptions = { ttlMs: 10_000, clockSkewMsMax: 100, nowMs: () => T0_MS }

function epochFile(dir: string, epoch: number): string {
  return join(dir, `epoch-${String(epoch).padStart(10, '0')}.json`)
}

describe('a taker whose log holds epochs above the lease directory', () => {
  test('takes the lease above its log\'s last epoch, and its log opens under it', async () => {
    const logDir = tempDir()
    const led = Wal.open(logDir, { durability: 'none', epoch: 4 })
    await led.append([record('led at epoch 4')])
    await led.close()
    const leaseDir = tempDir()
    // Before: epoch 1, and Wal.open refused it (LEASE_LOST: the log holds frames of epoch 4).
    const lease = Lease.acquire({ dir: leaseDir, holderId: 'taker', logEpoch: () => 4, ...leaseOptions })
    expect(lease.epoch).toBe(5)
    expect(readCurrentLease(leaseDir)).toMatchObject({ epoch: 5, holderId: 'taker', expiresAtMs: T0_MS + 10_000 })
    // Epochs 2..4 linked as released records of the taker (1 tidied away already, as any take four above it does).
    for (const epoch of [2, 3, 4]) expect(JSON.parse(readFileSync(epochFile(leaseDir, epoch), 'utf8'))).toMatchObject({ epoch, holderId: 'taker', expiresAtMs: 0 })
    expect(existsSync(epochFile(leaseDir, 1))).toBe(false)
    const wal = Wal.open(logDir, { durability: 'none', lease, epoch: lease.epoch })
    expect(await wal.append([record('led at epoch 5')])).toEqual([2])
    await wal.close()
  })

  test('a log at or below the current epoch changes nothing: current + 1', () => {
    const leaseDir = tempDir()
    Lease.acquire({ dir: leaseDir, holderId: 'first', ...leaseOptions }).release()
    expect(Lease.acquire({ dir: leaseDir, holderId: 'taker', logEpoch: () => 1, ...leaseOptions }).epoch).toBe(2)
  })

  test('an epoch in between taken by another taker first: LEASE_RACE_LOST, and the other holds it', () => {
    const leaseDir = tempDir()
    let other: Lease | null = null
    // The other taker (its log at no higher epoch) reads the climb's epoch 1, released, and takes epoch 2 first.
    const io: WalIo = {
      ...nodeIo,
      link: (from, to) => {
        if (other === null && to === epochFile(leaseDir, 2)) other = Lease.acquire({ dir: leaseDir, holderId: 'other', ...leaseOptions })
        nodeIo.link(from, to)
      },
    }
    const refusal = (() => {
      try {
        Lease.acquire({ dir: leaseDir, holderId: 'taker', logEpoch: () => 3, io, ...leaseOptions })
        return null
      } catch (error) {
        return error instanceof LeaseError ? error.message : String(error)
      }
    })()
    expect(refusal).toBe('LEASE_RACE_LOST: another process took epoch 2 first')
    expect((other as Lease | null)?.epoch).toBe(2)
    expect((other as Lease | null)?.isHeld()).toBe(true)
    expect(readCurrentLease(leaseDir)).toMatchObject({ epoch: 2, holderId: 'other' })
  })

  test('the log\'s epoch is not read while the lease is held', () => {
    const leaseDir = tempDir()
    Lease.acquire({ dir: leaseDir, holderId: 'holder', ...leaseOptions })
    let reads = 0
    expect(() => Lease.acquire({ dir: leaseDir, holderId: 'taker', logEpoch: () => ++reads, ...leaseOptions })).toThrow(/LEASE_HELD/)
    expect(reads).toBe(0)
  })
})
