/**
 * A lease record at or above the highest epoch a log frame carries (32 bits, wal/frame.ts): a damaged or hand-written
 * file. Taken over, the taker's epoch was one no log opens (WAL_RECORD_INVALID at the leader start), the node gave the
 * lease up, and the next takeover took the epoch after: an epoch burnt at every try, the pair never led, and the only
 * word an invalid WAL option. Now the lease directory says what is wrong (LEASE_FILE_INVALID) and nothing is taken.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { readdirSync, writeFileSync } from 'node:fs'
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

function expiredRecordAt(dir: string, epoch: number): void {
  writeFileSync(join(dir, `epoch-${String(epoch).padStart(10, '0')}.json`), JSON.stringify({ holderId: 'gone', epoch, expiresAtMs: 1_000, renewedAtMs: 500 }))
}

describe('a lease record at the end of the epochs a frame carries', () => {
  test('above it: LEASE_FILE_INVALID for readers and takers, and nothing is taken', () => {
    const dir = tempDir()
    expiredRecordAt(dir, 0x1_0000_0000)
    expect(leaseCode(() => readCurrentLease(dir))).toBe('LEASE_FILE_INVALID')
    expect(leaseCode(() => Lease.acquire({ dir, holderId: 'taker' }))).toBe('LEASE_FILE_INVALID')
    expect(readdirSync(dir)).toEqual(['epoch-4294967296.json'])
  })

  test('at it: read as it is, but no taker takes an epoch past it', () => {
    const dir = tempDir()
    expiredRecordAt(dir, 0xffff_ffff)
    expect(readCurrentLease(dir)).toMatchObject({ holderId: 'gone', epoch: 0xffff_ffff })
    expect(leaseCode(() => Lease.acquire({ dir, holderId: 'taker' }))).toBe('LEASE_FILE_INVALID')
    expect(readdirSync(dir)).toEqual(['epoch-4294967295.json'])
  })

  test('below it: taken as ever, at the last epoch a frame carries', () => {
    const dir = tempDir()
    expiredRecordAt(dir, 0xffff_fffe)
    expect(Lease.acquire({ dir, holderId: 'taker' }).epoch).toBe(0xffff_ffff)
  })
})
