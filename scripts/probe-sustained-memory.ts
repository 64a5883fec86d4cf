/**
 * probe:sustained-memory — whether the JavaScript heap stays bounded under a sustained order flow once the kernel's cap
 * on ended orders held (`kernel.terminalOrdersHeldMax`, src/kernel/retention.ts) is reached, against the same flow
 * with the grace alone deciding (an hour: every order of the run stays). Memory sizing for operators and the check
 * behind the cap: without it a sustained rate of R orders/s holds R × 3,600 ended orders (~2 KB of heap each, all
 * structures: scripts/probe-heap-per-order.ts).
 *
 * Each run is a child process holding serve's gateway and HTTP app in-process (paper mode, sim venue, fsync log, the
 * bench's accounts and orders, scripts/support/in-process-serve.ts), driven through `app.fetch` without sockets. It
 * places `--orders` orders in `--checkpoints` equal steps; after each step it lets the executor and the back office
 * settle, collects, and reads the heap and the entries of each per-order structure. Two runs: `capped`
 * (terminalOrdersHeldMax `--cap`, the grace an hour) and `uncapped` (the shipped default cap, 1,000,000, not reached).
 *
 * What is not bounded by the cap, and shows as the capped run's remaining slope: the kernel's idempotency index (one
 * entry per order ever placed, ~0.23 KB: a repeat of a key is answered as a repeat for good, README "Bounded hot
 * state"), the HTTP log index (positions of every record in the retained log, ~0.12 KB per order: bounded by
 * compaction, which the probe leaves off as serve does by default), and the sim venue's own book (ended orders a minute,
 * at most its ordersMax: a venue, not egress; the run is shorter than that minute). The last line is JSON: per run the
 * heap and entries at each checkpoint and the slope once both caps are reached (KB per order placed from the first
 * checkpoint at or past cap + the back office's HELD_MARGIN_ORDERS), and the uncapped slope over the capped.
 *
 * `bun scripts/probe-sustained-memory.ts [--orders 60000] [--cap 10000] [--checkpoints 6]`
 */

import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { heapStats } from 'bun:jsc'
import { backOfficeOf } from '../src/backoffice/backoffice-of.ts'
import { HELD_MARGIN_ORDERS } from '../src/backoffice/retention.ts'
import { benchToken } from './support/bench-load.ts'
import { placeBenchOrders, startInProcessServe } from './support/in-process-serve.ts'

const CONCURRENCY = 64
/** How long placing or settling may take before the probe gives up (a stuck gateway must not hang it). */
const WAIT_MS_MAX = 300_000
const RUN_NAMES = ['capped', 'uncapped'] as const
type RunName = (typeof RUN_NAMES)[number]

interface Checkpoint {
  orders: number
  heapMb: number
  kernelEndedHeld: number
  ledgerOrdersHeld: number
  idempotencyEntries: number
  logIndexOrders: number
  simOrdersHeld: number
}

interface RunFigures {
  run: RunName
  cap: number | null
  checkpoints: Checkpoint[]
  /**
   * KB of heap per order placed from the first checkpoint at which every structure the cap bounds had reached its bound
   * (the kernel's cap, the back office's cap plus HELD_MARGIN_ORDERS) to the last: the same orders for both runs.
   */
  kbPerOrderAfterCap: number
}

const round = (value: number, places = 2): number => Math.round(value * 10 ** places) / 10 ** places

async function collectedHeapBytes(): Promise<number> {
  await Bun.sleep(200)
  Bun.gc(true)
  return heapStats().heapSize
}

async function child(name: RunName, orders: number, cap: number, checkpoints: number): Promise<RunFigures> {
  const overrides = name === 'capped' ? { kernel: { terminalOrdersHeldMax: cap } } : {}
  const serve = await startInProcessServe('probe:sustained-memory', overrides)
  const { served, http } = serve
  const token = await benchToken()
  const deadlineMs = performance.now() + WAIT_MS_MAX
  const office = backOfficeOf(served.gateway)
  const state = served.gateway.engine.state
  const readings: Checkpoint[] = []
  let sequence = 0
  try {
    for (const through of checkpointOrders(orders, checkpoints)) {
      sequence = await placeBenchOrders(serve, { token, firstIndex: sequence, count: through - sequence, keyPrefix: 's', concurrency: CONCURRENCY, deadlineMs })
      while (served.gateway.engine.pending > 0 || served.gateway.executor['busy'].size > 0) {
        if (performance.now() > deadlineMs) throw new Error(`probe:sustained-memory: settling took longer than ${WAIT_MS_MAX} ms`)
        await Bun.sleep(5)
      }
      // The back office writes SQLite on a timer and its replay worker follows the log: let both catch up.
      await office.reconcile()
      const heapBytes = await collectedHeapBytes()
      readings.push({
        orders: sequence,
        heapMb: round(heapBytes / 1024 / 1024, 1),
        kernelEndedHeld: state.terminalOrderIds.size,
        ledgerOrdersHeld: office.projector.ledger.orders.size,
        idempotencyEntries: state.idempotency.size,
        logIndexOrders: http.services.logIndex['positions'].records.size,
        // Read after the heap: the view is a copy of every order the sim holds.
        simOrdersHeld: served.venue.inspect().orders.length,
      })
      console.error(`probe:sustained-memory: ${name}: ${JSON.stringify(readings.at(-1))}`)
    }
    // The slope from the first checkpoint at which both caps were reached (the capped run's; the same orders for both;
    // main makes sure it is not the last).
    const fromIndex = readings.findIndex((reading) => reading.orders >= cap + HELD_MARGIN_ORDERS)
    const from = readings[fromIndex] as Checkpoint
    const to = readings.at(-1) as Checkpoint
    const kbPerOrderAfterCap = to.orders === from.orders ? 0 : round(((to.heapMb - from.heapMb) * 1024) / (to.orders - from.orders), 3)
    return { run: name, cap: name === 'capped' ? cap : null, checkpoints: readings, kbPerOrderAfterCap }
  } finally {
    await serve.close()
  }
}

