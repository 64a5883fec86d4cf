/**
 * Restart benchmark: how long until a gateway is ready, from genesis replay versus from a snapshot taken 1% before
 * the end of the log, plus replay-verify over the same log — measured in one run on the same data.
 *
 *   bun scripts/bench-restart.ts [--events N] [--batch B] [--keep-dir]
 *
 * Builds a log of ≥ N records (default 200,000) by trading on the sim venue through the real runtime (marketable
 * limit orders that fill: place → accepted → send_requested → venue ack → fill; durability none, so the build is
 * CPU-bound), takes a snapshot at 99% and writes the last 1%. Then, on copies of that directory:
 *   - engine restore (Wal.open — the whole chain verified from genesis, from the snapshot's LSN on when starting from
 *     it — then replay, or snapshot-load + tail replay), and
 *   - time to ready (Gateway.start: restore + bootstrap), each from genesis and from the snapshot, and from the
 *     snapshot on a copy compacted below it (the bounded restart the compaction policy maintains),
 *   - replay-verify from genesis (chain verified, the snapshot compared at its LSN).
 * Progress on stderr; the last line of stdout is one JSON object.
 */

import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventTypeForCode } from '../src/domain/events/index.ts'
import { stateDigest } from '../src/kernel/index.ts'
import { chainAnchorFor, compactOffline, replayVerify, restoreEngine, SnapshotStore } from '../src/runtime/snapshot/index.ts'
import { nodeIo, Wal } from '../wal/index.ts'
import { crashWorld, startWorld, type World } from '../specs/runtime/harness.ts'
import { tradeBatch } from './support/trade-batch.ts'
import { allowSelfTrade } from './support/self-trade-allowed.ts'

const args = parseArgs(process.argv.slice(2))
const log = (line: string): void => void process.stderr.write(`${line}\n`)
const WAL = { durability: 'none', segmentBytesMax: 64 << 20, preallocateBytes: 0 } as const

const root = mkdtempSync(join(tmpdir(), 'egress-bench-restart-'))
try {
  const built = await build(join(root, 'source'))
  restoreOn(copy(built.dir, 'warm-up'), false) // JIT warm-up: the first replay in a process is slower; not measured
  const genesis = restoreOn(copy(built.dir, 'genesis-engine'), false)
  const fromSnapshot = restoreOn(copy(built.dir, 'snapshot-engine'), true)
  if (genesis.digest !== fromSnapshot.digest) throw new Error(`restored states differ: genesis ${genesis.digest}, snapshot ${fromSnapshot.digest}`)
  const readyGenesis = await timeToReady(copy(built.dir, 'genesis-ready'), false)
  const readySnapshot = await timeToReady(copy(built.dir, 'snapshot-ready'), true)
  // The bounded case: the log compacted below the snapshot (what the compaction policy keeps it at), so opening the
  // log verifies only the retained segments.
  const compactedDir = copy(built.dir, 'compacted-ready')
  const compaction = await compactOffline(compactedDir, { mode: 'delete', archiveDir: null, keep: 2, dryRun: false })
  const readyCompacted = await timeToReady(compactedDir, true)
  log('replay-verify from genesis…')
  const verified = replayVerify(built.dir, { from: 'genesis' })
  if (!verified.ok) throw new Error(`replay-verify failed: ${JSON.stringify(verified.problems)} ${JSON.stringify(verified.snapshots)}`)
  const result = {
    bench: 'restart',
    events: built.events,
    orders: built.orders,
    logBytes: built.logBytes,
    snapshotLsn: built.snapshotLsn,
    snapshotBytes: built.snapshotBytes,
    snapshotPauseMs: round(built.pauseMs),
    snapshotBlockMsMax: round(built.blockMsMax),
    snapshotWriteMs: round(built.writeMs),
    fullReplayMs: round(readyGenesis.ms),
    snapshotRestartMs: round(readySnapshot.ms),
    speedup: round(readyGenesis.ms / readySnapshot.ms),
    compactedSnapshotRestartMs: round(readyCompacted.ms),
    compactedSpeedup: round(readyGenesis.ms / readyCompacted.ms),
    compactedFirstLsn: compaction.firstLsnAfter,
    replayEventsPerSec: Math.round(built.events / (genesis.replayMs / 1000)),
    engineRestore: {
      genesis: { walOpenMs: round(genesis.walOpenMs), replayMs: round(genesis.replayMs), totalMs: round(genesis.totalMs) },
      snapshot: { walOpenMs: round(fromSnapshot.walOpenMs), loadMs: round(fromSnapshot.loadMs), tailRecords: fromSnapshot.tailRecords, replayMs: round(fromSnapshot.replayMs), totalMs: round(fromSnapshot.totalMs) },
    },
    replayVerifyMs: round(verified.elapsedMs),
    replayVerifyRecordsPerSec: verified.replay.recordsPerSec,
    buildMs: round(built.buildMs),
    recordMix: built.recordMix,
  }
  console.log(JSON.stringify(result))
} finally {
  if (!args.keepDir) rmSync(root, { recursive: true, force: true })
  else log(`kept ${root}`)
}

