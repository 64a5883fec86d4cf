/**
 * The ledger audited from the log (ledger-audit.ts) on seeded whole-gateway runs: places (marketable and resting),
 * partial fills, amends, cancels, rejects, flattens, duplicated and dropped venue reports, timeouts after the venue
 * applied a call, crashes and clean restarts from snapshots, with the log compacted (archived) below them. At the end
 * the query model, the ledger's books and the kernel's balances equal what the auditor derives from the log records
 * alone, every posting and fill row is explained by its record, and the query model is byte-identical (content
 * digest) whether built live through the restarts, rebuilt from genesis over the whole log (archive + live segments),
 * or rebuilt from the newest snapshot's section plus the log after it. Odd seeds pay makers a rebate (negative fees).
 * A last case restarts from a full replay (no snapshot loaded) with the query model file deleted: the projector's
 * live rebuild equals the offline one from genesis, byte for byte, and passes the audit.
 */

import { describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { openReadOnly } from '../../wal/index.ts'
import { BACKOFFICE_SECTION, backOfficeOf, backOfficeSectionSource, decodeSection, openBackOfficeOf, QueryModelRebuild } from '../../src/backoffice/index.ts'
import { VENUE_REPORT_LAG_MS_MAX } from '../../src/backoffice/venue-suspects.ts'
import type { Units } from '../../src/domain/decimal.ts'
import type { DomainEvent } from '../../src/domain/events/index.ts'
import type { Gateway } from '../../src/runtime/gateway.ts'
import { domainEventOf } from '../../src/runtime/records.ts'
import { loadNewestValid, SnapshotStore } from '../../src/runtime/snapshot/index.ts'
import { nodeIo } from '../../wal/index.ts'
import { parseDecimal } from '../../src/domain/decimal.ts'
import { defaultSimInstruments, type Instrument } from '../../src/domain/instruments.ts'
import { SimClock } from '../../src/runtime/index.ts'
import { simInstrumentsFor } from '../../src/runtime/paper.ts'
import type { ExecutionReport, VenueOutcome, VenueTrade } from '../../src/venues/adapter.ts'
import { SimVenue } from '../../src/venues/sim/index.ts'
import { crashWorld, drive, removeDir, run, startWorld, T0, tempDataDir, traderA, traderB, type World, type WorldOptions } from '../runtime/harness.ts'
import { trade } from '../runtime/snapshot/support.ts'
import { auditLog, auditStore, compareBalances } from './ledger-audit.ts'

const SEEDS = [3601, 3602, 3603]
const ROUNDS = 4

/** The maker fee on odd seeds: a rebate (a negative fee); even seeds pay the sim's default 1 bp. */
const MAKER_REBATE_BPS = -2
const FAULTS = { dropReportProbability: 0, duplicateReportProbability: 0.1, timeoutAfterApplyProbability: 0.05, cancelAckLostProbability: 0.1 }

/**
 * A sim venue whose reports can be held back, its per-order trade list lagging them meanwhile (as
 * specs/backoffice/late-reports.ts): a read-back then finds more filled than the trades explain and the kernel books a
 * synthetic fill, which the real reports true up once released.
 */
class HoldingVenue extends SimVenue {
  holding = false
  private readonly held: { report: ExecutionReport; handler: (report: ExecutionReport) => void }[] = []

  override onReport(handler: (report: ExecutionReport) => void): () => void {
    return super.onReport((report) => {
      if (this.holding) this.held.push({ report, handler })
      else handler(report)
    })
  }

  override trades(options: { account?: string; clientOrderId?: string }): Promise<VenueOutcome<VenueTrade[]>> {
    if (this.holding && options.clientOrderId !== undefined) return Promise.resolve({ kind: 'ok', value: [] })
    return super.trades(options)
  }

  release(): void {
    this.holding = false
    for (const { report, handler } of this.held.splice(0)) handler(report)
  }
}

/**
 * The sim instruments with finer lots: a fill's quantity × price then has digits below the unit (1e-8), so the cash
 * legs' rounding (a buy pays up, a sell receives down) is exercised, as it is not on the default lots.
 */
function fineInstruments(): Instrument[] {
  const lots: Record<string, string> = { 'BTC-USD': '0.00000001', 'ETH-USD': '0.0000001', AAPL: '1' }
  return defaultSimInstruments().map((instrument) => ({ ...instrument, lotSize: parseDecimal(lots[instrument.symbol] ?? '1') }))
}

function options(seed: number, gateway: () => Gateway | null): WorldOptions {
  return {
    seed,
    configure: (config) => ({ ...config, instruments: fineInstruments() }),
    params: { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 },
    wal: { segmentBytesMax: 4096 },
    snapshots: { everyRecords: 60, keep: 2, compaction: 'archive' },
    snapshotSections: [backOfficeSectionSource(gateway)],
  }
}

/** Starts (or restarts) the world; `fullReplay`: no snapshot loaded and no compaction, so the start replays the whole log. */
async function start(seed: number, previous: World | null, fullReplay = false): Promise<World> {
  let gateway: Gateway | null = null
  const clock = previous?.clock ?? new SimClock({ startMs: T0 })
  const venue = previous?.venue ?? new HoldingVenue({ clock, seed, instruments: simInstrumentsFor(fineInstruments()), faults: FAULTS, partialFillProbability: 0.4, makerFeeBps: seed % 2 === 1 ? MAKER_REBATE_BPS : 1 })
  const policy = fullReplay ? { snapshots: { everyRecords: 60, keep: 2, load: false, compaction: 'off' as const } } : {}
  const world = await startWorld({ ...options(seed, () => gateway), ...policy, clock, venue, ...(previous === null ? {} : { dir: previous.dir }) })
  gateway = world.gateway
  backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  return world
}

/** Every frame of the run: the archived segments and the live log, copied side by side into one directory. */
function wholeLogDir(world: World, into: string): string {
  mkdirSync(into, { recursive: true })
  for (const from of [join(world.dir, 'archive'), join(world.dir, 'log')]) {
    if (!existsSync(from)) continue
    for (const name of readdirSync(from)) copyFileSync(join(from, name), join(into, name))
  }
  return into
}

function openOrders(world: World): string[] {
  const open = [...world.gateway.engine.state.orders.values()].filter((order) => !['Filled', 'Canceled', 'Rejected', 'Expired', 'Failed'].includes(order.status))
  return open.map((order) => `${order.orderId} ${order.status}`)
}

function newestSection(world: World) {
  const store = new SnapshotStore(join(world.dir, 'snapshots'), { io: nodeIo, keep: 10 })
  const { loaded } = loadNewestValid(store, openReadOnly(join(world.dir, 'log')))
  const bytes = loaded?.sections.get(BACKOFFICE_SECTION)
  if (bytes === undefined) throw new Error('no back-office section in the newest snapshot')
  return decodeSection(bytes)
}

describe('the ledger audited from the log', () => {
  for (const seed of SEEDS) {
    test(`seed ${seed}: balances, postings, fills and positions are what the log records give; live = genesis = section + tail`, async () => {
      let world = await start(seed, null)
      const scratch = tempDataDir()
      try {
        for (let round = 0; round < ROUNDS; round++) {
          const venue = world.venue as HoldingVenue
          // Every other round the venue's reports lag, and a read-back books synthetic fills their release trues up.
          if (round % 2 === 0) {
            venue.holding = true
            venue.setFaults({ ...FAULTS, timeoutAfterApplyProbability: 0.3 })
          }
          await trade(world, { orders: 24, tag: `a${round}`, seed: seed * 10 + round })
          if (venue.holding) {
            await run(world, 4_000)
            venue.release()
          }
          // Reports are dropped only while none is held: a dropped report of quantity a synthetic fill booked is never
          // read back (its order is Filled), so its true-up never comes (reported; not what this spec checks).
          venue.setFaults({ ...FAULTS, dropReportProbability: 0.05 })
          if (round % 2 === 1) await world.gateway.flatten(round % 4 === 1 ? traderA : traderB, round % 4 === 1 ? 'acct-a' : 'acct-b', `f${round}`)
          await run(world, 300)
          if (round === ROUNDS - 1) break
          if (round % 2 === 0) {
            // A crash: the back office stops where it is, writing nothing more.
            const office = openBackOfficeOf(world.gateway)
            await office?.quiesce()
            office?.projector.close({ flush: false })
            office?.close()
            await crashWorld(world)
          } else {
            await world.gateway.stop()
          }
          world = await start(seed, world)
        }
        // The venue healed (as the simulation's end does): the last reconciles must hear from it.
        world.venue.setFaults({})
        // Everything still open is canceled (a lost cancel ack settles on a read-back), so every reservation must be released.
        for (const order of world.gateway.engine.state.orders.values()) {
          if (['AckedOpen', 'Partial', 'Sent', 'Enqueued'].includes(order.status)) await world.gateway.cancel(order.accountId === 'acct-a' ? traderA : traderB, order.orderId)
        }
        for (let waitedMs = 0; waitedMs < 60_000 && openOrders(world).length > 0; waitedMs += 500) await run(world, 500)
        await world.gateway.snapshotter.idle()
        const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
        await world.gateway.engine.settled()
        for (let attempt = 0; attempt < 100 && !office.projector.flush(); attempt++) await run(world, 5)
        const store = office.projector.store
        expect(store.lastLsn).toBe(world.gateway.engine.state.lastLsn)
        expect(world.gateway.engine.wal.firstLsn).toBeGreaterThan(1)

        const logDir = wholeLogDir(world, join(scratch, 'log'))
        const log = openReadOnly(logDir)
        expect(log.firstLsn).toBe(1)
        const records: { lsn: number; event: DomainEvent }[] = []
        for (const frame of log.read(1, { toLsn: store.lastLsn })) {
          const event = domainEventOf(frame)
          if (event !== null) records.push({ lsn: frame.lsn, event })
        }
        const audit = auditLog(records)
        expect(audit.counts['order.fill'] ?? 0).toBeGreaterThan(20)
        expect(audit.counts['order.amended'] ?? 0).toBeGreaterThan(0)
        expect(audit.counts['order.fill_trued_up'] ?? 0).toBeGreaterThan(0)
        expect(audit.roundedFills).toBeGreaterThan(0)
        expect(audit.counts['account.flatten_requested'] ?? 0).toBeGreaterThan(0)
        expect(auditStore(audit, store)).toEqual([])
        const kernelBalances = new Map<string, Units>()
        const kernelReserved: string[] = []
        for (const [accountId, ledger] of world.gateway.engine.state.accounts) {
          for (const [asset, amount] of ledger.balances) kernelBalances.set(`${accountId}\n${asset}`, amount)
          for (const [asset, amount] of ledger.reserved) kernelReserved.push(`${accountId}/${asset} ${amount}`)
        }
        expect(compareBalances('kernel', audit, kernelBalances)).toEqual([])
        const books = new Map<string, Units>()
        for (const [book, assets] of office.projector.ledger.books) {
          if (!book.startsWith('acct:')) continue
          for (const [asset, amount] of assets) books.set(`${book.slice('acct:'.length)}\n${asset}`, amount)
        }
        expect(compareBalances('ledger', audit, books)).toEqual([])
        // Every order ended: nothing held anywhere.
        expect(openOrders(world)).toEqual([])
        expect(kernelReserved).toEqual([])
        expect([...office.projector.ledger.reserved.values()].filter((assets) => assets.size > 0)).toEqual([])
        expect(store.balances().filter((row) => row.reserved !== 0n)).toEqual([])

        // Live = genesis = the newest section + the log after it.
        const live = store.contentDigest()
        const genesis = QueryModelRebuild.fromGenesis()
        try {
          for (const frame of log.read(1, { toLsn: store.lastLsn })) genesis.apply(frame)
          expect(genesis.digest()).toEqual(live)
        } finally {
          genesis.close()
        }
        const section = newestSection(world)
        expect(section.header.lsn).toBeGreaterThanOrEqual(world.gateway.engine.wal.firstLsn - 1)
        const resumed = QueryModelRebuild.fromSection(section)
        try {
          for (const frame of world.gateway.engine.wal.read(section.header.lsn + 1, { toLsn: store.lastLsn })) resumed.apply(frame)
          expect(resumed.digest()).toEqual(live)
        } finally {
          resumed.close()
        }
        expect(world.errors).toEqual([])
        // Every real fill behind a synthetic one has arrived, so the books hold what the venue holds (trades, balances,
        // open orders), to the unit: two reconciles, once the last trade is older than a report may lag, find nothing.
        await run(world, VENUE_REPORT_LAG_MS_MAX, 50)
        const first = await drive(world, office.reconcile())
        const second = await drive(world, office.reconcile())
        expect([...first.observations, ...second.observations]).toEqual([])
        expect(second.checks).toContain('venue_balances')
        expect(office.openBreaks).toEqual([])
      } finally {
        await world.gateway.stop().catch(() => undefined)
        removeDir(world.dir)
        removeDir(scratch)
      }
    }, 120_000)
  }

  test('a restart from a full replay with the query model deleted rebuilds it, live, to what an offline rebuild from genesis gives', async () => {
    const seed = 3604
    let world = await start(seed, null, true)
    try {
      for (let round = 0; round < 2; round++) {
        await trade(world, { orders: 24, tag: `r${round}`, seed: seed * 10 + round })
        await run(world, 500)
        await world.gateway.stop()
        if (round === 1) for (const suffix of ['', '-wal', '-shm']) rmSync(join(world.dir, `backoffice.sqlite${suffix}`), { force: true })
        world = await start(seed, world, true)
      }
      await run(world, 1_000)
      expect(world.gateway.restoreReport?.snapshot ?? null).toBeNull()
      const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
      expect(office.stats().rebuiltStore || office.projector.startedFromLsn === 0).toBe(true)
      await world.gateway.engine.settled()
      for (let attempt = 0; attempt < 100 && !office.projector.flush(); attempt++) await run(world, 5)
      const store = office.projector.store
      const records: { lsn: number; event: DomainEvent }[] = []
      const genesis = QueryModelRebuild.fromGenesis()
      try {
        for (const frame of world.gateway.engine.wal.read(1, { toLsn: store.lastLsn })) {
          genesis.apply(frame)
          const event = domainEventOf(frame)
          if (event !== null) records.push({ lsn: frame.lsn, event })
        }
        expect(genesis.digest()).toEqual(store.contentDigest())
      } finally {
        genesis.close()
      }
      const audit = auditLog(records)
      expect(audit.counts['order.fill'] ?? 0).toBeGreaterThan(10)
      expect(auditStore(audit, store)).toEqual([])
    } finally {
      await world.gateway.stop().catch(() => undefined)
      removeDir(world.dir)
    }
  }, 120_000)
})
