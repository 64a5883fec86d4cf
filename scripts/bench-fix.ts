/**
 * bench:fix — egress's FIX adapter against the QuickFIX/C++ executor (Debian libquickfix-doc), on loopback.
 *
 * The adapter runs as `egress serve` runs it: `FixVenue` with its sequence numbers in a real write-ahead log
 * (LogFixSessionStore through the engine, fsync durability by default), so every outgoing message waits for a durable
 * `fix.seq_nums` record (coalesced: one record covers a burst). The same phases run again with the in-memory store,
 * to show what the log costs.
 *
 * 1. latency: `--latency-orders` limit orders one at a time; round trip = from `place()` (NewOrderSingle built) to the
 *    fill ExecutionReport reaching the adapter's report handler. p50/p99/max.
 * 2. throughput: `--orders` orders with `--concurrency` in flight; orders/s = fills received per second.
 *
 *   bun scripts/bench-fix.ts [--orders 10000] [--concurrency 64] [--latency-orders 2000] [--durability fsync|none] [--dir D]
 *
 * Needs libquickfix17 and libquickfix-doc. Progress on stderr; the last stdout line is one JSON object.
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Wal } from '../wal/index.ts'
import { WallClock } from '../src/runtime/clock.ts'
import { Engine } from '../src/runtime/engine.ts'
import type { ExecutionReport, PlaceRequest } from '../src/venues/adapter.ts'
import { FixVenue, LogFixSessionStore, MemoryFixSessionStore, type FixSessionStore } from '../src/venues/fix/index.ts'
import { executorMissing, QuickFixExecutor } from '../specs/venues/fix/quickfix-executor.ts'

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '64' },
    'latency-orders': { type: 'string', default: '2000' },
    durability: { type: 'string', default: 'fsync' },
    dir: { type: 'string' },
  },
})
const ORDERS = positive('orders', values.orders)
const CONCURRENCY = positive('concurrency', values.concurrency)
const LATENCY_ORDERS = positive('latency-orders', values['latency-orders'])
const DURABILITY = values.durability === 'none' ? 'none' : 'fsync'
/** Where the log lives; /tmp is often tmpfs, where fsync costs nothing — pass a disk-backed directory to see it. */
const DIR = values.dir ?? tmpdir()
const FILL_TIMEOUT_MS = 30_000
/** One session per store kind, so the second run starts at 1 like the first (the executor keeps its numbers). */
const SESSIONS = {
  log: { beginString: 'FIX.4.4', compId: 'EXECBENCH', peerCompId: 'EGRESSBENCHLOG' },
  memory: { beginString: 'FIX.4.4', compId: 'EXECBENCH', peerCompId: 'EGRESSBENCHMEM' },
} as const

const say = (message: string): void => void process.stderr.write(`bench:fix: ${message}\n`)

function positive(name: string, text: string | undefined): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`--${name} must be an integer ≥ 1, got ${JSON.stringify(text)}`)
  return value
}

interface Run {
  store: 'log' | 'memory'
  latency: { orders: number; p50Ms: number; p99Ms: number; maxMs: number }
  throughput: { orders: number; concurrency: number; elapsedMs: number; ordersPerSec: number }
  seqNumRecords: number
}

/** One adapter wired to the executor; fills resolve the waiter registered under their ClOrdID. */
class Harness {
  readonly venue: FixVenue
  readonly #waiters = new Map<string, () => void>()
  #sequence = 0

  constructor(port: number, store: FixSessionStore, readonly prefix: string, session: (typeof SESSIONS)[keyof typeof SESSIONS]) {
    this.venue = new FixVenue({
      venue: 'quickfix',
      requestTimeoutMs: FILL_TIMEOUT_MS,
      session: {
        beginString: session.beginString, senderCompId: session.peerCompId, targetCompId: session.compId, host: '127.0.0.1', port,
        store, clock: new WallClock(), heartbeatIntervalSeconds: 30, resetOnLogon: 'never', reconnectDelayMsMin: 100, reconnectDelayMsMax: 1_000,
        // A bench this size sends far more than a trading day's worth quickly; the executor keeps up, so 64 MiB is ample.
        writeBufferBytesMax: 64 * 1024 * 1024,
        log: (record) => {
          if (process.env.BENCH_FIX_DEBUG === '1' || record.level === 'warn' || record.level === 'error') say(`${record.event}: ${record.message}`)
        },
      },
    })
    this.venue.onReport((report: ExecutionReport) => {
      if (report.kind !== 'fill') return
      const done = this.#waiters.get(report.clientOrderId)
      this.#waiters.delete(report.clientOrderId)
      done?.()
    })
  }

