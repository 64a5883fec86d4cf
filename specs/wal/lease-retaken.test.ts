/**
 * An epoch taken twice: the holder's epoch file gone from under it (a lease directory emptied by hand, a damaged disk
 * that lost the newest file) lets a taker link that very epoch again, and the two-stat fencing check then reads the
 * taker's file as the holder's own. Both held epoch n, renewing one file in turn, for as long as they ran: two leaders
 * stamping the same epoch on their frames. A renewal reads the record before it writes: another holder's record under
 * its epoch file means this lease was taken, and it is LEASE_LOST for good.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Lease, LeaseError, readCurrentLease } from '../../wal/index.ts'
import { removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

function leaseCode(action: () => unknown): string | null {
  try {
    action()
    return null
  } catch (error) {
    if (error instanceof LeaseError) return error.code
    throw error
  }
}

const clockAt = (ms: number): (() => number) => () => ms

describe('a holder whose epoch file was taken again by another holder', () => {
  test('emptied by hand and taken at the same epoch: the old holder\'s next renewal is LEASE_LOST, the taker holds', () => {
    const dir = tempDir()
    const old = Lease.acquire({ dir, holderId: 'old', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clockAt(1_000_000) })
    rmSync(join(dir, 'epoch-0000000001.json'))
    const taker = Lease.acquire({ dir, holderId: 'taker', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clockAt(1_000_100) })
    expect(taker.epoch).toBe(old.epoch)
    expect(leaseCode(() => old.renew())).toBe('LEASE_LOST')
    expect(old.isHeld()).toBe(false)
    // The taker's record was left as it wrote it, and its renewals go on.
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'taker', epoch: 1 })
    taker.renew()
    expect(taker.isHeld()).toBe(true)
  })

  test('the newest file lost from a damaged disk and taken again from the record before it: the same', () => {
    const dir = tempDir()
    let now = 1_000_000
    const nowMs = (): number => now
    Lease.acquire({ dir, holderId: 'first', ttlMs: 1000, clockSkewMsMax: 100, nowMs }).release()
    now += 10
    const old = Lease.acquire({ dir, holderId: 'old', ttlMs: 1000, clockSkewMsMax: 100, nowMs })
    expect(old.epoch).toBe(2)
    rmSync(join(dir, 'epoch-0000000002.json'))
    const taker = Lease.acquire({ dir, holderId: 'taker', ttlMs: 1000, clockSkewMsMax: 100, nowMs })
    expect(taker.epoch).toBe(2)
    expect(leaseCode(() => old.renew())).toBe('LEASE_LOST')
    // Fenced for good, whatever the file says later.
    expect(old.isHeld()).toBe(false)
    expect(leaseCode(() => old.release())).toBeNull()
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'taker', epoch: 2 })
  })

  test('its own record still there, or none at all (emptied, not taken): the renewal holds and writes it', () => {
    const dir = tempDir()
    let now = 1_000_000
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: () => now })
    now += 250
    lease.renew()
    now += 250
    lease.renew()
    rmSync(join(dir, 'epoch-0000000001.json'))
    now += 250
    lease.renew()
    expect(lease.isHeld()).toBe(true)
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'a', epoch: 1, renewedAtMs: 1_000_750 })
  })
})
