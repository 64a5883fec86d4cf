/**
 * A takeover whose leader start is refused the same way every time (VENUE_GONE_ORDERS_OPEN: the config lost a venue
 * with orders open there) waits before it is tried again (src/runtime/ha/takeover-backoff.ts): one lease TTL, doubling
 * up to a bound. It was tried at every tick (leaseTtl/4): the lease taken, the log replayed, the whole refusal logged,
 * the lease given back and the epoch raised, without end. The lease stays free between tries, the refusal is logged
 * in full once, and once the cause is gone the node takes over within the bound.
 */

import { afterEach, expect, test } from 'bun:test'
import { readCurrentLease } from '../../../wal/index.ts'
import { Gateway } from '../../../src/runtime/index.ts'
import { VenueGoneError } from '../../../src/runtime/venue-gone.ts'
import { TakeoverBackoff } from '../../../src/runtime/ha/takeover-backoff.ts'
import { standbyOptionsOf, startWorld, worldsStoppedAfterEach } from '../harness.ts'
import { waitFor } from './support.ts'
import { leaderOptionsOf, TAKEOVER_TTL_MS, takeoverNode } from './takeover-node.ts'

const worlds = worldsStoppedAfterEach()
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** The bound of the wait in this spec (the node's default is 30 s). */
const BACKOFF_MS_MAX = 800
/** How long the refused starts are counted. */
const WINDOW_MS = 3_000

test('a takeover refused the same way every time is tried a bounded number of times, and succeeds promptly once the cause is gone', async () => {
  const world = await startWorld({ seed: 151 })
  worlds.push(world)
  const refusal = new VenueGoneError([{ venue: 'gone-venue', count: 2, orderIds: ['o-1', 'o-2'], awaitingTrueUp: { count: 0, orderIds: [] } }])
  const state = { refusing: true, refusedStarts: 0, leaseFreeBetween: true }
  const { node, leaseDir, logLines } = takeoverNode(
    cleanups,
    (dataDir, errors) => async (role, lease, beforeBootstrap) => {
      if (role === 'standby') return Gateway.start(standbyOptionsOf(world, dataDir, errors))
      if (lease === null) throw new Error('no lease')
      if (state.refusing) {
        state.refusedStarts++
        throw refusal
      }
      return Gateway.start(leaderOptionsOf(world, dataDir, errors, lease, beforeBootstrap))
    },
    { takeoverBackoffMsMax: BACKOFF_MS_MAX },
  )
  await node.start()
  await waitFor(() => state.refusedStarts >= 1, 5_000, 'the first refused takeover')
  const startedAtMs = Date.now()
  while (Date.now() - startedAtMs < WINDOW_MS) {
    await Bun.sleep(25)
    // Between tries the lease is free (released: expiry 0) for another node to take, never held by this one.
    const record = readCurrentLease(leaseDir)
    if (node.role === 'standby' && record?.holderId === node.holderId && record.expiresAtMs > Date.now()) state.leaseFreeBetween = false
  }
  const refusedInWindow = state.refusedStarts
  // Waits of 200, 400, 800, 800… ms after the first: about 5 in 3 s. At every tick (50 ms) it was dozens.
  expect(refusedInWindow).toBeGreaterThanOrEqual(2)
  expect(refusedInWindow).toBeLessThanOrEqual(8)
  expect(state.leaseFreeBetween).toBe(true)
  expect(node.failure).toBe(null)
  // The whole refusal logged once; its repeats in one short line each.
  expect(logLines.filter((line) => line.includes('VENUE_GONE_ORDERS_OPEN')).length).toBe(1)
  expect(logLines.filter((line) => line.includes('failed again for the same cause')).length).toBe(refusedInWindow - 1)

  // The cause gone: the node takes over within the bound (plus a tick and a start).
  state.refusing = false
  const goneAtMs = Date.now()
  await waitFor(() => node.role === 'leader' || node.failure !== null, BACKOFF_MS_MAX + 3_000, 'the node led once its start was no longer refused')
  expect({ role: node.role, failure: node.failure }).toEqual({ role: 'leader', failure: null })
  expect(Date.now() - goneAtMs).toBeLessThan(BACKOFF_MS_MAX + 2_000)
  expect(readCurrentLease(leaseDir)).toMatchObject({ holderId: node.holderId })
}, 30_000)

test('the wait doubles from its least to its bound, says a repeat in short, and starts over on reset', () => {
  let nowMs = 0
  const backoff = new TakeoverBackoff(TAKEOVER_TTL_MS, 1_000, () => nowMs)
  expect(backoff.ready()).toBe(true)
  const waits: number[] = []
  const lines: string[] = []
  for (let i = 0; i < 5; i++) {
    lines.push(backoff.failed(2 + i, 'VENUE_GONE_ORDERS_OPEN: …'))
    waits.push(backoff.waitMs)
    expect(backoff.ready()).toBe(false)
    nowMs += backoff.waitMs
    expect(backoff.ready()).toBe(true)
  }
  expect(waits).toEqual([200, 400, 800, 1_000, 1_000])
  expect(lines[0]).toContain('VENUE_GONE_ORDERS_OPEN')
  expect(lines.slice(1).every((line) => line.includes('failed again for the same cause') && !line.includes('VENUE_GONE'))).toBe(true)
  // Another cause is said in full.
  expect(backoff.failed(7, 'another cause')).toContain('another cause')
  backoff.reset()
  expect(backoff.ready()).toBe(true)
  backoff.failed(8, 'another cause')
  expect(backoff.waitMs).toBe(200)
})
