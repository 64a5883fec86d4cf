/**
 * Venue suspects survive a restart (src/backoffice/venue-suspects.ts): each run records them in its
 * `backoffice.reconciled` record, and the back office of the next start takes them from the last run in its log —
 * or in the snapshot section it starts from. Before, they lived in memory only: the first run after a restart only
 * suspected again, so a standing divergence seen just before opened one interval later, dated from after the
 * restart, and a process restarting more often than every other interval never opened it.
 */

import { describe, expect, test } from 'bun:test'
import { backOfficeOf, backOfficeSectionSource, breakAccountOf, decodeBackOfficeRecord, encodeBackOfficeRecord, RECONCILED } from '../../src/backoffice/index.ts'
import { VenueSuspects } from '../../src/backoffice/venue-suspects.ts'
import { SimClock } from '../../src/runtime/clock.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import { drive, makeVenue, run, startWorld, T0, worldsStoppedAfterEach, type World, type WorldOptions } from '../runtime/harness.ts'
import { foreignTrade } from './foreign-trade.ts'

const worlds = worldsStoppedAfterEach()
const balanceKey = 'venue_balances:sim:acct-a:BTC'

async function started(options: WorldOptions): Promise<World> {
  const world = await startWorld(options)
  worlds.push(world)
  return world
}

describe('venue suspects across a restart', () => {
  for (const snapshots of [false, true]) {
    test(`a standing difference seen before a restart opens at the first run after it, dated from its first sighting${snapshots ? ' (the start from a snapshot with the back-office section)' : ''}`, async () => {
      const seed = 47
      const clock = new SimClock({ startMs: T0 })
      const venue = makeVenue(clock, seed, { seed })
      let gateway: Gateway | null = null
      const snapshotOptions: Partial<WorldOptions> = snapshots ? { snapshotSections: [backOfficeSectionSource(() => gateway)] } : {}
      const first = await started({ seed, clock, venue, ...snapshotOptions })
      gateway = first.gateway
      await foreignTrade(first)
      const before = await drive(first, backOfficeOf(first.gateway, { reconcileIntervalMs: null }).reconcile())
      expect(before.suspected).toContain(balanceKey)
      expect(before.opened).toEqual([])
      // The run recorded what it suspected.
      const recorded = Array.from(first.gateway.engine.wal.read(1), (frame) => (frame.type === RECONCILED.type ? decodeBackOfficeRecord(frame) : null)).filter((value) => value !== null)
      expect(recorded.at(-1)).toMatchObject({ kind: 'reconciled', value: { suspects: expect.arrayContaining([expect.objectContaining({ key: balanceKey, firstSeenMs: before.atMs, sightings: 1 })]) } })
      if (snapshots) await drive(first, first.gateway.snapshot())
      await first.gateway.stop()
      await run(first, 0)
      const second = await started({ seed, dir: first.dir, clock, venue, ...snapshotOptions })
      gateway = second.gateway
      if (snapshots) expect(backOfficeOf(second.gateway, { reconcileIntervalMs: null }).stats().sectionLsn).not.toBeNull()
      await run(second, 1_000)
      const after = await drive(second, backOfficeOf(second.gateway, { reconcileIntervalMs: null }).reconcile())
      expect(after.opened).toContain(balanceKey)
      expect(backOfficeOf(second.gateway).openBreaks.find((open) => open.key === balanceKey)?.firstSeenMs).toBe(before.atMs)
      // The foreign trade's own break, keyed by its exec id, records the account the trades check ran for: its owner
      // sees it (break-account.ts).
      const byExecId = backOfficeOf(second.gateway).openBreaks.filter((open) => open.check === 'venue_trades' && !open.key.includes(':order:'))
      expect(byExecId.length).toBe(1)
      expect(byExecId[0]?.accountId).toBe('acct-a')
      expect(breakAccountOf(byExecId[0]!, () => undefined)).toBe('acct-a')
    })
  }
})

describe('the reconciled record', () => {
  const run = { runId: 'rc-1', atMs: 1, asOfLsn: 2, checks: ['venue_balances' as const], skipped: [], breaksSeen: 1, opened: 0, cleared: 0 }
  const suspect = { check: 'venue_balances' as const, key: balanceKey, firstSeenMs: 1, sightings: 1, expected: '0', actual: '0.1' }

  test('is version 2 with its suspects, and a version 1 record (before them) still reads, with none', () => {
    const written = encodeBackOfficeRecord({ kind: 'reconciled', value: { ...run, suspects: [suspect] } })
    expect(written.version).toBe(2)
    expect(decodeBackOfficeRecord({ ...written, payload: written.payload as Uint8Array })).toEqual({ kind: 'reconciled', value: { ...run, suspects: [suspect] } })
    const old = encodeBackOfficeRecord({ kind: 'reconciled', value: run })
    expect(old.version).toBe(1)
    expect(decodeBackOfficeRecord({ ...old, payload: old.payload as Uint8Array })).toEqual({ kind: 'reconciled', value: run })
  })

  test('suspects a section carries that do not parse are dropped, not trusted', () => {
    const suspects = VenueSuspects.ofLastRun({ ...run, suspects: [{ ...suspect, sightings: -1 }] })
    expect(suspects.recorded(() => false)).toEqual([])
    expect(VenueSuspects.ofLastRun({ ...run, suspects: [suspect] }).recorded(() => false)).toEqual([suspect])
  })
})
