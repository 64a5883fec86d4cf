/**
 * Data directories written before the query model kept true-up fills (query model version 1, src/backoffice/
 * store-schema.ts): a stored query model without `model_version`, a back-office section before version 5. They still
 * open, and are never written on as they are: with the log whole they are rebuilt from it (the listing then shows the
 * real executions of true-ups booked before the upgrade too); on a compacted log an older section's copy is upgraded
 * in place and says through which LSN it holds no true-up fills (those synthetic fills list `superseded_qty` null).
 * replay-verify compares each with a rebuild over the tables of its own version, so none reads as a mismatch.
 */
import { describe, expect, test } from 'bun:test'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BACKOFFICE_SECTION, backOfficeOf, decodeSection, sectionModelVersion, Store } from '../../src/backoffice/index.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { encodeSnapshot, replayVerify, snapshotOffline, STORED_QUERY_MODEL, verifyQueryModel } from '../../src/runtime/snapshot/index.ts'
import { openReadOnly } from '../../wal/index.ts'
import { run, T0, worldsStoppedAfterEach, type World, type WorldOptions } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { LaggingTradesVenue } from './late-reports.ts'
import {
  asVersion1Store, asVersion4Section, COMPACTING, expectRebuiltFromGenesis, expectTrueUpListed, expectUpgradedInPlace, listedOf, newestSection, newestSnapshot, officeWorld as officeWorldIn,
  reconciledClean, trueUp,
} from './model-versions.ts'

const worlds = worldsStoppedAfterEach()

function officeWorld(options: Partial<WorldOptions> & { seed: number }, section?: Uint8Array, sections = true): Promise<World> {
  return officeWorldIn(worlds, options, section, sections)
}