/** The orders placed at each checkpoint: `orders` in `checkpoints` steps of equal size (the last may be shorter). */
function checkpointOrders(orders: number, checkpoints: number): number[] {
  const step = Math.ceil(orders / checkpoints)
  const counts: number[] = []
  for (let placed = 0; placed < orders; ) {
    placed += Math.min(step, orders - placed)
    counts.push(placed)
  }
  return counts
}

function positiveInteger(text: string, name: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`--${name} must be a positive integer, got ${text}`)
  return value
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { orders: { type: 'string', default: '60000' }, cap: { type: 'string', default: '10000' }, checkpoints: { type: 'string', default: '6' }, child: { type: 'string' } } })
  const orders = positiveInteger(values.orders, 'orders')
  const cap = positiveInteger(values.cap, 'cap')
  const checkpoints = positiveInteger(values.checkpoints, 'checkpoints')
  if (cap < 10_000 || cap + HELD_MARGIN_ORDERS >= orders) throw new RangeError(`--cap must be at least 10000 (terminalOrdersKeptMax), and --orders above it plus ${HELD_MARGIN_ORDERS} (the back office's margin), got ${cap}`)
  // The slope is read between the first checkpoint past both caps and the last: with one only it would be 0 KB per order.
  const pastCaps = checkpointOrders(orders, checkpoints).filter((count) => count >= cap + HELD_MARGIN_ORDERS).length
  if (pastCaps < 2) throw new RangeError(`--checkpoints: at least two must fall at or past --cap plus ${HELD_MARGIN_ORDERS} (${cap + HELD_MARGIN_ORDERS} orders) to read a slope; ${checkpoints} over ${orders} orders leave ${pastCaps}`)
  if (values.child !== undefined) {
    if (!(RUN_NAMES as readonly string[]).includes(values.child)) throw new RangeError(`--child must be one of ${RUN_NAMES.join(', ')}`)
    console.log(JSON.stringify(await child(values.child as RunName, orders, cap, checkpoints)))
    process.exit(0)
  }
  const figures: Partial<Record<RunName, RunFigures>> = {}
  for (const name of RUN_NAMES) {
    const args = ['--child', name, '--orders', String(orders), '--cap', String(cap), '--checkpoints', String(checkpoints)]
    const proc = Bun.spawn([process.execPath, resolve(import.meta.path), ...args], { stdout: 'pipe', stderr: 'inherit' })
    const output = await new Response(proc.stdout).text()
    if ((await proc.exited) !== 0) throw new Error(`the ${name} run failed`)
    const run = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as RunFigures
    figures[name] = run
    console.error(`probe:sustained-memory: ${name}: ${run.kbPerOrderAfterCap} KB of heap per order once past ${cap + HELD_MARGIN_ORDERS} orders`)
  }
  const capped = figures.capped
  const uncapped = figures.uncapped
  const last = (run: RunFigures | undefined): Checkpoint | undefined => run?.checkpoints.at(-1)
  console.log(JSON.stringify({
    probe: 'sustained-memory',
    orders,
    cap,
    kbPerOrderAfterCapCapped: capped?.kbPerOrderAfterCap ?? Number.NaN,
    kbPerOrderAfterCapUncapped: uncapped?.kbPerOrderAfterCap ?? Number.NaN,
    uncappedOverCapped: round((uncapped?.kbPerOrderAfterCap ?? Number.NaN) / (capped?.kbPerOrderAfterCap ?? Number.NaN)),
    heapMbEndCapped: last(capped)?.heapMb ?? Number.NaN,
    heapMbEndUncapped: last(uncapped)?.heapMb ?? Number.NaN,
    kernelEndedHeldEndCapped: last(capped)?.kernelEndedHeld ?? Number.NaN,
    kernelEndedHeldEndUncapped: last(uncapped)?.kernelEndedHeld ?? Number.NaN,
    ledgerOrdersHeldEndCapped: last(capped)?.ledgerOrdersHeld ?? Number.NaN,
    ledgerOrdersHeldEndUncapped: last(uncapped)?.ledgerOrdersHeld ?? Number.NaN,
    runs: figures,
  }))
}

await main()
