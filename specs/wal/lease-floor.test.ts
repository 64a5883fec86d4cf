/**
 * The lease record's log floor (wal/lease.ts `replicatedLsn`, wal/lease-floor.ts): a holder writes the LSN a standby
 * acknowledged holding into its record; a taker whose log ends below the current record's floor is refused
 * (LEASE_LOG_BEHIND) — the DR GameDay's empty node that took the lease after a site loss and lost every acknowledged
 * order — unless it accepts the loss (acceptDataLoss), which the new lease reports. Both record shapes are read both
 * ways during a rolling upgrade: a record without the field (an older holder's) guards nothing, and a record with it
 * is a lease record to the parser of the build before it (kept below as it was at c36990d), which took any key it did
 * not know along unread.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Lease, LeaseLogBehindError, readCurrentLease, type LeaseRecord } from '../../wal/index.ts'
import { leaseCodeOf, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

const EPOCH_1 = 'epoch-0000000001.json'

function manualClock(startMs: number): { nowMs: () => number; advance: (ms: number) => void } {
  let now = startMs
  return { nowMs: () => now, advance: (ms) => void (now += ms) }
}

/** A holder of epoch 1 whose standby acknowledged LSN 40, renewed and then gone (the clock moved past its expiry). */
function leaseWithFloor(dir: string, clock: ReturnType<typeof manualClock>): Lease {
  const lease = Lease.acquire({ dir, holderId: 'a http://a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs })
  lease.noteReplicated(40)
  lease.renew()
  clock.advance(1200)
  return lease
}

/** The record parser of the build before the floor (wal/lease.ts isLeaseRecord at c36990d), verbatim. */
function isLeaseRecordBefore(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Record<string, unknown>
  return (
    typeof record.holderId === 'string' &&
    Number.isInteger(record.epoch) &&
    typeof record.expiresAtMs === 'number' &&
    typeof record.renewedAtMs === 'number'
  )
}

describe('the lease record carries the log floor', () => {
  test('a renewal writes the LSN its standby acknowledged; it is never lowered, and a release keeps it', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs })
    expect(readCurrentLease(dir)?.replicatedLsn).toBe(0)
    lease.noteReplicated(40)
    lease.renew()
    expect(readCurrentLease(dir)?.replicatedLsn).toBe(40)
    lease.noteReplicated(12)
    lease.renew()
    expect(readCurrentLease(dir)?.replicatedLsn).toBe(40)
    lease.release()
    expect(readCurrentLease(dir)).toMatchObject({ expiresAtMs: 0, replicatedLsn: 40 })
  })
})

describe('the acquire rule', () => {
  test('a taker whose log ends below the floor is refused, LEASE_LOG_BEHIND naming both LSNs; the lease stays free', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaseWithFloor(dir, clock)
    let refusal: unknown = null
    try {
      Lease.acquire({ dir, holderId: 'c', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, logEndLsn: () => 0 })
    } catch (error) {
      refusal = error
    }
    expect(refusal).toBeInstanceOf(LeaseLogBehindError)
    expect(refusal).toMatchObject({ code: 'LEASE_LOG_BEHIND', logEndLsn: 0, record: { holderId: 'a http://a', epoch: 1, replicatedLsn: 40 } })
    expect(leaseCodeOf(() => Lease.acquire({ dir, holderId: 'c', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, logEndLsn: () => 39 }))).toBe('LEASE_LOG_BEHIND')
    // Nothing was written: the record is still epoch 1's.
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'a http://a', epoch: 1 })
  })

  test('a taker whose log reaches the floor (the standby in sync) takes it, and carries the floor into its record', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaseWithFloor(dir, clock)
    const taken = Lease.acquire({ dir, holderId: 'b', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, logEndLsn: () => 40 })
    expect(taken.epoch).toBe(2)
    expect(taken.dataLossAccepted).toBeNull()
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'b', epoch: 2, replicatedLsn: 40 })
  })

  test('a live lease is LEASE_HELD before any log is judged, and the log end is not read then', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const lease = Lease.acquire({ dir, holderId: 'a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs })
    lease.noteReplicated(40)
    lease.renew()
    let reads = 0
    expect(leaseCodeOf(() => Lease.acquire({ dir, holderId: 'c', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, logEndLsn: () => ++reads && 0 }))).toBe('LEASE_HELD')
    expect(reads).toBe(0)
  })

  test('acceptDataLoss takes it below the floor, says what it gave up, and lowers the floor to its own log end', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaseWithFloor(dir, clock)
    const taken = Lease.acquire({ dir, holderId: 'c', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, logEndLsn: () => 7, acceptDataLoss: true })
    expect(taken.epoch).toBe(2)
    expect(taken.dataLossAccepted).toEqual({ holderId: 'a http://a', epoch: 1, replicatedLsn: 40, logEndLsn: 7, reason: 'log_behind' })
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'c', epoch: 2, replicatedLsn: 7 })
  })

  test('a taker that does not say where its log ends is not judged (wal callers outside HA)', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaseWithFloor(dir, clock)
    expect(Lease.acquire({ dir, holderId: 'x', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs }).epoch).toBe(2)
  })
})

describe('a rolling upgrade reads both record shapes', () => {
  test('a record without the floor (written by an older holder) is read, and any taker may take it', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const old: LeaseRecord = { holderId: 'old http://old', epoch: 1, expiresAtMs: clock.nowMs() - 5_000, renewedAtMs: clock.nowMs() - 6_000 }
    writeFileSync(join(dir, EPOCH_1), JSON.stringify(old))
    expect(readCurrentLease(dir)).toEqual(old)
    const taken = Lease.acquire({ dir, holderId: 'new', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, logEndLsn: () => 0 })
    expect(taken.epoch).toBe(2)
    expect(readCurrentLease(dir)?.replicatedLsn).toBe(0)
  })

  test('a record with the floor is a lease record to the parser of the build before it (extra keys taken along unread)', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaseWithFloor(dir, clock)
    const written: unknown = JSON.parse(readFileSync(join(dir, EPOCH_1), 'utf8'))
    expect(written).toMatchObject({ replicatedLsn: 40 })
    expect(isLeaseRecordBefore(written)).toBe(true)
  })

  test('a floor that is not a whole number ≥ 0 is not a lease record (LEASE_FILE_INVALID, nothing guessed)', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    for (const replicatedLsn of [-1, 1.5, '40', null]) {
      writeFileSync(join(dir, EPOCH_1), JSON.stringify({ holderId: 'a', epoch: 1, expiresAtMs: 0, renewedAtMs: clock.nowMs(), replicatedLsn }))
      expect(leaseCodeOf(() => readCurrentLease(dir))).toBe('LEASE_FILE_INVALID')
    }
  })
})
