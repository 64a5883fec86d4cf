import { describe, expect, test } from 'bun:test'
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly } from '../../wal/index.ts'
import {
  BACKOFFICE_SECTION, BACKOFFICE_SECTION_VERSION, backOfficeOf, backOfficeSectionSource, balanceRowsOf, decodeSection, encodeSection, QueryModelRebuild, sectionHeaderOf,
  Store,
} from '../../src/backoffice/index.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import { loadNewestValid, SnapshotStore } from '../../src/runtime/snapshot/index.ts'
import { nodeIo } from '../../wal/index.ts'
import { drive, run, startWorld, worldsStoppedAfterEach, type World, type WorldOptions } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'

const worlds = worldsStoppedAfterEach()

/** A world whose gateway snapshots the back office (opened right after start, as `egress serve` does). */
async function officeWorld(options: Partial<WorldOptions> & { seed: number }): Promise<World> {
  let gateway: Gateway | null = null
  const world = await startWorld({ ...options, snapshotSections: [backOfficeSectionSource(() => gateway)] })
  gateway = world.gateway
  backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  return world
}

/** The back office rebuilt from the whole log (genesis) up to `lsn`, digested. */
function rebuiltDigestAt(logDir: string, lsn: number): string {
  const log = openReadOnly(logDir)
  const rebuild = QueryModelRebuild.fromGenesis()
  try {
    for (const frame of log.read(1, { toLsn: lsn })) rebuild.apply(frame)
    return rebuild.digest().digest
  } finally {
    rebuild.close()
  }
}

/** The back-office section a rebuild from genesis gives at `lsn`. */
function rebuiltSectionAt(logDir: string, lsn: number): Uint8Array {
  const log = openReadOnly(logDir)
  const rebuild = QueryModelRebuild.fromGenesis()
  try {
    for (const frame of log.read(1, { toLsn: lsn })) rebuild.apply(frame)
    return rebuild.section()
  } finally {
    rebuild.close()
  }
}

/** Reconciles while driving the simulated clock (the venue answers on it). */
function reconcile(world: World) {
  return drive(world, backOfficeOf(world.gateway).reconcile())
}

/** A section with its header rewritten (another version, another LSN): the bytes after it unchanged. */
function withHeader(bytes: Uint8Array, change: (header: Record<string, unknown>) => void): Uint8Array {
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length))) as Record<string, unknown>
  change(header)
  const encoded = new TextEncoder().encode(JSON.stringify(header))
  const out = new Uint8Array(12 + encoded.byteLength + bytes.byteLength - 12 - length)
  out.set(bytes.subarray(0, 8), 0)
  new DataView(out.buffer).setUint32(8, encoded.byteLength, true)
  out.set(encoded, 12)
  out.set(bytes.subarray(12 + length), 12 + encoded.byteLength)
  return out
}

function newestSection(dir: string): Uint8Array {
  const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 10 })
  const { loaded } = loadNewestValid(store, openReadOnly(join(dir, 'log')))
  const section = loaded?.sections.get(BACKOFFICE_SECTION)
  if (section === undefined) throw new Error('no back-office section in the newest snapshot')
  return section
}

