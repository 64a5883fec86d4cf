/**
 * Snapshot pause benchmark: what a snapshot of a running gateway costs intake, with and without the back office's
 * section, measured in one run on the same state.
 *
 *   bun scripts/bench-snapshot.ts [--orders N] [--rounds R]
 *
 * Trades N marketable orders (default 5,000; each fills, so the ledger and query model grow: postings, fills,
 * positions) through the real runtime on the sim venue with the back office open, then alternates R times (default 7)
 * between a kernel-only snapshot (the baseline) and a full one (kernel + back office), one new order between each.
 * Reports medians of the intake pause (the synchronous capture), the longest event-loop block, the total time and
 * the file size. Then what choosing a compaction's basis costs the event loop: one synchronous stretch in
 * planCompaction (offline `egress compact`), against the longest stretch, watched by a 1 ms timer, of the running
 * gateway's compactLogInTurns, which checks the basis in a thread (dry runs, medians of R). Then, on the gateway
 * restarted from its shutdown snapshot, how long the back office takes to open: from the section with its query
 * model present (replays only the log after the section), from the section with the query model missing (its copy
 * restored), and without a section (the whole log replayed, the query model rebuilt).
 * Progress on stderr; the last stdout line is one JSON object.
 */

import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BACKOFFICE_SECTION, BackOffice, backOfficeOf, backOfficeSectionSource, sectionHeaderOf } from '../src/backoffice/index.ts'
import type { Gateway } from '../src/runtime/gateway.ts'
import { SnapshotStore, takeSnapshot, type SnapshotTaken } from '../src/runtime/snapshot/index.ts'
import { planCompaction } from '../src/runtime/snapshot/compact.ts'
import { compactLogInTurns } from '../src/runtime/snapshot/compact-turns.ts'
import { prepareSharedThreads } from '../src/runtime/thread-priority.ts'
import { nodeIo } from '../wal/index.ts'
import { removeDir, run, startWorld, traderA } from '../specs/runtime/harness.ts'
import { allowSelfTrade, SelfTradeRefusals } from './support/self-trade-allowed.ts'

const { values } = parseArgs({ options: { orders: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '7' } } })
const orders = Number(values.orders)
const rounds = Number(values.rounds)
const log = (line: string): void => void process.stderr.write(`${line}\n`)

let gateway: Gateway | null = null
// Its buys and sells of acct-a cross each other: the account allows self-trades, and any refusal fails the run.
const world = await startWorld({ seed: 11, configure: allowSelfTrade, snapshots: { atShutdown: false }, snapshotSections: [backOfficeSectionSource(() => gateway)] })
const refusals = new SelfTradeRefusals()
gateway = world.gateway
try {
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  let placed = 0
  const place = async (): Promise<void> => {
    const side = placed % 2 === 0 ? 'buy' : 'sell'
    const price = side === 'buy' ? '61000' : '59000'
    refusals.note(await world.gateway.place(traderA, { account: 'acct-a', symbol: 'BTC-USD', side, type: 'limit', qty: '0.001', price, client_order_id: `b-${placed++}` }, null))
  }
  for (let index = 0; index < orders; index++) {
    await place()
    if (index % 50 === 49) await run(world, 20)
    if (index % 1000 === 999) log(`placed ${index + 1}, fills in the ledger ${office.projector.ledger.counters.fills}`)
  }
  await run(world, 500)
  refusals.assertNone('bench-snapshot')
  office.projector.flush()
  const counts = office.projector.store.counts()
  const hotOrders = world.gateway.engine.state.orders.size
  log(`state: ${hotOrders} orders hot, query model ${JSON.stringify(counts)}`)
  const kernelOnly = new SnapshotStore(join(world.dir, 'snapshots-kernel-only'), { io: nodeIo, keep: 2 })
  const samples: { kernel: SnapshotTaken[]; full: SnapshotTaken[] } = { kernel: [], full: [] }
  for (let round = 0; round < rounds; round++) {
    await place()
    await run(world, 20)
    samples.kernel.push((await takeSnapshot(world.gateway.engine, kernelOnly, { nowMs: world.clock.nowMs() })) as SnapshotTaken)
    const snapshotting = world.gateway.snapshot()
    // The back office's part waits for its query model to be written up to the LSN: keep the clock moving.
    let done = false
    void snapshotting.finally(() => (done = true))
    // At most 5 ms of simulated time per real millisecond: a write waiting off the loop (the snapshot file's pieces)
    // let a bare advance loop run the clock hours ahead, and the kernel retired all but 10,000 ended orders mid-run.
    while (!done) {
      await world.clock.advanceAsync(5)
      await Bun.sleep(1)
    }
    samples.full.push((await snapshotting) as SnapshotTaken)
    log(`round ${round}: kernel-only pause ${samples.kernel.at(-1)?.pauseMs.toFixed(2)} ms, full pause ${samples.full.at(-1)?.pauseMs.toFixed(2)} ms, full block max ${samples.full.at(-1)?.blockMsMax.toFixed(2)} ms`)
  }
  const summary = (taken: SnapshotTaken[]) => ({
    pauseMsMedian: round3(median(taken.map((t) => t.pauseMs))),
    blockMsMaxMedian: round3(median(taken.map((t) => t.blockMsMax))),
    totalMsMedian: round3(median(taken.map((t) => t.totalMs))),
    bytes: taken.at(-1)?.bytes ?? 0,
  })
  const kernel = summary(samples.kernel)
  const full = summary(samples.full)
  refusals.assertNone('bench-snapshot')
  const compaction = await compactionBasisTimes(kernelOnly)
  const open = await backOfficeOpenTimes()
  console.log(JSON.stringify({
    bench: 'snapshot-pause',
    orders,
    rounds,
    hotOrders,
    hotOrdersAtEnd: world.gateway.engine.state.orders.size,
    queryModel: counts,
    kernelOnly: kernel,
    withBackOffice: full,
    pauseRatio: round3(full.pauseMsMedian / Math.max(kernel.pauseMsMedian, 1e-9)),
    blockRatio: round3(full.blockMsMaxMedian / Math.max(kernel.blockMsMaxMedian, 1e-9)),
    compactionBasis: compaction,
    backOfficeOpenMs: open,
  }))
} finally {
  await world.gateway.stop().catch(() => undefined)
  removeDir(world.dir)
}

