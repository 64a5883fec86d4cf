/**
 * The writes of a holder whose epoch was taken again by a taker whose log lacks that epoch's frames.
 *
 * Holder `old` leads at epoch n; its epoch file is lost (a lease directory emptied by hand, a damaged disk) and a taker
 * whose log holds no frame of epoch n (asynchronous replication behind, or `old` wrote nothing at n yet) takes the lease:
 * its log's last epoch + 1 is n, and the link succeeds, the name being free. Wal.open does not refuse it (its log holds
 * no frame of n), so both write at epoch n. Before, `old`'s fencing check (before each batch and after its fsync) found
 * no epoch n+1 and an epoch-n file, read the taker's file as its own, and acknowledged every append until its next
 * renewal read the taker's record (LEASE_LOST, wal/lease-retaken): up to one renewal interval (an HA node's tick, a
 * quarter of the lease) of acknowledged writes at an epoch another leader writes too. The check now tells its own file
 * from another linked under the same name (device, inode, change time, size; on a difference it reads the record once):
 * `old` is fenced at its first batch after the link. Its own file under another identity (its renewals rename a new
 * one in; a copy put back by hand) is read once and held.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { copyFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Lease, LeaseError, nodeIo, Wal, type WalIo } from '../../wal/index.ts'
import { record, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

const T0_MS = 1_000_000
const leaseOptions = { ttlMs: 10_000, clockSkewMsMax: 100, nowMs: () => T0_MS }
/** Longer than a kernel's coarse clock tick (HZ 100: 10 ms), by which a kernel before 6.13 stamps a file's change time. */
const TICK_MS_MAX = 20

/** How `wal`'s append ended: acknowledged, or the LeaseError's code. */
async function appendOutcome(wal: Wal, text: string): Promise<string> {
  return wal.append([record(text)]).then(() => 'acknowledged', (error: unknown) => (error instanceof LeaseError ? error.code : String(error)))
}

/** `old` leading at epoch 2 (taken over from a first holder), with one write acknowledged. */
async function leaderAtEpoch2(leaseDir: string): Promise<{ old: Lease; oldWal: Wal }> {
  Lease.acquire({ dir: leaseDir, holderId: 'first', ...leaseOptions }).release()
  const old = Lease.acquire({ dir: leaseDir, holderId: 'old', ...leaseOptions })
  expect(old.epoch).toBe(2)
  const oldWal = Wal.open(tempDir(), { lease: old, epoch: old.epoch, durability: 'none' })
  expect(await appendOutcome(oldWal, 'before the loss')).toBe('acknowledged')
  return { old, oldWal }
}

describe('a holder whose epoch was taken again by a taker whose log lacks that epoch', () => {
  test('is fenced at its first write after the link: no write of it is acknowledged beside the taker\'s', async () => {
    const leaseDir = tempDir()
    const { old, oldWal } = await leaderAtEpoch2(leaseDir)
    rmSync(join(leaseDir, 'epoch-0000000002.json'))
    // A clock tick later than old's link (WalIo.fileIdentity: a kernel before 6.13 stamps change times by the tick, and
    // ext4 gives the taker's file the lost file's inode number).
    await Bun.sleep(TICK_MS_MAX)
    // The taker's log ends at epoch 1 (it lags: none of old's epoch-2 frames reached it): it takes epoch 2 again.
    const taker = Lease.acquire({ dir: leaseDir, holderId: 'taker', logEpoch: () => 1, ...leaseOptions })
    expect(taker.epoch).toBe(2)
    const takerWal = Wal.open(tempDir(), { lease: taker, epoch: taker.epoch, durability: 'none' })
    // Before: ['acknowledged', 'acknowledged', 'acknowledged'], every one until old's next renewal (LEASE_LOST).
    const oldOutcomes = [await appendOutcome(oldWal, 'after the take 1'), await appendOutcome(oldWal, 'after the take 2'), await appendOutcome(oldWal, 'after the take 3')]
    expect(oldOutcomes).toEqual(['LEASE_LOST', 'LEASE_LOST', 'LEASE_LOST'])
    expect(old.isHeld()).toBe(false)
    expect(await appendOutcome(takerWal, 'the taker leads')).toBe('acknowledged')
    expect(taker.isHeld()).toBe(true)
    await takerWal.close()
    await oldWal.close().catch(() => undefined)
  })

  test('a taker\'s file given the lost file\'s inode number again (freed, reused at once) is told apart by its change time', async () => {
    const leaseDir = tempDir()
    // Every file here reports one inode number, as the file system reusing the freed one for the taker's would.
    const io: WalIo = { ...nodeIo, fileIdentity: (path) => { const identity = nodeIo.fileIdentity(path); return identity === null ? null : { ...identity, ino: 1 } } }
    Lease.acquire({ dir: leaseDir, holderId: 'first', ...leaseOptions }).release()
    const old = Lease.acquire({ dir: leaseDir, holderId: 'old', io, ...leaseOptions })
    const oldWal = Wal.open(tempDir(), { lease: old, epoch: old.epoch, durability: 'none' })
    expect(await appendOutcome(oldWal, 'before the loss')).toBe('acknowledged')
    rmSync(join(leaseDir, 'epoch-0000000002.json'))
    await Bun.sleep(TICK_MS_MAX)
    expect(Lease.acquire({ dir: leaseDir, holderId: 'taker', logEpoch: () => 1, ...leaseOptions }).epoch).toBe(2)
    expect(await appendOutcome(oldWal, 'after the take')).toBe('LEASE_LOST')
    await oldWal.close().catch(() => undefined)
  })

  test('its own renewals change its file and fence nothing; emptied and not taken, it holds and writes its file again', async () => {
    const leaseDir = tempDir()
    const { old, oldWal } = await leaderAtEpoch2(leaseDir)
    old.renew()
    expect(await appendOutcome(oldWal, 'after a renewal')).toBe('acknowledged')
    await old.renewOffLoop()
    expect(await appendOutcome(oldWal, 'after a renewal off the loop')).toBe('acknowledged')
    rmSync(join(leaseDir, 'epoch-0000000002.json'))
    expect(await appendOutcome(oldWal, 'its file gone, no taker')).toBe('acknowledged')
    old.renew()
    expect(await appendOutcome(oldWal, 'its file written again')).toBe('acknowledged')
    expect(old.isHeld()).toBe(true)
    await oldWal.close()
  })

  test('its own file replaced by a copy of its own record (a restore, a copy by hand): still held', async () => {
    const leaseDir = tempDir()
    const { old, oldWal } = await leaderAtEpoch2(leaseDir)
    const path = join(leaseDir, 'epoch-0000000002.json')
    const copy = `${path}.copy`
    copyFileSync(path, copy)
    renameSync(copy, path)
    expect(await appendOutcome(oldWal, 'after the copy')).toBe('acknowledged')
    expect(old.isHeld()).toBe(true)
    await oldWal.close()
  })
})