describe('the back office in snapshots', () => {
  test('a snapshot carries the ledger, breaks and query model at its LSN, equal to a rebuild from genesis', async () => {
    const world = await officeWorld({ seed: 301 })
    worlds.push(world)
    await trade(world, { orders: 30, tag: 'q', seed: 301 })
    await run(world, 200)
    // A break on record: the section must carry the break book too.
    const balances = world.gateway.engine.state.accounts.get('acct-a')?.balances
    balances?.set('USD', (balances.get('USD') ?? 0n) + 1n)
    const office = backOfficeOf(world.gateway)
    expect((await reconcile(world)).opened.length).toBeGreaterThan(0)
    balances?.set('USD', (balances.get('USD') ?? 0n) - 1n)
    await trade(world, { orders: 6, tag: 'r', seed: 302 })
    const taken = await world.gateway.snapshot()
    expect(taken).not.toBeNull()
    const bytes = newestSection(world.dir)
    const section = decodeSection(bytes)
    expect(section.header.lsn).toBeGreaterThanOrEqual(taken?.lsn as number)
    expect(section.breaks.open.size).toBe(office.openBreaks.length)
    expect(section.header.queryModel.digest).toBe(rebuiltDigestAt(join(world.dir, 'log'), section.header.lsn))
    expect(Store.openImage(section.image).contentDigest()).toEqual(section.header.queryModel)
    expect(balanceRowsOf(section.ledger).length).toBeGreaterThan(0)
    expect(world.errors).toEqual([])
  })

  test('no snapshot is taken while the back office is not open yet, so none can lack its section', async () => {
    let gateway: Gateway | null = null
    const world = await startWorld({ seed: 306, snapshotSections: [backOfficeSectionSource(() => gateway)] })
    worlds.push(world)
    gateway = world.gateway
    await trade(world, { orders: 5, tag: 'n', seed: 306 })
    expect(await world.gateway.snapshot()).toBeNull()
    backOfficeOf(world.gateway, { reconcileIntervalMs: null })
    const taken = await world.gateway.snapshot()
    expect(taken).not.toBeNull()
    expect(sectionHeaderOf(newestSection(world.dir)).lsn).toBeGreaterThanOrEqual(taken?.lsn as number)
  })

  test('restart: the back office starts from the section, replays only the log after it, and matches a full replay', async () => {
    const first = await officeWorld({ seed: 302 })
    await trade(first, { orders: 25, tag: 's', seed: 302 })
    await run(first, 200)
    const before = backOfficeOf(first.gateway).projector.ledger.counters
    await first.gateway.stop()
    const lsn = sectionHeaderOf(newestSection(first.dir)).lsn
    const second = await officeWorld({ seed: 302, dir: first.dir, clock: first.clock, venue: first.venue })
    worlds.push(second)
    const office = backOfficeOf(second.gateway)
    const stats = office.stats()
    expect(stats.sectionLsn).toBe(lsn)
    expect(stats.sectionProblem).toBeNull()
    expect(stats.restoredStore).toBe(false)
    expect(stats.ledgerComplete).toBe(true)
    expect(office.projector.ledger.counters.fills).toBeGreaterThanOrEqual(before.fills)
    await trade(second, { orders: 10, tag: 't', seed: 303 })
    await run(second, 200)
    const result = await reconcile(second)
    expect(result.checks).toContain('ledger_vs_replay')
    expect(result.observations).toEqual([])
    office.projector.flush()
    const stored = office.projector.store.contentDigest()
    expect(stored.digest).toBe(rebuiltDigestAt(join(first.dir, 'log'), stored.lastLsn))
  })

  test('a missing query model is restored from the section; after compaction the ledger stays complete and reconciles clean', async () => {
    const options = { seed: 303, wal: { segmentBytesMax: 4096 }, snapshots: { everyRecords: 60, keep: 2, compaction: 'archive' as const } }
    const first = await officeWorld(options)
    await trade(first, { orders: 40, tag: 'c', seed: 303 })
    await run(first, 200)
    await first.gateway.snapshotter.idle()
    expect(first.gateway.snapshotter.stats.failed).toBe(0)
    expect(first.gateway.engine.wal.firstLsn).toBeGreaterThan(1)
    // Compacted while running: the replay check starts from the newest section's ledger instead of genesis.
    const live = await reconcile(first)
    expect(live.checks).toContain('ledger_vs_replay')
    expect(live.observations).toEqual([])
    const fillsBefore = backOfficeOf(first.gateway).projector.ledger.counters.fills
    await first.gateway.stop()
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(first.dir, `backoffice.sqlite${suffix}`), { force: true })
    const second = await officeWorld({ ...options, dir: first.dir, clock: first.clock, venue: first.venue })
    worlds.push(second)
    const office = backOfficeOf(second.gateway)
    const stats = office.stats()
    expect(stats.restoredStore).toBe(true)
    expect(stats.ledgerComplete).toBe(true)
    expect(office.projector.ledger.counters.fills).toBe(fillsBefore)
    expect(office.projector.store.counts().fills).toBe(fillsBefore)
    const result = await reconcile(second)
    expect(result.observations).toEqual([])
    expect(result.checks).toContain('ledger_vs_replay')
    expect(existsSync(join(first.dir, 'backoffice.sqlite'))).toBe(true)
  })

  test('a version 1 section (from before retention) is upgraded on load: end times from the kernel, its retention, every venue account; it reconciles clean', async () => {
    const first = await officeWorld({ seed: 306 })
    await trade(first, { orders: 20, tag: 'u', seed: 306 })
    await run(first, 200)
    await first.gateway.stop()
    const section = decodeSection(newestSection(first.dir))
    // What a version 1 build wrote: no retention fields, no acceptance LSN on the orders.
    const { endedOrders, retention: _retention, retiredThroughAtMs: _retired, venueAccounts, ...v1Ledger } = section.ledger
    const { retiredOrders: _retiredOrders, unbookedFills: _unbooked, ...v1Counters } = section.ledger.counters
    const v1Orders = new Map([...section.ledger.orders].map(([orderId, { acceptedLsn: _lsn, ...order }]) => [orderId, order]))
    const v1 = withHeader(
      encodeSection({ ...section, lsn: section.header.lsn, chainHead: section.header.chainHead, queryModel: section.header.queryModel, ledger: { ...v1Ledger, orders: v1Orders, counters: v1Counters } as never }),
      (header) => (header.version = 1),
    )
    expect(endedOrders.size).toBeGreaterThan(0)
    const second = await startWorld({ seed: 306, dir: first.dir, clock: first.clock, venue: first.venue })
    worlds.push(second)
    second.gateway.restoredSections.set(BACKOFFICE_SECTION, v1)
    const office = backOfficeOf(second.gateway, { reconcileIntervalMs: null })
    expect(office.stats().sectionProblem).toBeNull()
    expect(office.stats().sectionLsn).toBe(section.header.lsn)
    const ledger = office.projector.ledger
    // Every ended order the section held is listed, with the kernel's end time (which holds them all here).
    const kernelEnded = second.gateway.engine.state.terminalOrderIds
    for (const [orderId] of endedOrders) expect(ledger.endedOrders.get(orderId)).toBe(kernelEnded.get(orderId) as number)
    expect(ledger.retention).toEqual(section.ledger.retention)
    expect(ledger.venueAccounts).toEqual(venueAccounts)
    // A version 2 section whose ended-order list names an order it does not hold is refused, not walked.
    const stray = encodeSection({ ...section, lsn: section.header.lsn, chainHead: section.header.chainHead, queryModel: section.header.queryModel, ledger: { ...section.ledger, endedOrders: new Map([...endedOrders, ['no-such-order', 1]]) } })
    expect(() => decodeSection(stray)).toThrow('back-office state fields missing or of the wrong type')
    // An order without a value (a pair cut short) is refused the same way, not an assertion of the ledger's Map.
    const [firstOrderId] = section.ledger.orders.keys()
    const cut = encodeSection({ ...section, lsn: section.header.lsn, chainHead: section.header.chainHead, queryModel: section.header.queryModel, ledger: { ...section.ledger, orders: new Map([...section.ledger.orders, [firstOrderId as string, null as never]]) } })
    expect(() => decodeSection(cut)).toThrow('back-office state fields missing or of the wrong type')
    expect([...ledger.orders.values()].every((order) => Number.isSafeInteger(order.acceptedLsn))).toBe(true)
    await trade(second, { orders: 5, tag: 'w', seed: 307 })
    await run(second, 200)
    const result = await reconcile(second)
    expect(result.skipped).toEqual([])
    expect(result.observations).toEqual([])
  })

  /**
   * A data directory whose newest section is rewritten as version 2 (no lots; its image of query model version 1,
   * digested over that version's tables as that build did), its open position's cost basis and realized PnL both moved
   * by `shiftUnits` (0: as written), the store removed (or, with `oldStore`, kept as a build before lots leaves it: no
   * lots_rule row); restarted on it, traded on, reconciled. The log is whole: without the store, the section is passed
   * over for a fold from genesis (its query model is of an older version) that keeps its lots rule.
   */
  async function restartOnV2Section(seed: number, shiftUnits: bigint, oldStore = false) {
    const first = await officeWorld({ seed })
    await trade(first, { orders: 20, tag: 'l', seed })
    await run(first, 200)
    await first.gateway.stop()
    // With the store kept, a section some records behind it (rebuilt from the log there), so the store is ahead of it.
    const section = decodeSection(oldStore ? rebuiltSectionAt(join(first.dir, 'log'), sectionHeaderOf(newestSection(first.dir)).lsn - 20) : newestSection(first.dir))
    expect(section.ledger.lotsUntrackedThroughLsn).toBe(0)
    const { lotsUntrackedThroughLsn: _lots, ...v2Ledger } = section.ledger
    const positions = new Map([...section.ledger.positions].map(([key, { syntheticLots: _synthetic, ...position }]) => [key, { ...position, fees: new Map(position.fees) }]))
    const open = [...positions.values()].find((position) => position.netQty !== 0n)
    if (open === undefined) throw new Error('expected an open position')
    open.costBasis += shiftUnits
    open.realizedPnl += shiftUnits
    const image = Store.openImage(section.image)
    image.replaceDerived([...positions.values()], balanceRowsOf(section.ledger))
    const doctored = { bytes: image.image(), digest: image.contentDigest(1) }
    image.close()
    const ledger = { ...v2Ledger, positions } as never
    const v2 = withHeader(
      encodeSection({ lsn: section.header.lsn, chainHead: section.header.chainHead, queryModel: doctored.digest, ledger, breaks: section.breaks, image: doctored.bytes }),
      (header) => (header.version = 2),
    )
    let storedLsn = 0
    if (oldStore) {
      const store = Store.open(join(first.dir, 'backoffice.sqlite'))
      store.transaction((db) => db.exec('DELETE FROM lots_rule'))
      storedLsn = store.lastLsn
      store.close()
    } else for (const suffix of ['', '-wal', '-shm']) rmSync(join(first.dir, `backoffice.sqlite${suffix}`), { force: true })
    const second = await startWorld({ seed, dir: first.dir, clock: first.clock, venue: first.venue })
    worlds.push(second)
    second.gateway.restoredSections.set(BACKOFFICE_SECTION, v2)
    const office = backOfficeOf(second.gateway, { reconcileIntervalMs: null })
    // Ahead of the section, the store is kept and the ledger starts from the section; else the section is passed over.
    if (oldStore) expect(office.stats()).toMatchObject({ sectionProblem: null, sectionLsn: section.header.lsn })
    else expect(office.stats()).toMatchObject({ sectionProblem: expect.stringMatching(/^QUERY_MODEL_VERSION: /), sectionLsn: null })
    // Kept, a store written by a build before lots holds its rule's figures up to its LSN: no lots through it either.
    const untrackedLsn = oldStore ? storedLsn : section.header.lsn
    if (oldStore) expect(storedLsn).toBeGreaterThan(section.header.lsn)
    expect(office.stats().restoredStore).toBe(false)
    expect(office.projector.ledger.lotsUntrackedThroughLsn).toBe(untrackedLsn)
    // The log still begins at LSN 1: the replay folds from genesis, with no lots through that LSN.
    expect(second.gateway.engine.wal.firstLsn).toBe(1)
    const base = office.projector.replayBaseLedger()
    expect(base).toMatchObject({ lsn: 0, ledger: { lastLsn: 0, lotsUntrackedThroughLsn: untrackedLsn } })
    await trade(second, { orders: 5, tag: 'm', seed: seed + 1 })
    await run(second, 200)
    return { result: await reconcile(second), openKey: `${open.accountId}:${open.venue}:${open.symbol}` }
  }

  test('a version 2 section (from before synthetic lots), the log whole: passed over for genesis, its lots rule kept: lots untracked through its LSN', async () => {
    const { result } = await restartOnV2Section(307, 0n)
    expect(result.checks).toContain('ledger_vs_replay')
    expect(result.observations).toEqual([])
  })

  test('a store ahead of a version 2 section, written by a build before lots, is kept and folded on by its rule: no lots through its LSN', async () => {
    const { result } = await restartOnV2Section(309, 0n, true)
    expect(result.checks).toContain('ledger_vs_store')
    expect(result.observations).toEqual([])
  })

  test('a version 2 section whose position figures the log does not give, the log whole: passed over, so they never enter the ledger', async () => {
    const { result } = await restartOnV2Section(307, 1_000n)
    expect(result.checks).toContain('ledger_vs_replay')
    expect(result.observations).toEqual([])
  })

  test('a store ahead of the log or not matching it is replaced by the section copy', async () => {
    const first = await officeWorld({ seed: 304 })
    await trade(first, { orders: 15, tag: 'a', seed: 304 })
    await run(first, 200)
    await first.gateway.stop()
    // Another history's query model at a higher LSN: must never be trusted.
    const foreign = Store.open(join(first.dir, 'backoffice.sqlite'))
    foreign.setPosition(foreign.lastLsn + 1_000, 'ab'.repeat(32))
    foreign.close()
    const second = await officeWorld({ seed: 304, dir: first.dir, clock: first.clock, venue: first.venue })
    worlds.push(second)
    const office = backOfficeOf(second.gateway)
    expect(office.stats().restoredStore).toBe(true)
    expect((await reconcile(second)).observations).toEqual([])
  })

  test('a section of another version, not fitting the log, or whose query model does not match its digest is refused with a reason; the back office replays the log instead', async () => {
    const first = await officeWorld({ seed: 305 })
    await trade(first, { orders: 10, tag: 'v', seed: 305 })
    await run(first, 100)
    await first.gateway.stop()
    const section = decodeSection(newestSection(first.dir))
    // Another version of the layout (an older or newer build): refused by name, never read under this build's layout.
    const bumped = withHeader(newestSection(first.dir), (header) => (header.version = BACKOFFICE_SECTION_VERSION + 1))
    expect(() => decodeSection(bumped)).toThrow(`back-office section version ${BACKOFFICE_SECTION_VERSION + 1}, this build reads 1, 2, 3`)
    const older = withHeader(newestSection(first.dir), (header) => (header.version = 0))
    expect(() => decodeSection(older)).toThrow('back-office section version 0, this build reads 1, 2, 3')
    const wrongChain = encodeSection({ ...section, lsn: section.header.lsn, chainHead: '00'.repeat(32), queryModel: section.header.queryModel })
    const second = await startWorld({ seed: 305, dir: first.dir, clock: first.clock, venue: first.venue })
    worlds.push(second)
    second.gateway.restoredSections.set(BACKOFFICE_SECTION, wrongChain)
    const office = backOfficeOf(second.gateway, { reconcileIntervalMs: null })
    expect(office.stats().sectionProblem).toMatch(/^LOG_MISMATCH/)
    expect(office.stats().sectionLsn).toBeNull()
    expect(office.stats().ledgerComplete).toBe(true)
    expect((await reconcile(second)).observations).toEqual([])
    await second.gateway.stop()
    worlds.splice(worlds.indexOf(second), 1)

    // A query-model copy whose content is not what the section's digest says: not installed, the log replayed.
    const doctoredImage = Store.openImage(section.image)
    doctoredImage.replaceDerived([], [])
    const doctored = encodeSection({ lsn: section.header.lsn, chainHead: section.header.chainHead, queryModel: section.header.queryModel, ledger: section.ledger, breaks: section.breaks, image: doctoredImage.image() })
    doctoredImage.close()
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(first.dir, `backoffice.sqlite${suffix}`), { force: true })
    const third = await startWorld({ seed: 305, dir: first.dir, clock: first.clock, venue: first.venue })
    worlds.push(third)
    third.gateway.restoredSections.set(BACKOFFICE_SECTION, doctored)
    const replayed = backOfficeOf(third.gateway, { reconcileIntervalMs: null })
    expect(replayed.stats().sectionProblem).toMatch(/^STATE_INVALID: the section's query model digests to/)
    expect(replayed.stats().restoredStore).toBe(false)
    expect((await reconcile(third)).observations).toEqual([])
  })
})
