import { describe, expect, test } from 'bun:test'
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { nodeIo, openReadOnly } from '../../wal/index.ts'
import { BACKOFFICE_SECTION, backOfficeOf, backOfficeSectionSource, balanceRowsOf, QueryModelRebuild, Store } from '../../src/backoffice/index.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import { loadNewestValid, SnapshotStore } from '../../src/runtime/snapshot/index.ts'
import { drive, removeDir, run, startWorld, tempDataDir, worldsStoppedAfterEach, type World, type WorldOptions } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'

const worlds = worldsStoppedAfterEach()
const OPTIONS = { wal: { segmentBytesMax: 4096 }, snapshots: { everyRecords: 60, keep: 2, compaction: 'archive' as const } }

async function officeWorld(options: Partial<WorldOptions> & { seed: number }): Promise<World> {
  let gateway: Gateway | null = null
  const world = await startWorld({ ...options, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = world.gateway
  backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  return world
}

/** The sections of the newest valid snapshot of a stopped data dir. */
function newestSnapshotSections(dir: string): ReadonlyMap<string, Uint8Array> {
  const { loaded } = loadNewestValid(new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 10 }), openReadOnly(join(dir, 'log')))
  if (loaded === null || loaded === undefined) throw new Error('no valid snapshot')
  return loaded.sections
}

/** The balances and positions of a query model, as text (amounts are bigints). */
function figuresOf(store: Store): string {
  const positions = store.positions().map(({ syntheticLots: _lots, ...position }) => ({ ...position, fees: [...position.fees] }))
  return JSON.stringify({ balances: store.balances(), positions }, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))
}

/** The query model's figures at `lsn` from the whole history: the archived segments and the log's, folded from genesis. */
function wholeHistoryFiguresAt(dir: string, lsn: number): string {
  const scratch = tempDataDir()
  const whole = join(scratch, 'log')
  mkdirSync(whole, { recursive: true })
  for (const from of [join(dir, 'archive'), join(dir, 'log')]) for (const name of readdirSync(from)) copyFileSync(join(from, name), join(whole, name))
  const log = openReadOnly(whole)
  expect(log.firstLsn).toBe(1)
  const rebuild = QueryModelRebuild.fromGenesis()
  try {
    for (const frame of log.read(1, { toLsn: lsn })) rebuild.apply(frame)
    rebuild.digest()
    expect(balanceRowsOf(rebuild.ledger).length).toBeGreaterThan(0)
    return figuresOf(rebuild.store)
  } finally {
    rebuild.close()
    removeDir(scratch)
  }
}

/**
 * A data dir traded on, snapshotted with sections and compacted, then started again with the snapshot's back-office
 * section damaged (a format an older build cannot read is the same): the ledger can fold only the log left.
 */
async function restartedWithoutSection(seed: number): Promise<{ first: World; second: World; heldLsn: number; figuresBefore: string }> {
  const first = await officeWorld({ seed, ...OPTIONS })
  await trade(first, { orders: 40, tag: 'h', seed })
  await run(first, 200)
  await first.gateway.snapshotter.idle()
  expect(first.gateway.snapshotter.stats.failed).toBe(0)
  await first.gateway.stop()
  const stored = Store.open(join(first.dir, 'backoffice.sqlite'))
  const heldLsn = stored.lastLsn
  const figuresBefore = figuresOf(stored)
  stored.close()
  let gateway: Gateway | null = null
  const second = await startWorld({ seed, dir: first.dir, clock: first.clock, venue: first.venue, ...OPTIONS, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = second.gateway
  worlds.push(second)
  const section = second.gateway.restoredSections.get(BACKOFFICE_SECTION)
  expect(section).toBeDefined()
  second.gateway.restoredSections.set(BACKOFFICE_SECTION, (section as Uint8Array).subarray(0, 20))
  expect(second.gateway.engine.wal.firstLsn).toBeGreaterThan(1)
  expect(second.gateway.engine.wal.firstLsn).toBeLessThanOrEqual(heldLsn)
  return { first, second, heldLsn, figuresBefore }
}

describe('a query model holding history the ledger lacks (compacted log, no usable section)', () => {
  test('is held as it is, never overwritten with the partial ledger’s figures; the stats say so', async () => {
    const { first, second, heldLsn, figuresBefore } = await restartedWithoutSection(311)
    const office = backOfficeOf(second.gateway, { reconcileIntervalMs: null })
    await trade(second, { orders: 12, tag: 'i', seed: 312 })
    await run(second, 200)
    office.projector.flush()

    const stats = office.stats()
    expect(stats.ledgerComplete).toBe(false)
    expect(stats.sectionProblem).not.toBeNull()
    expect(stats.rebuiltStore).toBe(false)
    expect(stats.storeHeld).toContain('LEDGER_INCOMPLETE')
    expect(stats.walLastLsn).toBeGreaterThan(heldLsn)
    const store = office.projector.store
    // The store is exactly what the whole history gives at the LSN it holds, and what it held at the stop.
    expect(store.lastLsn).toBe(heldLsn)
    expect(figuresOf(store)).toBe(figuresBefore)
    expect(figuresOf(store)).toBe(wholeHistoryFiguresAt(first.dir, store.lastLsn))
    expect(stats.pendingRows).toBe(0)

    // Reconcile runs the checks it can; the query model is not compared with a ledger missing its history.
    const result = await drive(second, office.reconcile())
    expect(result.checks).not.toContain('ledger_vs_store')
    expect(result.checks).toContain('ledger_vs_kernel')
    // A snapshot takes no back-office section from a ledger missing history (a later start would take it as whole).
    expect(await second.gateway.snapshot()).not.toBeNull()
    expect(second.gateway.snapshotter.stats.failed).toBe(0)
    expect(newestSnapshotSections(first.dir).has(BACKOFFICE_SECTION)).toBe(false)
    expect(second.errors).toEqual([])
  })

  test('moved aside, it is written again from the log left; a snapshot then carries no section claiming the whole history', async () => {
    const { first, second } = await restartedWithoutSection(313)
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(first.dir, `backoffice.sqlite${suffix}`), { force: true })
    const office = backOfficeOf(second.gateway, { reconcileIntervalMs: null })
    await trade(second, { orders: 12, tag: 'j', seed: 314 })
    await run(second, 200)
    office.projector.flush()
    expect(office.stats()).toMatchObject({ ledgerComplete: false, storeHeld: null, rebuiltStore: false })
    expect(office.projector.store.lastLsn).toBe(second.gateway.engine.wal.lastLsn)
    expect(await second.gateway.snapshot()).not.toBeNull()
    expect(second.gateway.snapshotter.stats.failed).toBe(0)
    await second.gateway.stop()
    expect(newestSnapshotSections(first.dir).has(BACKOFFICE_SECTION)).toBe(false)
    // The next start still knows the ledger lacks the compacted history (a section of it would have said it was whole).
    const third = await officeWorld({ seed: 313, dir: first.dir, clock: first.clock, venue: first.venue, ...OPTIONS })
    worlds.push(third)
    expect(backOfficeOf(third.gateway).stats()).toMatchObject({ ledgerComplete: false, sectionLsn: null })
    expect(third.errors).toEqual([])
  })
})
