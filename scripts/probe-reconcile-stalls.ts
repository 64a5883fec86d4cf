/**
 * probe:reconcile — how long the reconcile's venue checks hold the event loop, cut into slices (as serve runs them)
 * against the same checks in one stretch per account and check (the baseline: how they ran before
 * src/runtime/work-slices.ts), over the same held orders in the same process.
 *
 * serve's gateway and HTTP app run in-process (paper mode, sim venue, fsync log, bench:http's accounts and IOC
 * orders), driven through `app.fetch`; the timed reconcile is off. After `--orders` orders (all held: the ledger keeps
 * ended orders an hour), it runs `reconcileVenue` `--runs` times in each mode, alternating. A 1 ms interval timer
 * measures the loop meanwhile: a stall is how late it fired, i.e. how long the loop was held (timer jitter puts the
 * idle floor at 1–4 ms, and a young-generation collection can add a few ms in either mode). Per mode: medians of the
 * run's wall time, its CPU time, its longest stall and its stalls over 5 ms. The last line is JSON.
 *
 * `--later-ms N` runs the checks as of N ms after the orders (their clock only): with N beyond the sim venue's trade
 * history (5 minutes) every ended order is outside the trades check's window, as with steady traffic, where the
 * ledger holds an hour of ended orders and the venue five minutes of trades. The checks then cost in proportion to
 * what the venue can still tell (held-order-index.ts), not to the orders held.
 *
 * `bun scripts/probe-reconcile-stalls.ts [--orders 40000] [--runs 3] [--later-ms 0]`
 */

import { parseArgs } from 'node:util'
import { backOfficeOf } from '../src/backoffice/backoffice-of.ts'
import { reconcileVenue } from '../src/backoffice/index.ts'
import { backOfficePause } from '../src/backoffice/loop-pace.ts'
import { unslicedWork, WORK_SLICE_DEFAULTS, WorkSlices } from '../src/runtime/work-slices.ts'
import { benchToken } from './support/bench-load.ts'
import { placeBenchOrders, startInProcessServe } from './support/in-process-serve.ts'

const CONCURRENCY = 64
const WAIT_MS_MAX = 300_000
const STALL_MS_REPORTED = 5

const { values: args } = parseArgs({ options: { orders: { type: 'string', default: '40000' }, runs: { type: 'string', default: '3' }, 'later-ms': { type: 'string', default: '0' } } })
const ORDERS = Number(args.orders)
const RUNS = Number(args.runs)
const LATER_MS = Number(args['later-ms'])
if (!Number.isSafeInteger(ORDERS) || ORDERS < 1 || !Number.isSafeInteger(RUNS) || RUNS < 1) throw new Error('--orders and --runs take positive integers')
if (!Number.isSafeInteger(LATER_MS) || LATER_MS < 0) throw new Error('--later-ms takes a whole number of milliseconds')

interface RunFigures {
  wallMs: number
  /** The process's CPU time over the run (all threads; the gateway is idle otherwise): the sim venue answers after a simulated latency, so the wall time also counts waiting. */
  cpuMs: number
  stallMaxMs: number
  stallsOver5Ms: number
}

const round = (value: number, places = 1): number => Math.round(value * 10 ** places) / 10 ** places
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

/** Runs `work` under a 1 ms interval timer; the stalls are how late it fired. */
async function timedForStalls(work: () => Promise<unknown>): Promise<RunFigures> {
  const stalls: number[] = []
  let lastMs = performance.now()
  const monitor = setInterval(() => {
    const nowMs = performance.now()
    stalls.push(nowMs - lastMs - 1)
    lastMs = nowMs
  }, 1)
  await Bun.sleep(20)
  stalls.length = 0
  lastMs = performance.now()
  const startMs = performance.now()
  const cpuBefore = process.cpuUsage()
  await work()
  const wallMs = performance.now() - startMs
  const cpu = process.cpuUsage(cpuBefore)
  await Bun.sleep(5)
  clearInterval(monitor)
  return { wallMs: round(wallMs), cpuMs: round((cpu.user + cpu.system) / 1_000), stallMaxMs: round(Math.max(0, ...stalls)), stallsOver5Ms: stalls.filter((stall) => stall > STALL_MS_REPORTED).length }
}

async function main(): Promise<void> {
  const serve = await startInProcessServe('probe:reconcile', { backoffice: { reconcileIntervalMs: 86_400_000 } })
  const { served, clock } = serve
  const deadlineMs = performance.now() + WAIT_MS_MAX
  try {
    const token = await benchToken()
    await placeBenchOrders(serve, { token, firstIndex: 0, count: ORDERS, keyPrefix: 'r', concurrency: CONCURRENCY, deadlineMs })
    while (served.gateway.engine.pending > 0) {
      if (performance.now() > deadlineMs) throw new Error(`settling took longer than ${WAIT_MS_MAX} ms`)
      await Bun.sleep(5)
    }
    const office = backOfficeOf(served.gateway)
    await office.reconcile() // the replay and the query model catch up once, before anything is timed
    const fillReads = office.projector.fillReads()
    const source = { adapter: served.gateway.options.venues[0]!.adapter, balanceBasis: 'trading' as const }
    const nowMs = (): number => clock.nowMs() + LATER_MS
    const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
    const runs: Record<'sliced' | 'oneStretch', RunFigures[]> = { sliced: [], oneStretch: [] }
    for (let run = 0; run < RUNS; run++) {
      for (const mode of ['oneStretch', 'sliced'] as const) {
        const slices = mode === 'sliced' ? new WorkSlices({ sliceMs: WORK_SLICE_DEFAULTS.sliceMs, pause: backOfficePause() }) : unslicedWork()
        const figures = await timedForStalls(() => reconcileVenue(source, office.projector.ledger, fillReads, { nowMs, pause: yieldTurn, slices }))
        runs[mode].push(figures)
        console.log(`${mode} run ${run + 1}: ${figures.wallMs} ms (${figures.cpuMs} ms CPU), longest stall ${figures.stallMaxMs} ms, ${figures.stallsOver5Ms} stalls over ${STALL_MS_REPORTED} ms`)
      }
    }
    const summary = (figures: RunFigures[]): RunFigures => ({
      wallMs: median(figures.map((run) => run.wallMs)),
      cpuMs: median(figures.map((run) => run.cpuMs)),
      stallMaxMs: median(figures.map((run) => run.stallMaxMs)),
      stallsOver5Ms: median(figures.map((run) => run.stallsOver5Ms)),
    })
    const sliced = summary(runs.sliced)
    const oneStretch = summary(runs.oneStretch)
    console.log(JSON.stringify({
      probe: 'reconcile',
      orders: ORDERS,
      laterMs: LATER_MS,
      heldOrders: office.projector.ledger.orders.size,
      accounts: office.projector.ledger.venueAccounts.get(source.adapter.venue)?.size ?? 0,
      runs: RUNS,
      sliced,
      oneStretch,
      stallMaxRatio: round(sliced.stallMaxMs / oneStretch.stallMaxMs, 2),
    }))
  } finally {
    await serve.close()
  }
}

await main()
process.exit(0)
