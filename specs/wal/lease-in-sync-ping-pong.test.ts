/**
 * The ping-pong of a two-node pair (wal/lease-in-sync.ts `previousHolder`, wal/lease-floor.ts): leader L with in-sync
 * standby B dies; B takes over, and its record carries an empty set (it was the only member); B dies before L rejoins
 * its set. L was refused LEASE_NOT_IN_SYNC, and no node could lead without --accept-data-loss. Yet no member ever
 * joined B's term (the last member is never written out), so under fail_closed B answered nothing and sent no place:
 * L's log holds everything acknowledged. The record names L as B's previous holder, and while its set is empty L is
 * judged by the floor alone. A third node is still refused, and so is L once B's set names a member.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Lease, readCurrentLease, type LeaseInSyncMember } from '../../wal/index.ts'
import { isInSyncSet } from '../../wal/lease-in-sync.ts'
import { leaseCodeOf, removeTempDirs, tempDir } from './support.ts'

afterEach(removeTempDirs)

const TTL_MS = 1000
const PAST_EXPIRY_MS = 1200

function pair() {
  const dir = tempDir()
  let nowMs = 1_000_000
  const nowMsOf = (): number => nowMs
  return {
    dir,
    /** The holder is gone: the clock past its record's expiry. */
    lost: () => void (nowMs += PAST_EXPIRY_MS),
    take: (nodeId: string, logEndLsn: number): Lease =>
      Lease.acquire({ dir, holderId: `${nodeId} http://${nodeId}`, nodeId, ttlMs: TTL_MS, clockSkewMsMax: 100, nowMs: nowMsOf, logEndLsn: () => logEndLsn }),
    /** The first leader, without a node to judge (no record before it). */
    first: (nodeId: string): Lease => Lease.acquire({ dir, holderId: `${nodeId} http://${nodeId}`, ttlMs: TTL_MS, clockSkewMsMax: 100, nowMs: nowMsOf }),
  }
}

/** A renewal writing `members` as the in-sync set (the leader's in-sync.ts publish) and `replicatedLsn` as the floor. */
function renewWith(lease: Lease, members: LeaseInSyncMember[], replicatedLsn: number): void {
  lease.setInSync(members)
  lease.noteReplicated(replicatedLsn)
  lease.renew()
}

/** L led with B in sync (joined at 40, floor 50), died; B (log at 60) took over and renewed with its set still empty. */
function afterBsTerm(members: LeaseInSyncMember[] = []) {
  const p = pair()
  renewWith(p.first('node-l'), [{ nodeId: 'node-b', joinedLsn: 40 }], 50)
  p.lost()
  const b = p.take('node-b', 60)
  renewWith(b, members, 0)
  p.lost()
  return p
}

/** The record parser of the build before `previousHolder` (wal/lease.ts isLeaseRecord at 4c69e15), verbatim. */
function isLeaseRecordBefore(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const record = value as Record<string, unknown>
  return (
    typeof record.holderId === 'string' &&
    Number.isInteger(record.epoch) &&
    typeof record.expiresAtMs === 'number' &&
    typeof record.renewedAtMs === 'number' &&
    (record.replicatedLsn === undefined || (Number.isSafeInteger(record.replicatedLsn) && (record.replicatedLsn as number) >= 0)) &&
    (record.inSync === undefined || isInSyncSet(record.inSync))
  )
}

