/**
 * Spec helpers for data directories written by builds of other query model versions (src/backoffice/store-schema.ts):
 * worlds whose back office snapshots its section, a true-up booked on the sim venue, and the stored query model or a
 * section rewritten as an older build leaves it. Shared by fills-model-version.test.ts and model-version-mixed.test.ts.
 */

import { expect } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { BACKOFFICE_SECTION, backOfficeOf, backOfficeSectionSource, decodeSection, encodeSection, fillList, QueryModelRebuild, Store, type ListedFill } from '../../src/backoffice/index.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import type { SimClock } from '../../src/runtime/index.ts'
import { loadNewestValid, SnapshotStore, STORED_QUERY_MODEL, verifyQueryModel, type LoadedSnapshot } from '../../src/runtime/snapshot/index.ts'
import { nodeIo, openReadOnly } from '../../wal/index.ts'
import { drive, run, startWorld, type World, type WorldOptions } from '../runtime/harness.ts'
import { placeLost, type LaggingTradesVenue } from './late-reports.ts'

const PARAMS = { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }
export const COMPACTING = { wal: { segmentBytesMax: 4096 }, snapshots: { everyRecords: 60, keep: 2, compaction: 'archive' as const } }

/**
 * A world (pushed on `worlds`, stopped after the test) snapshotting the back office (with `sections`: else its
 * snapshots carry none); its section replaced by `section` before the back office opens, if given.
 */
export async function officeWorld(worlds: World[], options: Partial<WorldOptions> & { seed: number }, section?: Uint8Array, sections = true): Promise<World> {
  let gateway: Gateway | null = null
  const world = await startWorld({ params: PARAMS, ...options, snapshotSections: sections ? [backOfficeSectionSource(() => gateway)] : [] })
  worlds.push(world)
  gateway = world.gateway
  if (section !== undefined) world.gateway.restoredSections.set(BACKOFFICE_SECTION, section)
  backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  return world
}

/** A lost order booked synthetically, then trued up by its held reports; its id. */
export async function trueUp(world: World, venue: LaggingTradesVenue, tag: string): Promise<string> {
  venue.holding = true
  const orderId = await placeLost(world, venue, tag)
  await run(world, 5_000)
  expect(venue.release()).toBeGreaterThan(0)
  await run(world, 1_000)
  expect(world.gateway.engine.state.orders.get(orderId)).toMatchObject({ status: 'Filled', syntheticPendingQty: 0n })
  return orderId
}

export function listedOf(world: World, orderId: string): ListedFill[] {
  const office = backOfficeOf(world.gateway)
  office.projector.flush()
  return fillList(office.projector.store, { orderId, limit: 10 })
}

/** The order's rows as they read after a true-up the query model holds: the synthetic fill superseded whole, the real one. */
export function expectTrueUpListed(rows: readonly ListedFill[]): void {
  expect(rows.map((row) => [row.synthetic, row.replacesSynthetic])).toEqual([[true, false], [false, true]])
  expect(rows[0]?.supersededQty).toBe(rows[0]?.qty as bigint)
}

/** The stored query model as a build before true-up fills leaves it: no true_up_fills table, no model_version row. */
export function asVersion1Store(path: string): void {
  const store = Store.open(path)
  store.transaction((db) => db.exec('DROP TABLE true_up_fills; DELETE FROM model_version'))
  store.close()
}

/**
 * `bytes` as a build before true-up fills wrote it: section version 4, its image digested over query model version 1's
 * tables. The image is a copy of the file that build wrote on: by default one it created (no model_version row, no
 * true_up_fills table); with `copiedFromNewer`, one a newer build wrote first, which keeps that build's model_version
 * row and true-up fills, as an older build neither knows nor removes them.
 */
