/**
 * probe:heap — JavaScript heap a gateway keeps per order placed, and which structures keep it. Memory sizing for
 * operators (the hot state holds every order that ended within `terminalOrderRetireAfterMs`, an hour by default), and
 * the lever behind bench:http's p99: the collector's pauses and its concurrent cycles grow with this heap.
 *
 * Each run is a child process holding serve's gateway and HTTP app in-process (paper mode, sim venue, fsync log, the
 * bench's accounts and IOC orders), driven through `app.fetch` without sockets. It places `--warmup` orders, collects
 * and reads the heap, places `--orders` more, lets the executor and the back office settle, collects and reads again:
 * retained KB and objects per order. Then it empties, one at a time, the per-order structures of the kernel (ended
 * orders with their ended-order list, idempotency index), the back office (live ledger; the replay ledger is in its worker thread, not this heap) and the log
 * index, and the sim venue's held orders (the bench's config keeps ended ones a minute, up to 1,000,000: every order
 * of the run), collecting after each: how many entries each held and the KB freed per entry (with the default retention
 * each holds one entry per order placed, warm-up included; the kernel's ended orders by count alone only the newest
 * thousand). What one structure shares with one emptied before it (a client order id string, say) counts as the later
 * one's. The rest of the per-order figure is SSE/metrics and whatever else grew. JavaScript heap only: SQLite's page cache and other native memory come on top.
 *
 * Two runs in the same invocation: `default` (the shipped retention) and the baseline `countOnly`
 * (kernel.terminalOrderRetireAfterMs 0, terminalOrdersKeptMax 1000: ended orders leave the kernel by count alone, the
 * back office still keeps them its 60 s margin). The last line is JSON with both and their ratio.
 *
 * `bun scripts/probe-heap-per-order.ts [--orders 20000] [--warmup 2000]`
 */

import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { heapStats } from 'bun:jsc'
import { backOfficeOf } from '../src/backoffice/backoffice-of.ts'
import { benchToken } from './support/bench-load.ts'
import { placeBenchOrders, startInProcessServe } from './support/in-process-serve.ts'

const CONCURRENCY = 64
/** How long placing or settling may take before the probe gives up (a stuck gateway must not hang it). */
const WAIT_MS_MAX = 120_000
const RUNS = {
  default: {},
  countOnly: { kernel: { terminalOrderRetireAfterMs: 0, terminalOrdersKeptMax: 1000 } },
} as const
type RunName = keyof typeof RUNS

interface HeapReading {
  bytes: number
  objects: number
}

interface StructureFigures {
  entries: number
  kbPerEntry: number
  objectsPerEntry: number
}

interface RunFigures {
  run: RunName
  orders: number
  accepted: number
  retainedKbPerOrder: number
  retainedObjectsPerOrder: number
  /**
   * Each structure emptied, in order: the entries it held, and the KB and heap objects (cells: what a full collection
   * marks) freed per entry.
   */
  structures: Record<string, StructureFigures>
  topTypesPerOrder: Record<string, number>
}

const round = (value: number, places = 2): number => Math.round(value * 10 ** places) / 10 ** places

async function reading(): Promise<HeapReading & { types: Record<string, number> }> {
  await Bun.sleep(200)
  Bun.gc(true)
  const stats = heapStats()
  return { bytes: stats.heapSize, objects: stats.objectCount, types: stats.objectTypeCounts as Record<string, number> }
}

