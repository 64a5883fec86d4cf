/**
 * probe:alloc — what one order allocates on serve's main heap, counted rather than timed. Every object an order
 * allocates is work for JavaScriptCore's collector (its helper threads, and pauses of the event loop that stretch
 * bench:http's latency tail); CPU-time probes move by ±10 % with the shared machine, these counts do not.
 *
 * Each side runs in a child process with the collector off (BUN_JSC_useGC=0, so nothing allocated is freed) and is
 * driven in-process through `app.fetch`, 64 requests outstanding:
 * - egress: serve's gateway and HTTP app (paper mode, sim venue, fsync log, the bench's accounts and IOC orders;
 *   scripts/support/in-process-serve.ts). After `--warmup` orders and the lanes drained, it places `--orders` more,
 *   waits until the lanes drain again (every order accepted, sent and ended by the venue) and counts.
 * - echo: bench:http's echo app (scripts/support/echo-app.ts) with the same requests: the floor the load generator
 *   (building each Request, reading each Response) and Hono set, included in egress's figures too.
 * The figures are the heap's object counts by type (bun:jsc heapStats) after minus before, per order, and the
 * process's resident growth per order (collector off: everything allocated stays, JS heap and native alike). A 429
 * (a lane full while the executor catches up) is sent again; its allocations count too, so the shed count is given.
 * The counts are not exact from run to run: what is allocated per log batch or per timer turn is shared by however
 * many orders the batch holds, so they move by a few percent (egress 709–749 objects per order over four runs of
 * one checkout on 2026-11-21); a change of ~5 % needs two runs each side to be sure of.
 *
 * With `--base DIR` (a checkout of the baseline with node_modules, e.g. from `git worktree add DIR REV`), egress is
 * also counted there, and the JSON gives the base's figures beside this checkout's. The last line is JSON.
 *
 * `bun scripts/probe-alloc.ts [--base DIR] [--orders 5000] [--warmup 3000] [--top 12]`
 */

import { heapStats } from 'bun:jsc'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { lanesDrained } from './support/figures.ts'

const CONCURRENCY = 64
/** How long placing or draining may take before the probe gives up (a stuck gateway must not hang it). */
const WAIT_MS_MAX = 120_000

interface SideFigures {
  /** All objects allocated per order (the sum over types). */
  objectsPerOrder: number
  /** Resident memory grown per order, KiB (the collector off: the JS heap and native allocations alike). */
  residentKibPerOrder: number
  /** 429 answers (sent again) per order: their requests' allocations are in the counts, so compare runs with few. */
  shedPerOrder: number
  /** Objects per order by type, largest first. */
  byType: Record<string, number>
}

const round = (value: number, places = 1): number => Math.round(value * 10 ** places) / 10 ** places

type Counts = Record<string, number>

function countsNow(): Counts {
  return { ...heapStats().objectTypeCounts }
}

function perOrder(before: Counts, after: Counts, residentBytes: number, { orders, shed }: { orders: number; shed: number }): SideFigures {
  const byType: [string, number][] = []
  let total = 0
  for (const [type, count] of Object.entries(after)) {
    const grown = count - (before[type] ?? 0)
    if (grown <= 0) continue
    total += grown
    byType.push([type, grown / orders])
  }
  byType.sort((a, b) => b[1] - a[1])
  return {
    objectsPerOrder: round(total / orders),
    residentKibPerOrder: round(residentBytes / 1024 / orders),
    shedPerOrder: round(shed / orders, 3),
    byType: Object.fromEntries(byType.map(([type, count]) => [type, round(count, 2)])),
  }
}

type App = { fetch: (request: Request) => Response | Promise<Response> }

/**
 * The bench's orders through `app`, `concurrency` outstanding, each until it is accepted (202): a 429 (a lane full
 * while the executor catches up) is sent again after a pause and counted, any other answer throws.
 */
async function place(app: App, body: (index: number) => string, token: string, range: { first: number; count: number }): Promise<{ next: number; shed: number }> {
  let next = range.first
  let shed = 0
  const end = range.first + range.count
  const deadline = performance.now() + WAIT_MS_MAX
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < end) {
        const index = next++
        const text = body(index)
        // With its Content-Length, as every request a real server hands over carries one (bench:http's included).
        const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': `a-${index}`, 'Content-Length': String(Buffer.byteLength(text)) }
        for (;;) {
          const response = await app.fetch(new Request('http://probe/v1/orders', { method: 'POST', headers, body: text }))
          await response.arrayBuffer()
          if (performance.now() > deadline) throw new Error('placing the orders took longer than the deadline')
          if (response.status === 202) break
          if (response.status !== 429) throw new Error(`POST /v1/orders answered ${response.status}`)
          shed++
          await Bun.sleep(1)
        }
      }
    }),
  )
  return { next: end, shed }
}