interface Built {
  dir: string
  events: number
  orders: number
  logBytes: number
  snapshotLsn: number
  snapshotBytes: number
  pauseMs: number
  blockMsMax: number
  writeMs: number
  buildMs: number
  recordMix: Record<string, number>
}

async function build(dir: string): Promise<Built> {
  const started = performance.now()
  const world = await startWorld({
    seed: 7,
    dir,
    wal: WAL,
    // tradeBatch's buys and sells of one account cross each other: its accounts allow self-trades.
    configure: allowSelfTrade,
    // The sim venue bounds the orders it remembers (100,000 by default) and rejects past it; the build places one order
    // per ~7 records, so the bound is raised to fit them all (else most of a 2M log would be venue rejections).
    venueOptions: { latencyMsMin: 0, latencyMsMax: 1, ordersMax: Math.max(100_000, args.events) },
    // No retire grace: the build advances the sim clock 1 ms at a time only until each batch settles, so the log spans
    // seconds of event time, not hours, and the default grace (an hour) would keep every order; the bench measures the
    // bounded state, so it retires by count alone (terminalOrdersKeptMax).
    params: { lane1DepthMax: 100_000, lane2DepthMax: 100_000, accountQueuedMax: 100_000, terminalOrderRetireAfterMs: 0 },
    snapshots: { atShutdown: false, keep: 2 },
  })
  const snapshotAt = Math.floor(args.events * 0.99)
  let orders = 0
  let snapshot: Awaited<ReturnType<World['gateway']['snapshot']>> = null
  let reported = 0
  while (world.gateway.engine.wal.lastLsn < args.events) {
    // About 6 records per order: smaller batches near the snapshot point and the end, so both land close to target.
    const lsnNow = world.gateway.engine.wal.lastLsn
    const goal = snapshot === null ? snapshotAt : args.events
    const size = Math.max(1, Math.min(args.batch, Math.ceil((goal - lsnNow) / 8)))
    orders += await tradeBatch(world, orders, size, { clientOrderIdPrefix: 'b-' })
    const lsn = world.gateway.engine.wal.lastLsn
    if (snapshot === null && lsn >= snapshotAt) {
      snapshot = await world.gateway.snapshot()
      log(`snapshot at LSN ${snapshot?.lsn}: ${snapshot?.bytes} bytes, pause ${snapshot?.pauseMs.toFixed(1)} ms, longest block ${snapshot?.blockMsMax.toFixed(1)} ms, write ${snapshot?.writeMs.toFixed(1)} ms`)
    }
    if (lsn - reported >= 50_000) {
      reported = lsn
      log(`built ${lsn.toLocaleString('en-US')} records, ${orders.toLocaleString('en-US')} orders, ${Math.round(lsn / ((performance.now() - started) / 1000))} records/s`)
    }
  }
  if (snapshot === null) throw new Error('no snapshot was taken')
  await crashWorld(world)
  const logBytes = world.gateway.engine.wal.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0)
  const recordMix = mixOf(world.gateway.engine.wal)
  return {
    dir,
    events: world.gateway.engine.wal.lastLsn,
    orders,
    logBytes,
    snapshotLsn: snapshot.lsn,
    snapshotBytes: statSync(snapshot.path).size,
    pauseMs: snapshot.pauseMs,
    blockMsMax: snapshot.blockMsMax,
    writeMs: snapshot.writeMs,
    buildMs: performance.now() - started,
    recordMix,
  }
}