async function child(name: RunName, orders: number, warmup: number): Promise<RunFigures> {
  const serve = await startInProcessServe('probe:heap', RUNS[name])
  const { served, http } = serve
  const token = await benchToken()
  const deadlineMs = performance.now() + WAIT_MS_MAX
  const inTime = (what: string): void => {
    if (performance.now() > deadlineMs) throw new Error(`probe:heap: ${what} took longer than ${WAIT_MS_MAX} ms`)
  }
  let sequence = 0
  const placeMany = async (count: number): Promise<void> => {
    sequence = await placeBenchOrders(serve, { token, firstIndex: sequence, count, keyPrefix: 'p', concurrency: CONCURRENCY, deadlineMs })
    while (served.gateway.engine.pending > 0 || served.gateway.executor['busy'].size > 0) {
      inTime('settling the executor')
      await Bun.sleep(5)
    }
  }
  try {
    await placeMany(warmup)
    const before = await reading()
    await placeMany(orders)
    const office = backOfficeOf(served.gateway)
    // The back office writes SQLite on a timer and its replay worker follows the log: let both catch up before reading.
    await office.reconcile()
    const after = await reading()
    const structures: Record<string, StructureFigures> = {}
    let previous: HeapReading = after
    /** Empties a structure that held `entries` entries (`drop` returns how many) and notes what it freed per entry. */
    const empty = async (label: string, drop: () => number): Promise<void> => {
      const entries = drop()
      const now = await reading()
      structures[label] = {
        entries,
        kbPerEntry: entries === 0 ? 0 : round((previous.bytes - now.bytes) / entries / 1024),
        objectsPerEntry: entries === 0 ? 0 : round((previous.objects - now.objects) / entries, 1),
      }
      previous = now
    }
    const state = served.gateway.engine.state
    await empty('kernelEndedOrders', () => {
      let entries = 0
      for (const orderId of state.terminalOrderIds.keys()) if (state.orders.delete(orderId)) entries++
      state.terminalOrderIds.clear()
      return entries
    })
    await empty('kernelIdempotency', () => {
      const entries = state.idempotency.size
      state.idempotency.clear()
      return entries
    })
    await empty('backOfficeLedger', () => {
      const { ledger } = office.projector
      const entries = ledger.orders.size
      ledger.orders.clear()
      ledger.endedOrders.clear()
      return entries
    })
    await empty('logIndex', () => {
      const { records, laterDecisions } = http.services.logIndex['positions']
      const entries = records.size
      records.clear()
      laterDecisions.clear()
      return entries
    })
    await empty('simHeldOrders', () => served.venue.forgetEndedOrders())
    const retainedKb = (after.bytes - before.bytes) / orders / 1024
    const topTypesPerOrder = Object.fromEntries(
      Object.entries(after.types)
        .map(([type, count]) => [type, (count - (before.types[type] ?? 0)) / orders] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([type, perOrder]) => [type, round(perOrder, 1)]),
    )
    return {
      // placeBenchOrders retries LANE_FULL and throws on any other refusal: every order placed was accepted.
      run: name, orders, accepted: orders,
      retainedKbPerOrder: round(retainedKb),
      retainedObjectsPerOrder: round((after.objects - before.objects) / orders, 1),
      structures,
      topTypesPerOrder,
    }
  } finally {
    await serve.close()
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { orders: { type: 'string', default: '20000' }, warmup: { type: 'string', default: '2000' }, child: { type: 'string' } } })
  const orders = Number(values.orders)
  const warmup = Number(values.warmup)
  if (!Number.isSafeInteger(orders) || orders < 1 || !Number.isSafeInteger(warmup) || warmup < 0) throw new RangeError('--orders must be a positive integer and --warmup a non-negative one')
  if (values.child !== undefined) {
    if (!(values.child in RUNS)) throw new RangeError(`--child must be one of ${Object.keys(RUNS).join(', ')}`)
    console.log(JSON.stringify(await child(values.child as RunName, orders, warmup)))
    process.exit(0)
  }
  const figures: Partial<Record<RunName, RunFigures>> = {}
  for (const name of Object.keys(RUNS) as RunName[]) {
    const proc = Bun.spawn([process.execPath, resolve(import.meta.path), '--child', name, '--orders', String(orders), '--warmup', String(warmup)], { stdout: 'pipe', stderr: 'inherit' })
    const output = await new Response(proc.stdout).text()
    if ((await proc.exited) !== 0) throw new Error(`the ${name} run failed`)
    const run = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as RunFigures
    figures[name] = run
    console.error(`probe:heap: ${name}: ${run.retainedKbPerOrder} KB and ${run.retainedObjectsPerOrder} objects retained per order; by structure (entries, KB and objects each) ${Object.entries(run.structures).map(([name, { entries, kbPerEntry, objectsPerEntry }]) => `${name} ${entries} × ${kbPerEntry} KB ${objectsPerEntry} obj`).join(', ')}`)
  }
  const retainedDefault = figures.default?.retainedKbPerOrder ?? Number.NaN
  const retainedCountOnly = figures.countOnly?.retainedKbPerOrder ?? Number.NaN
  console.log(JSON.stringify({
    probe: 'heap-per-order',
    orders,
    kbPerOrderDefault: retainedDefault,
    kbPerOrderCountOnly: retainedCountOnly,
    countOnlyOverDefault: round(retainedCountOnly / retainedDefault),
    runs: figures,
  }))
}

await main()