export function asVersion4Section(bytes: Uint8Array, options: { copiedFromNewer: boolean } = { copiedFromNewer: false }): Uint8Array {
  const section = decodeSection(bytes)
  const doctored = Store.openImage(section.image)
  if (!options.copiedFromNewer) doctored.transaction((db) => db.exec('DROP TABLE true_up_fills; DELETE FROM model_version'))
  // What an older build's digest covers: these four tables, no more.
  const digest = doctored.contentDigest(1)
  expect(Object.keys(digest.tables)).toEqual(['postings', 'fills', 'positions', 'balances'])
  const encoded = encodeSection({ lsn: section.header.lsn, chainHead: section.header.chainHead, queryModel: digest, ledger: section.ledger, breaks: section.breaks, image: doctored.image() })
  doctored.close()
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

export function newestSnapshot(dir: string): LoadedSnapshot {
  const { loaded } = loadNewestValid(new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 10 }), openReadOnly(join(dir, 'log')))
  if (loaded === null) throw new Error('no valid snapshot')
  return loaded
}

export function newestSection(dir: string): Uint8Array {
  const section = newestSnapshot(dir).sections.get(BACKOFFICE_SECTION)
  if (section === undefined) throw new Error('no back-office section in the newest snapshot')
  return section
}

/** The stored query model's digest equals a rebuild's from genesis at its LSN. */
export function expectRebuiltFromGenesis(world: World): void {
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

export async function reconciledClean(world: World): Promise<void> {
  const result = await drive(world, backOfficeOf(world.gateway).reconcile())
  expect(result.checks).toEqual(expect.arrayContaining(['ledger_vs_kernel', 'ledger_vs_replay', 'ledger_vs_store', 'venue_trades']))
  expect(result.observations).toEqual([])
}

export interface UpgradeInPlace {
  seed: number
  clock: SimClock
  venue: LaggingTradesVenue
  /** A version 4 section of `first`'s newest snapshot, and that snapshot. */
  v4: Uint8Array
  snapshot: LoadedSnapshot
  /** The order trued up before the section was taken. */
  before: string
  /** Tag of the true-up booked after the restart. */
  tag: string
}

/**
 * `first`'s data dir (a compacted log, stopped) started again from `v4` with no stored query model: the section's image
 * is restored and upgraded in place, so the true-up of `before` (below the section) is not known, one booked after it
 * is listed in full, reconcile is clean, and replay-verify from that section matches the stored model.
 */
export async function expectUpgradedInPlace(worlds: World[], first: World, options: UpgradeInPlace): Promise<void> {
  const { seed, clock, venue, v4, snapshot } = options
  const sectionLsn = decodeSection(v4).header.lsn
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(first.dir, `${STORED_QUERY_MODEL}${suffix}`), { force: true })
  const second = await officeWorld(worlds, { seed, dir: first.dir, clock, venue, ...COMPACTING }, v4)
  expect(second.gateway.engine.wal.firstLsn).toBeGreaterThan(1)
  const office = backOfficeOf(second.gateway)
  expect(office.stats()).toMatchObject({ sectionProblem: null, sectionLsn, restoredStore: true, ledgerComplete: true })
  expect(office.projector.store.modelVersion).toEqual({ version: 2, trueUpsUntrackedThroughLsn: sectionLsn })
  // Its true-up came before the section: the synthetic fill's supersession is not known, not 0.
  expect(listedOf(second, options.before).map((row) => [row.synthetic, row.supersededQty])).toEqual([[true, null]])
  expectTrueUpListed(listedOf(second, await trueUp(second, venue, options.tag)))
  await reconciledClean(second)
  await second.gateway.stop()
  // The stored query model (upgraded) and the section (over version 1's tables) match.
  const base: LoadedSnapshot = { ...snapshot, sections: new Map([...snapshot.sections, [BACKOFFICE_SECTION, v4]]) }
  const verified = verifyQueryModel(first.dir, openReadOnly(join(first.dir, 'log')), [base], base)
  expect(verified.base).toEqual({ kind: 'section', lsn: sectionLsn })
  expect(verified.checks.map((check) => [check.source, check.status])).toEqual([['stored', 'match'], [snapshot.file, 'match']])
}