/** Records per type in the log (the share of each kind of order event the replay figures are about). */
function mixOf(wal: Wal): Record<string, number> {
  const counts = new Map<string, number>()
  for (const frame of wal.read(wal.firstLsn)) {
    const name = eventTypeForCode(frame.type) ?? `0x${frame.type.toString(16)}`
    counts.set(name, (counts.get(name) ?? 0) + 1)
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]))
}

function restoreOn(dir: string, load: boolean): { digest: string; walOpenMs: number; loadMs: number; replayMs: number; tailRecords: number; totalMs: number } {
  log(`engine restore ${load ? 'from the snapshot' : 'from genesis'}…`)
  settleHeap()
  const started = performance.now()
  const store = new SnapshotStore(join(dir, 'snapshots'), { io: nodeIo, keep: 2 })
  // As Gateway.start does: from a snapshot, the chain is verified from the snapshot's LSN on; from genesis, all of it.
  const wal = Wal.open(join(dir, 'log'), { ...WAL, chainAnchorLsn: chainAnchorFor(store, load) })
  const walOpenMs = performance.now() - started
  const restored = restoreEngine(wal, store, { load })
  const totalMs = performance.now() - started
  const digest = stateDigest(restored.engine.state)
  void wal.close()
  return { digest, walOpenMs, loadMs: restored.report.snapshot?.loadMs ?? 0, replayMs: restored.report.replayMs, tailRecords: restored.report.replayedRecords, totalMs }
}

async function timeToReady(dir: string, load: boolean): Promise<{ ms: number }> {
  log(`time to ready ${load ? 'from the snapshot' : 'from genesis'}…`)
  settleHeap()
  const started = performance.now()
  const world = await startWorld({ seed: 7, dir, wal: WAL, configure: allowSelfTrade, venueOptions: { latencyMsMin: 0, latencyMsMax: 1 }, snapshots: { load, atShutdown: false } })
  const ms = performance.now() - started
  if ((world.gateway.restoreReport?.snapshot !== null) !== load) throw new Error(`expected a start ${load ? 'from a snapshot' : 'from genesis'}`)
  await crashWorld(world)
  return { ms }
}

/**
 * A full collection before each timed phase: a restart starts with an empty heap, and this process still holds the
 * garbage of the build (hundreds of thousands of orders on the sim venue) and of the phase before.
 */
function settleHeap(): void {
  Bun.gc(true)
}

function copy(from: string, name: string): string {
  const to = join(root, name)
  cpSync(from, to, { recursive: true })
  return to
}

function round(value: number): number {
  return Math.round(value * 10) / 10
}

function parseArgs(argv: string[]): { events: number; batch: number; keepDir: boolean } {
  const parsed = { events: 200_000, batch: 600, keepDir: false }
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index]
    if (flag === '--keep-dir') parsed.keepDir = true
    else if (flag === '--events' || flag === '--batch') {
      const value = Number(argv[++index])
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${flag} needs a positive integer`)
      parsed[flag === '--events' ? 'events' : 'batch'] = value
    } else throw new RangeError(`unknown option ${String(flag)}; see the header of scripts/bench-restart.ts`)
  }
  return parsed
}