/** One side, in this process (started with the collector off). */
async function child(root: string, side: 'egress' | 'echo', options: { orders: number; warmup: number }): Promise<SideFigures> {
  const { benchOrderBody, benchToken } = (await import(join(root, 'scripts/support/bench-load.ts'))) as typeof import('./support/bench-load.ts')
  const token = await benchToken()
  if (side === 'echo') {
    const { echoApp } = (await import(join(root, 'scripts/support/echo-app.ts'))) as typeof import('./support/echo-app.ts')
    const app = echoApp()
    const { next } = await place(app, benchOrderBody, token, { first: 0, count: options.warmup })
    const before = countsNow()
    const resident = process.memoryUsage().rss
    const { shed } = await place(app, benchOrderBody, token, { first: next, count: options.orders })
    return perOrder(before, countsNow(), process.memoryUsage().rss - resident, { orders: options.orders, shed })
  }
  const { startInProcessServe } = (await import(join(root, 'scripts/support/in-process-serve.ts'))) as typeof import('./support/in-process-serve.ts')
  const serve = await startInProcessServe('probe-alloc')
  try {
    const app = serve.http.app
    const { next } = await place(app, benchOrderBody, token, { first: 0, count: options.warmup })
    await lanesDrained(app, WAIT_MS_MAX)
    const before = countsNow()
    const resident = process.memoryUsage().rss
    const { shed } = await place(app, benchOrderBody, token, { first: next, count: options.orders })
    await lanesDrained(app, WAIT_MS_MAX)
    return perOrder(before, countsNow(), process.memoryUsage().rss - resident, { orders: options.orders, shed })
  } finally {
    await serve.close()
  }
}

async function runChild(root: string, side: 'egress' | 'echo', options: { orders: number; warmup: number }): Promise<SideFigures> {
  const args = ['--child', root, '--side', side, '--orders', String(options.orders), '--warmup', String(options.warmup)]
  const run = Bun.spawn([process.execPath, import.meta.path, ...args], { stdout: 'pipe', stderr: 'inherit', env: { ...process.env, BUN_JSC_useGC: '0' } })
  const output = await new Response(run.stdout).text()
  if ((await run.exited) !== 0) throw new Error(`the ${side} run of ${root} exited with ${run.exitCode}`)
  return JSON.parse(output.trim().split('\n').at(-1) ?? '') as SideFigures
}

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    side: { type: 'string', default: 'egress' },
    base: { type: 'string' },
    orders: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '3000' },
    top: { type: 'string', default: '12' },
  },
})
const sizes = { orders: Number(values.orders), warmup: Number(values.warmup) }
const top = Number(values.top)
for (const [name, value] of Object.entries({ ...sizes, top })) {
  if (!(Number.isSafeInteger(value) && value >= 1)) throw new RangeError(`--${name} must be a positive integer, got ${value}`)
}
if (values.side !== 'egress' && values.side !== 'echo') throw new RangeError(`--side must be egress or echo, got ${values.side}`)

if (values.child !== undefined) {
  process.stdout.write(`${JSON.stringify(await child(values.child, values.side, sizes))}\n`)
} else {
  const current = resolve(import.meta.dir, '..')
  const base = values.base === undefined ? null : resolve(values.base)
  const topOf = (figures: SideFigures) => ({ ...figures, byType: Object.fromEntries(Object.entries(figures.byType).slice(0, top)) })
  const say = (label: string, figures: SideFigures): void => {
    const types = Object.entries(figures.byType).slice(0, top).map(([type, count]) => `${type} ${count}`).join(', ')
    process.stderr.write(`probe:alloc: ${label}: ${figures.objectsPerOrder} objects, ${figures.residentKibPerOrder} KiB resident per order, ${figures.shedPerOrder} shed (${types})\n`)
  }
  const echo = await runChild(current, 'echo', sizes)
  say('echo', echo)
  const egress = await runChild(current, 'egress', sizes)
  say('egress', egress)
  const baseline = base === null ? null : await runChild(base, 'egress', sizes)
  if (baseline !== null) say('egress at base', baseline)
  const result = {
    probe: 'alloc',
    orders: sizes.orders,
    egress: topOf(egress),
    echo: topOf(echo),
    vsEcho: round(egress.objectsPerOrder / echo.objectsPerOrder, 2),
    ...(baseline === null ? {} : { base: topOf(baseline), vsBase: round(egress.objectsPerOrder / baseline.objectsPerOrder, 3) }),
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
