/**
 * The lease record's in-sync set (wal/lease.ts `inSync`, wal/lease-in-sync.ts, wal/lease-floor.ts): the floor
 * (`replicatedLsn`) is at most one renewal old, so a node whose log ends between it and what was truly acknowledged —
 * a second, lagging standby, or a node started from an old copy — passed the floor and could take over, losing
 * acknowledged orders. A record that names its in-sync set refuses a taker outside it (LEASE_NOT_IN_SYNC) unless it
 * accepts the loss; a member is held to the floor and to the LSN it joined at; the holder may take its own lease back.
 * Both shapes are read both ways during a rolling upgrade.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Lease, LeaseNotInSyncError, readCurrentLease, type LeaseRecord } from '../../wal/index.ts'
import { leaseCodeOf, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

const EPOCH_1 = 'epoch-0000000001.json'

function manualClock(startMs: number): { nowMs: () => number; advance: (ms: number) => void } {
  let now = startMs
  return { nowMs: () => now, advance: (ms) => void (now += ms) }
}

/**
 * Leader `a` whose in-sync standby `b` joined at LSN 40 and acknowledged up to 60 — every 202 up to 60 — while the
 * record's floor, written at the last renewal, says 50; then gone (the clock past its expiry).
 */
function leaderWithInSyncStandby(dir: string, clock: ReturnType<typeof manualClock>): Lease {
  const lease = Lease.acquire({ dir, holderId: 'node-a http://a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs })
  lease.setInSync([{ nodeId: 'node-b', joinedLsn: 40 }])
  lease.noteReplicated(50)
  lease.renew()
  clock.advance(1200)
  return lease
}

function take(dir: string, clock: ReturnType<typeof manualClock>, nodeId: string, logEndLsn: number, acceptDataLoss = false): Lease {
  return Lease.acquire({ dir, holderId: `${nodeId} http://${nodeId}`, nodeId, ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, logEndLsn: () => logEndLsn, acceptDataLoss })
}

/** The record parser of the build before the in-sync set (wal/lease.ts isLeaseRecord at 7471dae), verbatim. */
function isLeaseRecordBefore(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Record<string, unknown>
  return (
    typeof record.holderId === 'string' &&
    Number.isInteger(record.epoch) &&
    typeof record.expiresAtMs === 'number' &&
    typeof record.renewedAtMs === 'number' &&
    (record.replicatedLsn === undefined || (Number.isSafeInteger(record.replicatedLsn) && (record.replicatedLsn as number) >= 0))
  )
}

describe('a record naming its in-sync set', () => {
  test('the third node: its log passes the floor (55 ≥ 50) but it is not in the set — refused LEASE_NOT_IN_SYNC, the lease left free', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaderWithInSyncStandby(dir, clock)
    let refusal: unknown = null
    try {
      take(dir, clock, 'node-c', 55)
    } catch (error) {
      refusal = error
    }
    expect(refusal).toBeInstanceOf(LeaseNotInSyncError)
    expect(refusal).toMatchObject({ code: 'LEASE_NOT_IN_SYNC', nodeId: 'node-c', logEndLsn: 55, record: { holderId: 'node-a http://a', epoch: 1, replicatedLsn: 50, inSync: ['node-b'] } })
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'node-a http://a', epoch: 1 })
  })

  test('a member takes it (held to the floor and its join LSN) and carries the set on without itself', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaderWithInSyncStandby(dir, clock)
    const taken = take(dir, clock, 'node-b', 60)
    expect(taken.epoch).toBe(2)
    // The last member: its record's floor is its log end (where its history begins, wal/lease-floor.ts), not 50.
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'node-b http://node-b', epoch: 2, replicatedLsn: 60, inSync: [] })
    expect(taken.inSync).toEqual([])
  })

  test('a member whose log ends below the LSN it joined at (an old copy under its name) is LEASE_LOG_BEHIND, even above the floor', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const lease = Lease.acquire({ dir, holderId: 'node-a http://a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs })
    lease.setInSync([{ nodeId: 'node-b', joinedLsn: 70 }])
    lease.noteReplicated(50)
    lease.renew()
    clock.advance(1200)
    expect(leaseCodeOf(() => take(dir, clock, 'node-b', 60))).toBe('LEASE_LOG_BEHIND')
    expect(take(dir, clock, 'node-b', 70).epoch).toBe(2)
  })

  test('the holder takes its own lease back (its log holds what it acknowledged), still held to the floor', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaderWithInSyncStandby(dir, clock)
    expect(leaseCodeOf(() => take(dir, clock, 'node-a', 10))).toBe('LEASE_LOG_BEHIND')
    const taken = take(dir, clock, 'node-a', 80)
    expect(readCurrentLease(dir)).toMatchObject({ epoch: 2, inSync: [{ nodeId: 'node-b', joinedLsn: 40 }] })
    expect(taken.dataLossAccepted).toBeNull()
  })

  test('acceptDataLoss takes it from outside the set, says so, and starts without a set (its members hold records it lacks)', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaderWithInSyncStandby(dir, clock)
    const taken = take(dir, clock, 'node-c', 55, true)
    expect(taken.dataLossAccepted).toEqual({ holderId: 'node-a http://a', epoch: 1, replicatedLsn: 50, logEndLsn: 55, reason: 'not_in_sync' })
    const record = readCurrentLease(dir)
    expect(record).toMatchObject({ holderId: 'node-c http://node-c', epoch: 2, replicatedLsn: 55 })
    expect(record?.inSync).toBeUndefined()
  })

  test('the unnamed member (standbys too old to name themselves) is no new-build node: a taker is judged by its own id', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const lease = Lease.acquire({ dir, holderId: 'node-a http://a', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs })
    lease.setInSync([{ nodeId: '', joinedLsn: 40 }])
    lease.renew()
    clock.advance(1200)
    expect(leaseCodeOf(() => take(dir, clock, 'node-c', 55))).toBe('LEASE_NOT_IN_SYNC')
  })

  test('a taker that does not name its node is not judged by the set (wal callers outside HA)', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaderWithInSyncStandby(dir, clock)
    expect(Lease.acquire({ dir, holderId: 'x', ttlMs: 1000, clockSkewMsMax: 100, nowMs: clock.nowMs, logEndLsn: () => 55 }).epoch).toBe(2)
  })
})