/**
 * The stretch a compaction's choice of basis holds the loop: checked on it (planCompaction), and in a thread
 * (compactLogInTurns, the running gateway's), its longest stretch and its total; dry runs, nothing removed.
 */
async function compactionBasisTimes(store: SnapshotStore): Promise<{ onLoopMs: number; offLoopStretchMsMax: number; offLoopTotalMs: number }> {
  const wal = world.gateway.engine.wal
  // A gateway with compaction on makes the collection before its first worker at its start (thread-priority.ts).
  prepareSharedThreads()
  const onLoop: number[] = []
  const stretch: number[] = []
  const total: number[] = []
  for (let round = 0; round < rounds; round++) {
    let started = performance.now()
    planCompaction(wal, store, { mode: 'delete', archiveDir: null })
    onLoop.push(performance.now() - started)
    let longest = 0
    let last = performance.now()
    let on = true
    const tick = (): void => {
      const now = performance.now()
      longest = Math.max(longest, now - last)
      last = now
      if (on) setTimeout(tick, 1)
    }
    setTimeout(tick, 1)
    started = performance.now()
    await compactLogInTurns(wal, store, { mode: 'delete', archiveDir: null, dryRun: true })
    total.push(performance.now() - started)
    on = false
    stretch.push(longest)
    log(`compaction basis, round ${round}: on the loop ${onLoop.at(-1)?.toFixed(1)} ms; in a thread: longest stretch ${longest.toFixed(1)} ms of ${total.at(-1)?.toFixed(1)} ms`)
  }
  return { onLoopMs: round3(median(onLoop)), offLoopStretchMsMax: round3(median(stretch)), offLoopTotalMs: round3(median(total)) }
}

/** Restarts on the same directory (from the newest snapshot) and opens the back office three ways, each on its own copy. */
async function backOfficeOpenTimes(): Promise<{ fromSection: number; fromSectionStoreMissing: number; wholeLog: number; sectionLsn: number; logLastLsn: number }> {
  const current = world.gateway
  backOfficeOf(current).projector.flush()
  await current.stop()
  const restarted = await startWorld({ seed: 11, dir: world.dir, clock: world.clock, venue: world.venue, configure: allowSelfTrade, snapshots: { atShutdown: false } })
  const section = restarted.gateway.restoredSections.get(BACKOFFICE_SECTION)
  if (section === undefined) throw new Error('the shutdown snapshot has no back-office section')
  const scratch = mkdtempSync(join(tmpdir(), 'egress-bench-bo-'))
  const storeCopy = (name: string, withStore: boolean): string => {
    const path = join(scratch, `${name}.sqlite`)
    if (withStore) for (const suffix of ['', '-wal']) if (existsSync(join(world.dir, `backoffice.sqlite${suffix}`))) copyFileSync(join(world.dir, `backoffice.sqlite${suffix}`), `${path}${suffix}`)
    return path
  }
  const timeOpen = (storePath: string, withSection: boolean): number => {
    const started = performance.now()
    const office = new BackOffice({ engine: restarted.gateway.engine, clock: restarted.clock, storePath, venues: [], reconcileIntervalMs: null, ...(withSection ? { section } : {}) })
    const elapsed = performance.now() - started
    office.close()
    return round3(elapsed)
  }
  try {
    timeOpen(storeCopy('warm', true), true)
    const result = {
      fromSection: timeOpen(storeCopy('a', true), true),
      fromSectionStoreMissing: timeOpen(storeCopy('b', false), true),
      wholeLog: timeOpen(storeCopy('c', false), false),
      sectionLsn: sectionHeaderOf(section).lsn,
      logLastLsn: restarted.gateway.engine.wal.lastLsn,
    }
    log(`back office open: ${JSON.stringify(result)}`)
    return result
  } finally {
    rmSync(scratch, { recursive: true, force: true })
    world.gateway = restarted.gateway
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000
}
