/**
 * replay-verify benchmark: how many times the back-office sections are decoded per run, and what that and the whole
 * run cost, on a data directory whose snapshots carry a sizeable back office (tens of thousands of orders and fills).
 *
 *   bun scripts/bench-replay-verify.ts [--orders N] [--runs R] [--keep-dir]
 *
 * Trades N marketable orders (default 30,000; each fills) on the sim venue through the real runtime with the back
 * office open, taking a snapshot (kernel + back-office section) after half of them and another at the end, then stops
 * (the stored query model written). Then R times each (default 5, after one warm-up run), on two copies:
 *   - whole:     the log from genesis; the stored query model and both sections compared with a rebuild from it,
 *   - compacted: the log compacted below the older snapshot, so the query model is rebuilt from its section.
 * Each run counts the sections decoded (replay-verify's onSectionDecoded observer) and the time spent decoding, and
 * times replay-verify as a whole and its query-model part. Every run must find everything matching; its verdicts
 * (per snapshot and per query-model check) are printed so that runs of two builds can be compared.
 * Progress on stderr; the last line of stdout is one JSON object with the medians.
 */

import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { backOfficeOf, backOfficeSectionSource } from '../src/backoffice/index.ts'
import type { Gateway } from '../src/runtime/gateway.ts'
import { compactOffline, replayVerify, type ReplayVerifyReport } from '../src/runtime/snapshot/index.ts'
import { startWorld, type World } from '../specs/runtime/harness.ts'
import { tradeBatch } from './support/trade-batch.ts'
import { allowSelfTrade } from './support/self-trade-allowed.ts'

const { values } = parseArgs({ options: { orders: { type: 'string', default: '30000' }, runs: { type: 'string', default: '5' }, 'keep-dir': { type: 'boolean', default: false } } })
const orders = Number(values.orders)
const runs = Number(values.runs)
if (!(Number.isSafeInteger(orders) && orders >= 2) || !(Number.isSafeInteger(runs) && runs >= 1)) {
  throw new RangeError('usage: bun scripts/bench-replay-verify.ts [--orders N ≥ 2] [--runs R ≥ 1] [--keep-dir]')
}
const log = (line: string): void => void process.stderr.write(`${line}\n`)
const BATCH_ORDERS = 600

interface RunFigures {
  sectionDecodes: number
  decodeMs: number
  queryModelMs: number
  wallMs: number
  verdicts: string
}

const root = mkdtempSync(join(tmpdir(), 'egress-bench-replay-verify-'))
try {
  const built = await build(join(root, 'source'))
  const wholeDir = join(root, 'whole')
  const compactedDir = join(root, 'compacted')
  cpSync(built.dir, wholeDir, { recursive: true })
  cpSync(built.dir, compactedDir, { recursive: true })
  const compaction = await compactOffline(compactedDir, { mode: 'delete', archiveDir: null, keep: 2, dryRun: false })
  if (compaction.firstLsnAfter <= 1) throw new Error('compaction removed nothing: the compacted case would replay from genesis')
  log(`compacted below LSN ${compaction.boundLsn}: the log now starts at ${compaction.firstLsnAfter}`)
  const whole = measure('whole', wholeDir)
  const compacted = measure('compacted', compactedDir)
  console.log(JSON.stringify({ bench: 'replay-verify', orders: built.orders, records: built.records, snapshotBytes: built.snapshotBytes, runs, whole, compacted }))
} finally {
  if (values['keep-dir'] === true) log(`kept ${root}`)
  else rmSync(root, { recursive: true, force: true })
}