  /** Places one order; resolves with the milliseconds from place() to its fill report. */
  async roundTrip(): Promise<number> {
    const clientOrderId = `${this.prefix}-${++this.#sequence}`
    const started = performance.now()
    const filled = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no fill for ${clientOrderId} within ${FILL_TIMEOUT_MS} ms`)), FILL_TIMEOUT_MS)
      this.#waiters.set(clientOrderId, () => {
        clearTimeout(timer)
        resolve()
      })
    })
    const outcome = await this.venue.place(order(clientOrderId))
    if (outcome.kind !== 'ok') throw new Error(`place ${clientOrderId}: ${outcome.kind} ${'reason' in outcome ? outcome.reason : ''}`)
    await filled
    return performance.now() - started
  }
}

function order(clientOrderId: string): PlaceRequest {
  return {
    clientOrderId, account: 'BENCH', symbol: 'IBM', side: 'buy', type: 'limit', qty: 100_00000000n, price: 123_45000000n,
    tif: 'DAY', postOnly: false, reduceOnly: false,
  }
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return round(sorted[index] ?? Number.NaN)
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

async function runWith(storeKind: 'log' | 'memory', port: number): Promise<Run> {
  const dir = mkdtempSync(join(DIR, 'egress-bench-fix-'))
  const wal = Wal.open(join(dir, 'log'), { durability: DURABILITY })
  try {
    const engine = Engine.replay(wal)
    const store: FixSessionStore = storeKind === 'memory'
      ? new MemoryFixSessionStore()
      : new LogFixSessionStore({
        venue: 'quickfix',
        log: {
          append: (records) => engine.appendRecords(records),
          read: (fromLsn, toLsn) => wal.read(fromLsn, { toLsn }),
          bounds: () => ({ firstLsn: wal.firstLsn, lastLsn: wal.lastLsn }),
        },
      })
    const harness = new Harness(port, store, `${storeKind}-${Date.now()}`, SESSIONS[storeKind])
    harness.venue.start()
    if (!(await harness.venue.whenActive(10_000))) throw new Error('the session did not log on within 10 s')
    for (let i = 0; i < 200; i++) await harness.roundTrip() // warm-up: JIT, socket buffers, the executor's store files

    say(`${storeKind} store: latency, ${LATENCY_ORDERS} orders one at a time`)
    const samples: number[] = []
    for (let i = 0; i < LATENCY_ORDERS; i++) samples.push(await harness.roundTrip())
    samples.sort((a, b) => a - b)

    say(`${storeKind} store: throughput, ${ORDERS} orders, ${CONCURRENCY} in flight`)
    let issued = 0
    const started = performance.now()
    const worker = async (): Promise<void> => {
      while (issued < ORDERS) {
        issued++
        await harness.roundTrip()
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()))
    const elapsedMs = performance.now() - started
    await harness.venue.stop()
    await engine.settled()
    const seqNumRecords = storeKind === 'log' ? wal.lastLsn : 0
    return {
      store: storeKind,
      latency: { orders: LATENCY_ORDERS, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: round(samples.at(-1) ?? Number.NaN) },
      throughput: { orders: ORDERS, concurrency: CONCURRENCY, elapsedMs: Math.round(elapsedMs), ordersPerSec: Math.round((ORDERS / elapsedMs) * 1000) },
      seqNumRecords,
    }
  } finally {
    await wal.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const missing = executorMissing()
  if (missing !== null) throw new Error(`the QuickFIX executor cannot run here: ${missing}`)
  const executor = new QuickFixExecutor()
  try {
    await executor.start([SESSIONS.log, SESSIONS.memory])
    say(`executor on 127.0.0.1:${executor.port}; log in ${DIR}, durability ${DURABILITY}`)
    const log = await runWith('log', executor.port)
    say(`log store: p50 ${log.latency.p50Ms} ms, p99 ${log.latency.p99Ms} ms, ${log.throughput.ordersPerSec} orders/s`)
    const memory = await runWith('memory', executor.port)
    say(`memory store: p50 ${memory.latency.p50Ms} ms, p99 ${memory.latency.p99Ms} ms, ${memory.throughput.ordersPerSec} orders/s`)
    const summary = {
      bench: 'fix',
      counterpart: 'quickfix-executor (libquickfix-doc), loopback',
      beginString: SESSIONS.log.beginString,
      durability: DURABILITY,
      logDir: DIR,
      ordersPerSec: log.throughput.ordersPerSec,
      roundTripP50Ms: log.latency.p50Ms,
      roundTripP99Ms: log.latency.p99Ms,
      log,
      memory,
      ratios: {
        throughputLogOverMemory: round(log.throughput.ordersPerSec / memory.throughput.ordersPerSec),
        p50LogOverMemory: round(log.latency.p50Ms / memory.latency.p50Ms),
        p99LogOverMemory: round(log.latency.p99Ms / memory.latency.p99Ms),
      },
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`)
  } finally {
    await executor.dispose()
  }
}

await main()
