/**
 * Data directories that builds of two query model versions wrote on in turn (src/backoffice/store-schema.ts): a
 * rollback to the build before true-up fills and back, or to this build from a later one. The older build knows
 * neither `model_version` nor `true_up_fills`, so it writes its rows and position on a store this build wrote first
 * and leaves that row and those rows alone, and its sections (format 4) copy them; what it booked holds no true-up
 * fill. This build must read such a store as what it is — version 1 from where the older build took over — and never
 * list it as complete; a store or image of a version it does not know is rebuilt or refused, not a crash. A start
 * that resets an older store for a rebuild keeps the lots rule its rows were split by even if it dies before writing.
 */
import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { backOfficeOf, decodeSection, Store } from '../../src/backoffice/index.ts'
import { openStartingStore } from '../../src/backoffice/projector-start.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { STORED_QUERY_MODEL, verifyQueryModel } from '../../src/runtime/snapshot/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { run, startWorld, T0, worldsStoppedAfterEach, type World, type WorldOptions } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { LaggingTradesVenue } from './late-reports.ts'
import {
  asVersion1Store, asVersion4Section, COMPACTING, expectRebuiltFromGenesis, expectTrueUpListed, expectUpgradedInPlace, listedOf, newestSection, newestSnapshot, officeWorld as officeWorldIn, reconciledClean,
  trueUp,
} from './model-versions.ts'

const worlds = worldsStoppedAfterEach()

function officeWorld(options: Partial<WorldOptions> & { seed: number }, section?: Uint8Array, sections = true): Promise<World> {
  return officeWorldIn(worlds, options, section, sections)
}

/** Runs `change` on the stored query model of `dir` as plain SQL (what a build that knows nothing of it leaves). */
function onStoredFile(dir: string, change: (store: Store) => void): void {
  const store = Store.open(join(dir, STORED_QUERY_MODEL))
  try {
    change(store)
  } finally {
    store.close()
  }
}

type Row = Record<string, unknown>

describe('query models two versions wrote on in turn', () => {
  test('a stored one an older build wrote on after this one, the log whole: read as version 1, replay-verify matches it, a start rebuilds it and lists the true-up the older build booked', async () => {
    const seed = 95
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingTradesVenue(clock, seed)
    const first = await officeWorld({ seed, clock, venue }, undefined, false)
    const early = await trueUp(first, venue, 'mixed-early')
    await first.gateway.stop()
    const handedOverLsn = openReadOnly(join(first.dir, 'log')).lastLsn
    let versionRow: Row | null = null
    onStoredFile(first.dir, (store) => store.transaction((db) => (versionRow = db.query('SELECT * FROM model_version').get() as Row | null)))
    expect(versionRow).not.toBeNull()

    // The older build runs next: it books a second true-up, writing its rows and position as it always did.
    const second = await officeWorld({ seed, dir: first.dir, clock, venue }, undefined, false)
    const late = await trueUp(second, venue, 'mixed-late')
    await second.gateway.stop()
    onStoredFile(first.dir, (store) =>
      store.transaction((db) => {
        const row = versionRow as Row
        db.exec('DELETE FROM model_version')
        db.query(`INSERT INTO model_version (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map((_, index) => `?${index + 1}`).join(', ')})`).run(...(Object.values(row) as never[]))
        db.query('DELETE FROM true_up_fills WHERE lsn > ?1').run(handedOverLsn)
      }),
    )
    onStoredFile(first.dir, (store) => expect(store.modelVersion).toMatchObject({ version: 1 }))
    const log = openReadOnly(join(first.dir, 'log'))
    expect(verifyQueryModel(first.dir, log, [], null).checks).toEqual([expect.objectContaining({ source: 'stored', status: 'match' })])

    const third = await officeWorld({ seed, dir: first.dir, clock, venue }, undefined, false)
    const office = backOfficeOf(third.gateway)
    expect(office.stats()).toMatchObject({ rebuiltStore: true, ledgerComplete: true })
    expect(office.projector.store.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 0 })
    expectTrueUpListed(listedOf(third, early))
    expectTrueUpListed(listedOf(third, late))
    expectRebuiltFromGenesis(third)
    await reconciledClean(third)
  })

  test('a version 4 section an older build took of a file this build wrote first, on a compacted log: restored as version 1 and upgraded in place, not refused', async () => {
    const seed = 96
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingTradesVenue(clock, seed)
    const first = await officeWorld({ seed, clock, venue, ...COMPACTING })
    const before = await trueUp(first, venue, 'copied-compacted')
    await trade(first, { orders: 40, tag: 'm', seed })
    await run(first, 200)
    await first.gateway.snapshotter.idle()
    await first.gateway.stop()
    // The image still holds this build's model_version row and its true-up fill, which the older build left there.
    const snapshot = newestSnapshot(first.dir)
    const v4 = asVersion4Section(newestSection(first.dir), { copiedFromNewer: true })
    const image = Store.openImage(decodeSection(v4).image)
    expect(image.counts().trueUpFills).toBe(1)
    image.close()
    await expectUpgradedInPlace(worlds, first, { seed, clock, venue, v4, snapshot, before, tag: 'copied-after' })
  })

  test('a stored one of a newer version than this build knows, the log whole: rebuilt from the log, not a failed start', async () => {
    const seed = 97
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingTradesVenue(clock, seed)
    const first = await officeWorld({ seed, clock, venue }, undefined, false)
    const orderId = await trueUp(first, venue, 'newer-store')
    await first.gateway.stop()
    onStoredFile(first.dir, (store) => store.transaction((db) => db.exec('UPDATE model_version SET version = 3')))

    const second = await officeWorld({ seed, dir: first.dir, clock, venue }, undefined, false)
    const office = backOfficeOf(second.gateway)
    expect(office.stats()).toMatchObject({ rebuiltStore: true, ledgerComplete: true })
    expect(office.projector.store.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 0 })
    expectTrueUpListed(listedOf(second, orderId))
    await reconciledClean(second)
  })

  test('an older store reset for a rebuild keeps its lots rule when the start dies before its first write', async () => {
    const seed = 98
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingTradesVenue(clock, seed)
    const first = await officeWorld({ seed, clock, venue }, undefined, false)
    await trueUp(first, venue, 'lots-rule')
    await first.gateway.stop()
    const path = join(first.dir, STORED_QUERY_MODEL)
    // Written by a build before synthetic lots as well: its true-ups were split without lots through its last LSN.
    asVersion1Store(path)
    let storedLsn = 0
    onStoredFile(first.dir, (store) => {
      store.transaction((db) => db.exec('DELETE FROM lots_rule'))
      storedLsn = store.lastLsn
    })
    expect(storedLsn).toBeGreaterThan(0)

    // The gateway alone (no back office yet): the start's decision, then a crash before anything is written.
    const second = await startWorld({ seed, dir: first.dir, clock, venue, params: { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }, snapshotSections: [] })
    worlds.push(second)
    const opened = openStartingStore(path, second.gateway.engine, undefined)
    expect(opened.start).toMatchObject({ rebuilt: true, lotsUntrackedThroughLsn: storedLsn })
    opened.store.close()
    const reopened = openStartingStore(path, second.gateway.engine, undefined)
    try {
      expect(reopened.start.lotsUntrackedThroughLsn).toBe(storedLsn)
    } finally {
      reopened.store.close()
    }
  })
})