async function build(dir: string): Promise<{ dir: string; orders: number; records: number; snapshotBytes: number[] }> {
  const started = performance.now()
  let gateway: Gateway | null = null
  const world = await startWorld({
    seed: 17,
    dir,
    // tradeBatch's buys and sells of one account cross each other: its accounts allow self-trades.
    configure: allowSelfTrade,
    venueOptions: { latencyMsMin: 0, latencyMsMax: 1, ordersMax: Math.max(100_000, orders) },
    params: { lane1DepthMax: 100_000, lane2DepthMax: 100_000, accountQueuedMax: 100_000 },
    snapshots: { atShutdown: false, keep: 2 },
    snapshotSections: [backOfficeSectionSource(() => gateway)],
  })
  gateway = world.gateway
  const office = backOfficeOf(world.gateway, { reconcileIntervalMs: null })
  const snapshotBytes: number[] = []
  let placed = 0
  for (const goal of [Math.floor(orders / 2), orders]) {
    while (placed < goal) {
      placed += await tradeBatch(world, placed, Math.min(BATCH_ORDERS, goal - placed), { clientOrderIdPrefix: 'rv-' })
      if (placed % 6000 === 0) log(`placed ${placed}, fills in the ledger ${office.projector.ledger.counters.fills}`)
    }
    snapshotBytes.push(await snapshot(world))
  }
  const records = world.gateway.engine.wal.lastLsn
  log(`built ${records} records, ${placed} orders in ${((performance.now() - started) / 1000).toFixed(1)} s; snapshots ${snapshotBytes.join(', ')} bytes`)
  await world.gateway.stop()
  if (world.errors.length > 0) throw new Error(`the build logged errors: ${world.errors.join('; ')}`)
  return { dir, orders: placed, records, snapshotBytes }
}

/** A snapshot with the back office's section; that part waits for the query model to reach its LSN, so the clock moves. */
async function snapshot(world: World): Promise<number> {
  const taking = world.gateway.snapshot()
  let done = false
  void taking.finally(() => (done = true))
  while (!done) await world.clock.advanceAsync(5)
  const taken = await taking
  if (taken === null) throw new Error('no snapshot was taken')
  return taken.bytes
}

function measure(name: string, dir: string): { sectionDecodesPerRun: number; decodeMsMedian: number; queryModelMsMedian: number; wallMsMedian: number; verdicts: string } {
  once(dir) // warm-up: the first run in a process is slower (JIT); not counted
  const figures: RunFigures[] = []
  for (let run = 0; run < runs; run++) {
    Bun.gc(true)
    figures.push(once(dir))
    const last = figures.at(-1) as RunFigures
    log(`${name} run ${run}: ${last.sectionDecodes} section decodes (${last.decodeMs.toFixed(1)} ms), query model ${last.queryModelMs.toFixed(1)} ms, wall ${last.wallMs.toFixed(1)} ms`)
  }
  const verdicts = new Set(figures.map((figure) => figure.verdicts))
  const decodes = new Set(figures.map((figure) => figure.sectionDecodes))
  if (verdicts.size !== 1 || decodes.size !== 1) throw new Error(`${name}: runs differ: ${[...verdicts].join(' | ')}; decodes ${[...decodes].join(', ')}`)
  return {
    sectionDecodesPerRun: figures[0]?.sectionDecodes ?? 0,
    decodeMsMedian: round1(median(figures.map((figure) => figure.decodeMs))),
    queryModelMsMedian: round1(median(figures.map((figure) => figure.queryModelMs))),
    wallMsMedian: round1(median(figures.map((figure) => figure.wallMs))),
    verdicts: [...verdicts][0] as string,
  }
}

function once(dir: string): RunFigures {
  const decodes = { count: 0, elapsedMs: 0 }
  const onSectionDecoded = (elapsedMs: number): void => {
    decodes.count++
    decodes.elapsedMs += elapsedMs
  }
  const started = performance.now()
  const report = replayVerify(dir, { from: 'auto', onSectionDecoded })
  const wallMs = performance.now() - started
  if (!report.ok) throw new Error(`replay-verify found differences: ${JSON.stringify(report.problems)} ${JSON.stringify(report.queryModel?.checks)}`)
  return {
    sectionDecodes: decodes.count,
    decodeMs: decodes.elapsedMs,
    queryModelMs: report.queryModel?.elapsedMs ?? 0,
    wallMs,
    verdicts: verdictsOf(report),
  }
}

/** What the run concluded, without times or file names (those differ between copies and builds). */
function verdictsOf(report: ReplayVerifyReport): string {
  const snapshots = report.snapshots.map((check) => `${check.lsn}:${check.status}`)
  const query = report.queryModel?.checks.map((check) => `${check.source.startsWith('snapshot-') ? 'section' : check.source}@${check.lsn}:${check.status}:${check.expectedDigest?.slice(0, 12)}`) ?? []
  return `base ${report.base.kind}@${report.base.lsn} qm-base ${report.queryModel?.base.kind}@${report.queryModel?.base.lsn} snapshots ${snapshots.join(',')} query ${query.join(',')}`
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

function round1(value: number): number {
  return Math.round(value * 10) / 10
}
