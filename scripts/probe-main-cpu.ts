/**
 * probe:main-cpu — the event loop's CPU per order: the thread bench:http's maximum is bound by (serve's main thread
 * runs intake, the kernel, the executor, the sim venue and the back office's live ledger). bench:http's own figures
 * move by ±20 % with the shared machine's other work; an A/B of a change worth a few percent needs a quieter measure.
 *
 * Each run is a child process holding serve's gateway and HTTP app in-process (paper mode, sim venue, fsync log, the
 * bench's accounts and IOC orders; scripts/support/in-process-serve.ts), driven through `app.fetch` without sockets,
 * 64 requests outstanding. After `--warmup` orders it places `--orders` more per round, waits for the lanes to drain,
 * and reads its main thread's CPU time (user + system, /proc/self/task/<pid>/stat) and the whole process's: µs per
 * order. The main-thread figure includes the in-process load generator's share (building each Request), the same
 * for both sides of an A/B.
 *
 * With `--base DIR` (a checkout of the baseline, e.g. `git worktree add DIR REV`, with node_modules), each pair runs
 * the baseline and this checkout back to back, alternating which goes first; the ratio is this checkout's median
 * over the baseline's, and the median of the pairs' ratios is given too. The last line is JSON.
 *
 * `bun scripts/probe-main-cpu.ts [--base DIR] [--pairs 3] [--rounds 5] [--orders 20000] [--warmup 10000]`
 */

import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { cpuMsOf, lanesDrained, median } from './support/figures.ts'

const CONCURRENCY = 64
/** How long one round may take before the probe gives up (a stuck gateway must not hang it). */
const WAIT_MS_MAX = 120_000

interface RunFigures {
  /** Median over the rounds of the main thread's CPU per order. */
  mainUsPerOrder: number
  /** Median over the rounds of the whole process's CPU per order (the log's sync threads, the replay worker, the collector). */
  processUsPerOrder: number
  mainUsPerOrderRounds: number[]
}

const round = (value: number, places = 1): number => Math.round(value * 10 ** places) / 10 ** places

/** One run, in this process, of the gateway found under `root`. */
async function child(root: string, options: { rounds: number; orders: number; warmup: number }): Promise<RunFigures> {
  const { placeBenchOrders, startInProcessServe } = (await import(join(root, 'scripts/support/in-process-serve.ts'))) as typeof import('./support/in-process-serve.ts')
  const { benchToken } = (await import(join(root, 'scripts/support/bench-load.ts'))) as typeof import('./support/bench-load.ts')
  const serve = await startInProcessServe('probe-main-cpu')
  try {
    const token = await benchToken()
    let next = 0
    const place = async (count: number): Promise<void> => {
      next = await placeBenchOrders(serve, { firstIndex: next, count, concurrency: CONCURRENCY, token, keyPrefix: 'm', deadlineMs: performance.now() + WAIT_MS_MAX })
    }
    await place(options.warmup)
    await Bun.sleep(500)
    const mainRounds: number[] = []
    const processRounds: number[] = []
    for (let index = 0; index < options.rounds; index++) {
      const process0 = process.cpuUsage()
      const main0 = cpuMsOf(process.pid, process.pid)
      await place(options.orders)
      await lanesDrained(serve.http.app, WAIT_MS_MAX)
      const used = process.cpuUsage(process0)
      mainRounds.push(((cpuMsOf(process.pid, process.pid) - main0) * 1000) / options.orders)
      processRounds.push((used.user + used.system) / options.orders)
    }
    return { mainUsPerOrder: median(mainRounds), processUsPerOrder: median(processRounds), mainUsPerOrderRounds: mainRounds.map((value) => round(value)) }
  } finally {
    await serve.close()
  }
}

async function runChild(root: string, options: { rounds: number; orders: number; warmup: number }): Promise<RunFigures> {
  const args = ['--child', root, '--rounds', String(options.rounds), '--orders', String(options.orders), '--warmup', String(options.warmup)]
  const run = Bun.spawn([process.execPath, import.meta.path, ...args], { stdout: 'pipe', stderr: 'inherit' })
  const output = await new Response(run.stdout).text()
  if ((await run.exited) !== 0) throw new Error(`the run of ${root} exited with ${run.exitCode}`)
  return JSON.parse(output.trim().split('\n').at(-1) ?? '') as RunFigures
}

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    base: { type: 'string' },
    pairs: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    orders: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '10000' },
  },
})
const sizes = { rounds: Number(values.rounds), orders: Number(values.orders), warmup: Number(values.warmup) }
for (const [name, value] of Object.entries({ ...sizes, pairs: Number(values.pairs) })) {
  if (!(Number.isSafeInteger(value) && value >= 1)) throw new RangeError(`--${name} must be a positive integer, got ${value}`)
}

if (values.child !== undefined) {
  process.stdout.write(`${JSON.stringify(await child(values.child, sizes))}\n`)
} else {
  const current = resolve(import.meta.dir, '..')
  const base = values.base === undefined ? null : resolve(values.base)
  const currentRuns: RunFigures[] = []
  const baseRuns: RunFigures[] = []
  const ratios: number[] = []
  for (let pair = 0; pair < Number(values.pairs); pair++) {
    // Alternate which side goes first, so a machine getting busier during the probe weighs on both alike.
    const order = pair % 2 === 0 ? ['base', 'current'] : ['current', 'base']
    for (const side of order) {
      if (side === 'base' && base === null) continue
      const figures = await runChild(side === 'base' ? (base as string) : current, sizes)
      ;(side === 'base' ? baseRuns : currentRuns).push(figures)
      process.stderr.write(`probe:main-cpu: pair ${pair + 1} ${side}: main thread ${round(figures.mainUsPerOrder)} µs/order [${figures.mainUsPerOrderRounds.join(' ')}], process ${round(figures.processUsPerOrder)} µs/order\n`)
    }
    if (base !== null) ratios.push((currentRuns.at(-1) as RunFigures).mainUsPerOrder / (baseRuns.at(-1) as RunFigures).mainUsPerOrder)
  }
  const summary = (runs: RunFigures[]) => ({
    mainUsPerOrder: round(median(runs.map((run) => run.mainUsPerOrder))),
    processUsPerOrder: round(median(runs.map((run) => run.processUsPerOrder))),
    mainUsPerOrderRuns: runs.map((run) => round(run.mainUsPerOrder)),
  })
  const result = {
    probe: 'main-cpu',
    ordersPerRound: sizes.orders,
    rounds: sizes.rounds,
    current: summary(currentRuns),
    ...(base === null
      ? {}
      : {
          base: summary(baseRuns),
          vsBase: round(median(currentRuns.map((run) => run.mainUsPerOrder)) / median(baseRuns.map((run) => run.mainUsPerOrder)), 3),
          pairRatios: ratios.map((ratio) => round(ratio, 3)),
          medianPairRatio: round(median(ratios), 3),
        }),
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