describe('the previous holder of a record whose in-sync set is empty', () => {
  test('a taker names the holder it took over from, in its first record and every renewal', () => {
    const p = pair()
    renewWith(p.first('node-l'), [{ nodeId: 'node-b', joinedLsn: 40 }], 50)
    p.lost()
    const b = p.take('node-b', 60)
    expect(b.previousHolder).toBe('node-l')
    expect(readCurrentLease(p.dir)).toMatchObject({ holderId: 'node-b http://node-b', epoch: 2, inSync: [], previousHolder: 'node-l' })
    b.renew()
    expect(readCurrentLease(p.dir)?.previousHolder).toBe('node-l')
    b.release()
    expect(readCurrentLease(p.dir)).toMatchObject({ expiresAtMs: 0, previousHolder: 'node-l' })
  })

  test('the ping-pong: L takes the lease back after B\'s term (judged by the floor alone), and names B', () => {
    const p = afterBsTerm()
    expect(leaseCodeOf(() => p.take('node-l', 45))).toBe('LEASE_LOG_BEHIND')
    expect(leaseCodeOf(() => p.take('node-l', 55))).toBe('LEASE_LOG_BEHIND')
    const l = p.take('node-l', 70)
    expect(l.epoch).toBe(3)
    expect(l.dataLossAccepted).toBeNull()
    expect(readCurrentLease(p.dir)).toMatchObject({ holderId: 'node-l http://node-l', replicatedLsn: 60, inSync: [], previousHolder: 'node-b' })
    // And back again: L died before B rejoined its set; B is L's previous holder now.
    p.lost()
    expect(p.take('node-b', 60).epoch).toBe(4)
  })

  test('L is held to where B\'s history began (B\'s log end at its takeover), not only to the floor', () => {
    // L's term acknowledged up to LSN 58 after its last renewal (floor 50); B held all of it and took over at 60. L's
    // log was then set aside whole (a divergence whose shared prefix could not be kept) and re-synced from B: at 55
    // when B died, it lacks the answers 51–58. Judged by the floor alone it led on and lost them silently.
    const p = afterBsTerm()
    expect(readCurrentLease(p.dir)?.replicatedLsn).toBe(60)
    expect(leaseCodeOf(() => p.take('node-l', 55))).toBe('LEASE_LOG_BEHIND')
    expect(p.take('node-l', 60).epoch).toBe(3)
  })

  test('a third node is still refused LEASE_NOT_IN_SYNC after B\'s term', () => {
    const p = afterBsTerm()
    expect(leaseCodeOf(() => p.take('node-c', 70))).toBe('LEASE_NOT_IN_SYNC')
    expect(readCurrentLease(p.dir)?.epoch).toBe(2)
  })

  test('once B\'s set names a member, L is refused (that member may hold answers L lacks) and the member is taken', () => {
    const p = afterBsTerm([{ nodeId: 'node-c', joinedLsn: 60 }])
    expect(leaseCodeOf(() => p.take('node-l', 70))).toBe('LEASE_NOT_IN_SYNC')
    expect(p.take('node-c', 65).epoch).toBe(3)
  })

  test('three nodes: B took over from L with C carried in its set — L refused, C taken', () => {
    const p = pair()
    renewWith(p.first('node-l'), [{ nodeId: 'node-b', joinedLsn: 40 }, { nodeId: 'node-c', joinedLsn: 40 }], 50)
    p.lost()
    p.take('node-b', 60)
    expect(readCurrentLease(p.dir)).toMatchObject({ inSync: [{ nodeId: 'node-c', joinedLsn: 40 }], previousHolder: 'node-l' })
    p.lost()
    expect(leaseCodeOf(() => p.take('node-l', 70))).toBe('LEASE_NOT_IN_SYNC')
    expect(p.take('node-c', 60).epoch).toBe(3)
  })

  test('B taking its own lease back with the set still empty keeps L as the previous holder; with a member, names itself', () => {
    const p = afterBsTerm()
    const again = p.take('node-b', 60)
    expect(again.previousHolder).toBe('node-l')
    p.lost()
    expect(p.take('node-l', 70).epoch).toBe(4)

    const q = afterBsTerm([{ nodeId: 'node-c', joinedLsn: 60 }])
    expect(q.take('node-b', 60).previousHolder).toBe('node-b')
    q.lost()
    expect(leaseCodeOf(() => q.take('node-l', 70))).toBe('LEASE_NOT_IN_SYNC')
  })
})

describe('a rolling upgrade reads both record shapes', () => {
  test('a record with a previous holder is a lease record to the parser of the build before it (extra keys taken along unread)', () => {
    const p = afterBsTerm()
    const written: unknown = JSON.parse(readFileSync(join(p.dir, 'epoch-0000000002.json'), 'utf8'))
    expect(written).toMatchObject({ inSync: [], previousHolder: 'node-l' })
    expect(isLeaseRecordBefore(written)).toBe(true)
  })

  test('an empty set in a record without a previous holder (the build before it) lets no one but the holder through', () => {
    const p = pair()
    const record = { holderId: 'node-b http://node-b', epoch: 1, expiresAtMs: 0, renewedAtMs: 1, replicatedLsn: 50, inSync: [] }
    writeFileSync(join(p.dir, 'epoch-0000000001.json'), JSON.stringify(record))
    expect(leaseCodeOf(() => p.take('node-l', 70))).toBe('LEASE_NOT_IN_SYNC')
    expect(p.take('node-b', 70).previousHolder).toBe('node-b')
  })

  test('a malformed previous holder is no lease record (LEASE_FILE_INVALID, nothing guessed)', () => {
    const p = pair()
    for (const previousHolder of [5, null, 'x'.repeat(129), ['node-l']]) {
      writeFileSync(join(p.dir, 'epoch-0000000001.json'), JSON.stringify({ holderId: 'a', epoch: 1, expiresAtMs: 0, renewedAtMs: 1, inSync: [], previousHolder }))
      expect(leaseCodeOf(() => readCurrentLease(p.dir))).toBe('LEASE_FILE_INVALID')
    }
  })
})