describe('a rolling upgrade reads both record shapes', () => {
  test('a record without the set (an older holder, or asynchronous replication) guards by the floor alone', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const old: LeaseRecord = { holderId: 'node-a http://a', epoch: 1, expiresAtMs: clock.nowMs() - 5_000, renewedAtMs: clock.nowMs() - 6_000, replicatedLsn: 50 }
    writeFileSync(join(dir, EPOCH_1), JSON.stringify(old))
    expect(leaseCodeOf(() => take(dir, clock, 'node-c', 49))).toBe('LEASE_LOG_BEHIND')
    const taken = take(dir, clock, 'node-c', 55)
    expect(taken.epoch).toBe(2)
    expect(readCurrentLease(dir)?.inSync).toBeUndefined()
  })

  test('a record with the set is a lease record to the parser of the build before it (extra keys taken along unread)', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    leaderWithInSyncStandby(dir, clock)
    const written: unknown = JSON.parse(readFileSync(join(dir, EPOCH_1), 'utf8'))
    expect(written).toMatchObject({ replicatedLsn: 50, inSync: [{ nodeId: 'node-b', joinedLsn: 40 }] })
    expect(isLeaseRecordBefore(written)).toBe(true)
  })

  test('a malformed set is no lease record (LEASE_FILE_INVALID, nothing guessed)', () => {
    const dir = tempDir()
    const clock = manualClock(1_000_000)
    const many = Array.from({ length: 17 }, (_, index) => ({ nodeId: `n${index}`, joinedLsn: 1 }))
    for (const inSync of [{}, [{ nodeId: 5, joinedLsn: 1 }], [{ nodeId: 'b', joinedLsn: -1 }], [{ nodeId: 'b' }], many, ['b']]) {
      writeFileSync(join(dir, EPOCH_1), JSON.stringify({ holderId: 'a', epoch: 1, expiresAtMs: 0, renewedAtMs: clock.nowMs(), replicatedLsn: 1, inSync }))
      expect(leaseCodeOf(() => readCurrentLease(dir))).toBe('LEASE_FILE_INVALID')
    }
  })
})
