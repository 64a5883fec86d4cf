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
import {
  BACKOFFICE_SECTION, backOfficeOf, backOfficeSectionSource, decodeSection, encodeSection, fillList, QueryModelRebuild, sectionModelVersion, Store, type ListedFill,
} from '../../src/backoffice/index.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import { SimClock } from '../../src/runtime/index.ts'
import {
  encodeSnapshot, loadNewestValid, replayVerify, snapshotOffline, SnapshotStore, STORED_QUERY_MODEL, verifyQueryModel, type LoadedSnapshot,
} from '../../src/runtime/snapshot/index.ts'
import { nodeIo, openReadOnly } from '../../wal/index.ts'
import { drive, run, startWorld, T0, worldsStoppedAfterEach, type World, type WorldOptions } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { LaggingTradesVenue, placeLost } from './late-reports.ts'

const worlds = worldsStoppedAfterEach()
const PARAMS = { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }
const COMPACTING = { wal: { segmentBytesMax: 4096 }, snapshots: { everyRecords: 60, keep: 2, compaction: 'archive' as const } }

/**
 * A world snapshotting the back office (with `sections`: else its snapshots carry none); its section replaced by
 * `section` before the back office opens, if given.
 */
async function officeWorld(options: Partial<WorldOptions> & { seed: number }, section?: Uint8Array, sections = true): Promise<World> {
  let gateway: Gateway | null = null
  const world = await startWorld({ params: PARAMS, ...options, snapshotSections: sections ? [backOfficeSectionSource(() => gateway)] : [] })
  worlds.push(world)
  gateway = world.gateway
  if (section !== undefined) world.gateway.restoredSections.set(BACKOFFICE_SECTION, section)
  backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  return world
}

/** A lost order booked synthetically, then trued up by its held reports; its id. */
async function trueUp(world: World, venue: LaggingTradesVenue, tag: string): Promise<string> {
  venue.holding = true
  const orderId = await placeLost(world, venue, tag)
  await run(world, 5_000)
  expect(venue.release()).toBeGreaterThan(0)
  await run(world, 1_000)
  expect(world.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'Filled', syntheticPendingQty: 0n })
  return orderId
}

function listedOf(world: World, orderId: string): ListedFill[] {
  const office = backOfficeOf(world.gateway)
  office.projector.flush()
  return fillList(office.projector.store, { orderId, limit: 10 })
}

/** The order's rows as they read after a true-up the query model holds: the synthetic fill superseded whole, the real one. */
function expectTrueUpListed(rows: readonly ListedFill[]): void {
  expect(rows.map((row) => [row.synthetic, row.replacesSynthetic])).toEqual([[true, false], [false, true]])
  expect(rows[0]?.supersededQty).toBe(rows[0]?.qty as bigint)
}

/** The stored query model as a build before true-up fills leaves it: no true_up_fills table, no model_version row. */
function asVersion1Store(path: string): void {
  const store = Store.open(path)
  store.transaction((db) => db.exec('DROP TABLE true_up_fills; DELETE FROM model_version'))
  store.close()
}

/** `bytes` as a build before true-up fills wrote it: section version 4, its image of query model version 1 and digested so. */
function asVersion4Section(bytes: Uint8Array): Uint8Array {
  const section = decodeSection(bytes)
  const doctored = Store.openImage(section.image)
  doctored.transaction((db) => db.exec('DROP TABLE true_up_fills; DELETE FROM model_version'))
  const v1 = Store.openImage(doctored.image())
  doctored.close()
  expect(v1.modelVersion.version).toBe(1)
  // What an older build's digest covers: these four tables, no more.
  const digest = v1.contentDigest()
  expect(Object.keys(digest.tables)).toEqual(['postings', 'fills', 'positions', 'balances'])
  const encoded = encodeSection({ lsn: section.header.lsn, chainHead: section.header.chainHead, queryModel: digest, ledger: section.ledger, breaks: section.breaks, image: v1.image() })
  v1.close()
  // The header's version sits in its JSON; rewriting it keeps the rest of the bytes as they are.
  const length = new DataView(encoded.buffer, encoded.byteOffset).getUint32(8, true)
  const header = JSON.parse(new TextDecoder().decode(encoded.subarray(12, 12 + length))) as { version: number }
  header.version = 4
  const headerBytes = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(12 + headerBytes.byteLength + encoded.byteLength - 12 - length)
  out.set(encoded.subarray(0, 8), 0)
  new DataView(out.buffer).setUint32(8, headerBytes.byteLength, true)
  out.set(headerBytes, 12)
  out.set(encoded.subarray(12 + length), 12 + headerBytes.byteLength)
  return out
}

function newestSnapshot(dir: string): LoadedSnapshot {
  const { loaded } = loadNewestValid(new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 10 }), openReadOnly(join(dir, 'log')))
  if (loaded === null) throw new Error('no valid snapshot')
  return loaded
}

function newestSection(dir: string): Uint8Array {
  const section = newestSnapshot(dir).sections.get(BACKOFFICE_SECTION)
  if (section === undefined) throw new Error('no back-office section in the newest snapshot')
  return section
}

/** The stored query model's digest equals a rebuild's from genesis at its LSN. */
function expectRebuiltFromGenesis(world: World): void {
  const office = backOfficeOf(world.gateway)
  office.projector.flush()
  const stored = office.projector.store.contentDigest()
  expect(stored.tables.true_up_fills?.rows).toBeGreaterThan(0)
  const rebuild = QueryModelRebuild.fromGenesis()
  try {
    for (const frame of world.gateway.engine.wal.read(1, { toLsn: stored.lastLsn })) rebuild.apply(frame)
    expect(rebuild.digest()).toEqual(stored)
  } finally {
    rebuild.close()
  }
}

async function reconciledClean(world: World): Promise<void> {
  const result = await drive(world, backOfficeOf(world.gateway).reconcile())
  expect(result.checks).toEqual(expect.arrayContaining(['ledger_vs_kernel', 'ledger_vs_replay', 'ledger_vs_store', 'venue_trades']))
  expect(result.observations).toEqual([])
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
    const sectionLsn = decodeSection(v4).header.lsn
    expect(sectionLsn).toBeGreaterThan(trueUpLsn)
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(first.dir, `${STORED_QUERY_MODEL}${suffix}`), { force: true })

    const second = await officeWorld({ seed, dir: first.dir, clock, venue, ...COMPACTING }, v4)
    expect(second.gateway.engine.wal.firstLsn).toBeGreaterThan(1)
    const office = backOfficeOf(second.gateway)
    expect(office.stats()).toMatchObject({ sectionProblem: null, sectionLsn, restoredStore: true, ledgerComplete: true })
    expect(office.projector.store.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: sectionLsn })
    // Its true-up came before the section: the synthetic fill's supersession is not known, not 0.
    expect(listedOf(second, before).map((row) => [row.synthetic, row.supersededQty])).toEqual([[true, null]])
    const after = await trueUp(second, venue, 'new-compacted')
    expectTrueUpListed(listedOf(second, after))
    await reconciledClean(second)
    await second.gateway.stop()

    // replay-verify from that section: the stored query model (upgraded) and the section (over version 1's tables) match.
    const base: LoadedSnapshot = { ...snapshot, sections: new Map([...snapshot.sections, [BACKOFFICE_SECTION, v4]]) }
    const verified = verifyQueryModel(first.dir, openReadOnly(join(first.dir, 'log')), [base], base)
    expect(verified.base).toEqual({ kind: 'section', lsn: sectionLsn })
    expect(verified.checks.map((check) => [check.source, check.status])).toEqual([['stored', 'match'], [snapshot.file, 'match']])
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
