import { describe, expect, test } from 'bun:test'
import { BACKOFFICE_SECTION, backOfficeOf, backOfficeSectionSource } from '../../src/backoffice/index.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import { drive, run, startWorld, worldsStoppedAfterEach } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'

const worlds = worldsStoppedAfterEach()
const OPTIONS = { wal: { segmentBytesMax: 4096 }, snapshots: { everyRecords: 60, keep: 2, compaction: 'archive' as const } }

describe('a held query model (LEDGER_INCOMPLETE) and the venue trades check', () => {
  test('the check is skipped for the held store, saying so, without waiting on a store that never moves', async () => {
    const seed = 341
    let first: Gateway | null = null
    const world = await startWorld({ seed, ...OPTIONS, snapshotSections: [backOfficeSectionSource(() => first)] })
    first = world.gateway
    worlds.push(world)
    backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    await trade(world, { orders: 40, tag: 'h', seed })
    await run(world, 200)
    await world.gateway.snapshotter.idle()
    await world.gateway.stop()
    let gateway: Gateway | null = null
    const second = await startWorld({ seed, dir: world.dir, clock: world.clock, venue: world.venue, ...OPTIONS, snapshotSections: [backOfficeSectionSource(() => gateway)] })
    gateway = second.gateway
    worlds.push(second)
    const section = second.gateway.restoredSections.get(BACKOFFICE_SECTION) as Uint8Array
    second.gateway.restoredSections.set(BACKOFFICE_SECTION, section.subarray(0, 20))
    const office = backOfficeOf(second.gateway, { reconcileIntervalMs: null })
    await trade(second, { orders: 12, tag: 'i', seed: seed + 1 })
    await run(second, 200)
    expect(office.stats().storeHeld).toContain('LEDGER_INCOMPLETE')
    const result = await drive(second, office.reconcile())
    // The trades check cannot read fills the held store never gets: skipped for that reason, not as a store that is
    // late (it was waited on every run, and the detail read as a query model falling behind).
    expect(result.checks).not.toContain('venue_trades')
    const trades = result.skipped.filter(({ check }) => check === 'venue_trades')
    expect(trades.length).toBeGreaterThan(0)
    for (const { detail } of trades) {
      expect(detail).toContain('LEDGER_INCOMPLETE')
      expect(detail).not.toContain('pauses')
    }
    expect(result.checks).toContain('venue_balances')
    expect(second.errors).toEqual([])
  })
})
