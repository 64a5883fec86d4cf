/**
 * A lease from the future: its record's expiry lies far ahead of the standby's clock (the holder's wall clock ran
 * ahead — NTP gone wrong — and the holder then died). A taker compared the expiry with its own clock only, so no node
 * could lead until that time came: an hour, a year. The standby now also watches the record itself: one unchanged for
 * longer than its holder could hold it (its TTL, by the record's own renewal and expiry, plus the skew bound) on the
 * standby's monotonic clock belongs to a holder that stopped renewing — whose own deadline, monotonic too, has passed.
 */

import { afterEach, describe, expect, test } from 'bun:test'
import { Lease, readCurrentLease } from '../../../wal/index.ts'
import { LeaseWatch } from '../../../src/runtime/ha/lease-watch.ts'
import { startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { waitFor } from './support.ts'
import { takeoverNode, worldGateways } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const YEAR_MS = 365 * 24 * 3_600_000

describe('a standby under a lease from the future', () => {
  test('takes over once the record has not changed for longer than its holder could hold it, and says why', async () => {
    const world = await startWorld({ seed: 41 })
    worlds.push(world)
    const standby = takeoverNode(cleanups, worldGateways(world), { oldLeader: false })
    Lease.acquire({ dir: standby.leaseDir, holderId: 'old http://127.0.0.1:1', ttlMs: 200, clockSkewMsMax: 10, nowMs: () => Date.now() + YEAR_MS })
    await standby.node.start()
    await waitFor(() => standby.node.role === 'leader', 5_000, `the takeover (role ${standby.node.role}; ${standby.logLines.join(' | ')})`)
    expect(readCurrentLease(standby.leaseDir)).toMatchObject({ epoch: 2, holderId: 'standby http://127.0.0.1:2' })
    expect(standby.logLines.some((line) => line.includes('its holder\'s clock is ahead of this one'))).toBe(true)
  })
})

describe('LeaseWatch', () => {
  test('a record is stalled only after it has been seen unchanged for the longer TTL (this node\'s or the record\'s) plus the skew', () => {
    let nowMs = 0
    const watch = new LeaseWatch(() => nowMs)
    const access = { leaseTtlMs: 200, clockSkewMsMax: 10 }
    const record = { holderId: 'a', epoch: 3, renewedAtMs: 5_000, expiresAtMs: 5_500 }
    expect(watch.stalled(record, access)).toBeUndefined()
    nowMs = 510
    expect(watch.stalled(record, access)).toBeUndefined()
    nowMs = 511
    expect(watch.stalled(record, access)).toBe(record)
    // A renewal is a new record: watched from scratch.
    const renewed = { ...record, renewedAtMs: 5_100, expiresAtMs: 5_600 }
    expect(watch.stalled(renewed, access)).toBeUndefined()
    nowMs = 1_000
    expect(watch.stalled(renewed, access)).toBeUndefined()
    nowMs = 1_022
    expect(watch.stalled(renewed, access)).toBe(renewed)
    expect(watch.stalled(null, access)).toBeUndefined()
  })
})