describe('query models written before true-up fills', () => {
  test('a stored one, the log whole: replay-verify compares it without them and matches; a start rebuilds it from the log', async () => {
    const seed = 91
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingTradesVenue(clock, seed)
    // No back-office section in its snapshots: the stored query model is all there is besides the log.
    const first = await officeWorld({ seed, clock, venue }, undefined, false)
    const orderId = await trueUp(first, venue, 'old-store')
    await first.gateway.stop()
    const path = join(first.dir, STORED_QUERY_MODEL)
    asVersion1Store(path)
    const log = openReadOnly(join(first.dir, 'log'))
    expect(verifyQueryModel(first.dir, log, [], null).checks).toEqual([expect.objectContaining({ source: 'stored', status: 'match' })])
    // Upgraded in place instead (as on a compacted log), a copy holds no true-up fill through its LSN; the genesis
    // rebuild replay-verify compares it with leaves those out too.
    const copyDir = mkdtempSync(join(tmpdir(), 'egress-fills-version-'))
    try {
      copyFileSync(path, join(copyDir, STORED_QUERY_MODEL))
      const copy = Store.open(join(copyDir, STORED_QUERY_MODEL))
      copy.upgradeInPlace()
      expect(copy.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: copy.lastLsn })
      expect(copy.counts().trueUpFills).toBe(0)
      copy.close()
      expect(verifyQueryModel(copyDir, log, [], null).checks).toEqual([expect.objectContaining({ source: 'stored', status: 'match' })])
    } finally {
      rmSync(copyDir, { recursive: true, force: true })
    }

    const second = await officeWorld({ seed, dir: first.dir, clock, venue }, undefined, false)
    const office = backOfficeOf(second.gateway)
    expect(office.stats()).toMatchObject({ rebuiltStore: true, restoredStore: false, sectionLsn: null, ledgerComplete: true })
    expect(office.projector.store.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 0 })
    expectTrueUpListed(listedOf(second, orderId))
    expectRebuiltFromGenesis(second)
    await reconciledClean(second)
  })

  test('a version 4 section, the log whole: passed over, the query model rebuilt from the log', async () => {
    const seed = 92
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingTradesVenue(clock, seed)
    const first = await officeWorld({ seed, clock, venue })
    const orderId = await trueUp(first, venue, 'old-section')
    await first.gateway.stop()
    const v4 = asVersion4Section(newestSection(first.dir))
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(first.dir, `${STORED_QUERY_MODEL}${suffix}`), { force: true })

    const second = await officeWorld({ seed, dir: first.dir, clock, venue }, v4)
    const stats = backOfficeOf(second.gateway).stats()
    expect(stats.sectionProblem).toStartWith('QUERY_MODEL_VERSION: the section\'s query model is version 1')
    expect(stats).toMatchObject({ sectionLsn: null, restoredStore: false, ledgerComplete: true })
    expectTrueUpListed(listedOf(second, orderId))
    expectRebuiltFromGenesis(second)
    await reconciledClean(second)
  })

  test('a version 4 section on a compacted log: restored and upgraded in place; true-ups before it are not known, later ones listed; replay-verify matches', async () => {
    const seed = 93
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingTradesVenue(clock, seed)
    const first = await officeWorld({ seed, clock, venue, ...COMPACTING })
    const before = await trueUp(first, venue, 'old-compacted')
    const trueUpLsn = first.gateway.engine.wal.lastLsn
    await trade(first, { orders: 40, tag: 'c', seed })
    await run(first, 200)
    await first.gateway.snapshotter.idle()
    await first.gateway.stop()
    const snapshot = newestSnapshot(first.dir)
    const v4 = asVersion4Section(newestSection(first.dir))
    expect(decodeSection(v4).header.lsn).toBeGreaterThan(trueUpLsn)
    await expectUpgradedInPlace(worlds, first, { seed, clock, venue, v4, snapshot, before, tag: 'new-compacted' })
  })

  test('egress snapshot on a stopped directory whose newest section is version 4, the log whole: rebuilds the back office from genesis, true-up fills included', async () => {
    const seed = 94
    const clock = new SimClock({ startMs: T0 })
    const venue = new LaggingTradesVenue(clock, seed)
    const first = await officeWorld({ seed, clock, venue, snapshots: { everyRecords: 60, atShutdown: false } })
    await trueUp(first, venue, 'old-offline')
    const trueUpLsn = first.gateway.engine.wal.lastLsn
    await trade(first, { orders: 40, tag: 'o', seed })
    await run(first, 200)
    await first.gateway.snapshotter.idle()
    // Records after the newest snapshot, whenever its write ended (off the loop: it could end at the log's last record):
    // a stopped snapshotter takes no more.
    first.gateway.snapshotter.stop()
    await trade(first, { orders: 1, tag: 'o-tail', seed })
    await run(first, 20)
    await first.gateway.stop()
    // The newest snapshot's back-office section rewritten as a build before true-up fills wrote it.
    const snapshot = newestSnapshot(first.dir)
    expect(snapshot.lsn).toBeGreaterThan(trueUpLsn)
    expect(snapshot.lsn).toBeLessThan(openReadOnly(join(first.dir, 'log')).lastLsn)
    const { format: _format, version: _version, sections: _infos, ...meta } = snapshot.header
    const sections = new Map([...snapshot.sections, [BACKOFFICE_SECTION, asVersion4Section(newestSection(first.dir))]])
    writeFileSync(snapshot.path, encodeSnapshot(meta, sections).bytes)
    expect(sectionModelVersion(newestSection(first.dir)).version).toBe(1)

    const written = snapshotOffline(first.dir, { keep: 3, nowMs: T0 })
    expect(written.written).not.toBeNull()
    const section = newestSection(first.dir)
    expect(sectionModelVersion(section)).toEqual({ version: 2, trueUpsUntrackedThroughLsn: 0 })
    const image = Store.openImage(decodeSection(section).image)
    expect(image.counts().trueUpFills).toBe(1)
    image.close()
    const report = replayVerify(first.dir, { from: 'auto' })
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
  })
})
