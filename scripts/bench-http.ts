/**
 * bench:http — orders per second through `egress serve` (paper mode, sim venue, fsync durability on) against a Hono
 * app that parses the same JSON and answers 202, on loopback, with the same load generator in the same run.
 *
 * 0. warm-up: each server at full load for `BENCH_WARMUP_MS` (3 s) first, so both are measured warm (JIT settled).
 * 1. max: closed loop, `CONCURRENCY` requests outstanding, for `MAX_PHASE_MS`; orders/s = 202 answers per second.
 * 2. half load: open loop at half the measured maximum for `HALF_PHASE_MS`; latency is measured from each request's
 *    scheduled send time (so a stalled server cannot hide its queueing: no coordinated omission); p50/p99/p999. The
 *    same open loop then runs against the echo: `echoP99MsAtHalfLoad` is the load generator's own floor at that rate.
 *
 * Each phase runs `BENCH_ROUNDS` (3) times, echo and egress alternating, and the summary gives the median round: the
 * machine is shared, and one round's figure moves with whatever else ran then (the p99 of a 3 s window went from 9 to
 * 54 ms between two back-to-back runs at the same rate). `vsEcho` is the median of each round's own ratio, egress
 * against the echo measured right before it; the half-load rate is half the median maximum. Every round's figure is
 * in the JSON too (`…Rounds`), so a run with one bad round shows it.
 *
 * Orders are IOC limit buys below the market spread over several accounts and the three sim symbols, so each is
 * accepted, sent and ended by the venue within milliseconds and open-order limits do not fill up. Accepted orders
 * still need the executor: calls are pipelined per venue×symbol (up to callsPerInstrumentMax in flight, each with a
 * durable record before and after it); if it falls behind, Lane2 fills and new orders are shed with LANE_FULL (429),
 * which is the gateway doing its job. So the summary reports both `ordersPerSec` (202s per second) and
 * `decidedPerSec` (every durable answer, 202 or kernel reject, per second: the intake path's capacity), with the
 * status counts. Progress on stderr (with the group-commit figures: batches, records per batch, mean fsync); the last
 * stdout line is the JSON summary.
 *
 * Diagnostics: BENCH_CPU_PROF=DIR writes a CPU profile of the serve process (bun --cpu-prof) into DIR, sampled every
 * BENCH_CPU_PROF_INTERVAL_US (1000);
 * BENCH_SERVE_PRELOAD=FILE preloads FILE into serve (scripts/support/event-loop-lag.ts, or wal-sync-probe.ts: which
 * slow batch syncs were the disk and which the event loop held) and sends serve SIGUSR2 when the half-load phase starts. EGRESS_BACKOFFICE_RECONCILE_MS (passed through to serve) moves the back office's periodic
 * reconcile (every 10 s; its replay is incremental, in a worker thread; its venue checks yield between accounts).
 * BENCH_HALF_MS=8000 makes the half-load phase span that first reconcile (30000: the audit self-check at 30 s too).
 * BENCH_GC_LOG=1 runs serve with JavaScriptCore's collector log (BUN_JSC_logGC) and reports, for the half-load phase,
 * serve's collections on its main heap (cycles, summed pauses) and the share of the requests slower than 5 ms that
 * were in flight during one (scripts/support/gc-log.ts): how much of the tail is the collector's. Also how long cycles
 * ran (a cycle marks beside the mutator and takes ~40 % of the event loop in slices for its whole length, not only
 * its pauses), the full collections per round and the live heap the last one kept: a full cycle's length grows with
 * that heap (100–260 ms at 200–300 MB live), and whether a round holds one splits the rounds' p99 into good and bad.
 * BENCH_SLOW_TIMELINE=1 (with BENCH_GC_LOG=1) also prints, per half-load round, when its requests over 50 ms were sent
 * (from the round's start) and every collector cycle of any heap that overlaps that span: whether a bad round's tail
 * is a collection, and which.
 * BENCH_HALF_RATE=N runs the latency phase at N orders/s instead of half the measured maximum, so an A/B on a shared
 * machine compares latencies at the same load (the maximum moves with the machine's other work). The WAL's fdatasync
 * runs off the event loop. BENCH_CONFIG_JSON='{"kernel":{…}}' merges its top-level fields into serve's config (an
 * experiment with a setting; the figures of a run with it are not the benchmark's). BENCH_KEEP_DATA=1 keeps serve's data
 * directory (its log, for counting what an order writes) and prints its path.
 *
 * `jitCpuUsPerOrder` is the part of `cpuUsPerOrder` spent by serve's JIT compiler threads (JITWorker) in the max phases:
 * serve's tiers keep compiling for tens of thousands of orders (in-process, 61 µs per order over the 30,000 after a
 * 10,000-order warm-up, 4–15 µs over the next 90,000), so a high figure says the measured rounds were not yet warm;
 * BENCH_WARMUP_MS=20000 warms it longer.
 *
 * Where the half-load tail comes from: `mainBusyAtHalfLoad` is the share of the half-load phase serve's main thread (the
 * event loop every order goes through) spent on a CPU, and `mainCpuUsPerOrder` / `mainCpuUsPerOrderAtHalfLoad` its CPU
 * per order at max and at half load; `echoCpuUsPerRequestAtHalfLoad` against `echoCpuUsPerRequest` is the same for the
 * echo, the baseline: what the same request costs at the lower rate on this machine (on the shared VMs measured so
 * far, 2–4 times its cost at max for both: fewer requests per wake-up, colder caches). `stealShare` is the share of the
 * machine's CPU time the hypervisor took during the measured phases (/proc/stat).
 *
 * What the vsEcho target leaves: this process is the load generator, and its CPU per request while serve is measured
 * is `loadGenCpuUsPerRequest` (`loadGenBusyAtEchoMax`: its main thread's share of the echo's rounds; Bun's fetch does
 * its socket work on a thread of its own). At vsEcho 0.5, serve would answer half the echo's rate: its event loop (one
 * thread) then has `mainBudgetUsPerOrderAtTarget` µs per order, and the machine's cores, less the generator's share at
 * that rate, `cpuBudgetUsPerOrderAtTarget` µs in all — to set beside `mainCpuUsPerOrder` and `cpuUsPerOrder`, and
 * beside the floor's (below), which spends them on HTTP and the log alone. Other processes on the machine are not
 * counted, so the budget is an upper bound.
 *
 * BENCH_TARGET=floor measures, in serve's place, the durable echo (scripts/support/durable-echo-app.ts): the echo with
 * egress's log behind it (fsync; per order egress's 7 records, ~2 KB, in 5 appends, the first awaited before the
 * 202) and none of the gateway between them. Its figures (`"bench":"http-floor"`) bound what any design on this log
 * and this HTTP stack reaches on the machine at hand: the share of the targets that is the gateway's own work, and
 * the share that is not. BENCH_FLOOR_RECORDS='[[400],[100],[116,36,120,29,39]]' has the floor write other payload
 * sizes and appends per order (JSON: appends of payload sizes): what a smaller or less split log would leave room for.
 *
 * `bun scripts/bench-http.ts --echo PORT` runs the echo server, and `--durable-echo PORT DIR` the durable echo (used
 * internally, each in its own process like serve).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { benchServeConfig, benchToken } from './support/bench-load.ts'
import { fixedRate, maxRate, type Target } from './support/http-load.ts'
import { echoApp } from './support/echo-app.ts'
import { durableEchoApp, floorRecordsFrom } from './support/durable-echo-app.ts'
import { Wal } from '../wal/index.ts'
import { cpuMsOf, laneDepthOf, machineTicks, median, percentile, stealShareOf, threadsCpuMsOf } from './support/figures.ts'
import { GcLogReader, gcOverlap, isCollectorLine, slowTimeline, type GcOverlap } from './support/gc-log.ts'
import { readLines } from './support/stream-lines.ts'
import { freePort } from './support/loopback.ts'

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64)
const MAX_PHASE_MS = Number(process.env.BENCH_MAX_MS ?? 3_000)
const HALF_PHASE_MS = Number(process.env.BENCH_HALF_MS ?? 3_000)
// Each server gets this long at full load before anything is measured: egress's JIT tiers take a few seconds of load
// to settle (~1.5 s of compiler-thread CPU in a fresh process), and a gateway is measured as it runs, warm.
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 3_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
// BENCH_CPU_PROF_INTERVAL_US: the profiler's sampling interval (Bun's default 1000 µs; finer slows serve noticeably).
const PROFILE_INTERVAL_US = Number(process.env.BENCH_CPU_PROF_INTERVAL_US ?? 1_000)
// BENCH_TARGET: what stands where egress serve is measured: `serve` (the benchmark) or `floor` (the durable echo).
// Only serve has lanes and /metrics: the floor's appends follow each other, with nothing queued to drain.
const TARGETS = {
  serve: { bench: 'http', label: 'egress serve (paper, fsync)', cpuLabel: 'serve', cpuNote: ' (intake, execution, venue, back office)', isServe: true },
  floor: { bench: 'http-floor', label: 'durable echo (fsync)', cpuLabel: 'durable echo', cpuNote: '', isServe: false },
} as const
/** A bad BENCH_* setting: its message, no stack, exit 2, before any run. */
function refuseSetting(message: string): never {
  process.stderr.write(`bench:http: ${message}\n`)
  process.exit(2)
}
const TARGET_NAME = process.env.BENCH_TARGET ?? 'serve'
if (TARGET_NAME !== 'serve' && TARGET_NAME !== 'floor') refuseSetting(`BENCH_TARGET must be serve or floor, got ${TARGET_NAME}`)
const TARGET = TARGETS[TARGET_NAME]
/** The floor's records per order. */
const FLOOR_RECORDS = ((): readonly (readonly number[])[] => {
  try {
    return floorRecordsFrom(process.env.BENCH_FLOOR_RECORDS)
  } catch (error) {
    return refuseSetting(error instanceof Error ? error.message : String(error))
  }
})()

const say = (message: string): void => void process.stderr.write(`bench:http: ${message}\n`)

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      await fetch(url)
      return
    } catch {
      await Bun.sleep(50)
    }
  }
  throw new Error(`${url} did not come up`)
}

/** Waits until no lane has work queued (the executor has sent everything the max phase left behind). */
async function drained(metricsUrl: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const text = await (await fetch(metricsUrl)).text()
    if (laneDepthOf(text) === 0) return
    await Bun.sleep(100)
  }
  say('lanes did not drain within 30 s; measuring anyway')
}

/** Group-commit figures from /metrics: batches, mean records per batch, mean fsync latency. */
function walFigures(metrics: string): string {
  const value = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN)
  const batches = value('egress_wal_batch_records_count')
  const records = value('egress_wal_batch_records_sum')
  const fsyncs = value('egress_wal_fsync_seconds_count')
  const fsyncSec = value('egress_wal_fsync_seconds_sum')
  return `${batches} batches, ${round(records / batches, 1)} records/batch, ${fsyncs} fsyncs, mean fsync ${round((1000 * fsyncSec) / fsyncs, 3)} ms`
}

const round = (value: number, places = 2): number => Math.round(value * 10 ** places) / 10 ** places

/** Status counts of several phases added up. */
function mergedCounts(counts: readonly Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {}
  for (const count of counts) for (const [status, n] of Object.entries(count)) merged[status] = (merged[status] ?? 0) + n
  return merged
}

/** The collector figures of several half-load rounds together: cycles, pauses and slow requests added up. */
function sumOverlaps(overlaps: readonly GcOverlap[]): GcOverlap {
  const slowCount = overlaps.reduce((sum, overlap) => sum + overlap.slowCount, 0)
  const slowInGc = overlaps.reduce((sum, overlap) => sum + overlap.slowInGcShare * overlap.slowCount, 0)
  return {
    cycles: overlaps.reduce((sum, overlap) => sum + overlap.cycles, 0),
    pauseMs: overlaps.reduce((sum, overlap) => sum + overlap.pauseMs, 0),
    fullCycles: overlaps.reduce((sum, overlap) => sum + overlap.fullCycles, 0),
    cycleMs: overlaps.reduce((sum, overlap) => sum + overlap.cycleMs, 0),
    fullCycleMs: overlaps.reduce((sum, overlap) => sum + overlap.fullCycleMs, 0),
    liveKbAfterFull: overlaps.reduce<number | null>((latest, overlap) => overlap.liveKbAfterFull ?? latest, null),
    slowCount,
    slowInGcShare: slowCount === 0 ? 0 : slowInGc / slowCount,
  }
}

/** The vsEcho the issue asks for. */
const VS_ECHO_TARGET = 0.5

/**
 * What vsEcho 0.5 leaves the gateway on this machine: at half the echo's rate, the CPU per order its event loop (one
 * thread) has room for, and what all cores have left once the load generator took its share at that rate.
 */
function targetBudget(options: { echoPerSec: number; loadGenCpuUsPerRequest: number; cores: number }): { ratePerSec: number; mainUsPerOrder: number; cpuUsPerOrder: number; cores: number } {
  const ratePerSec = VS_ECHO_TARGET * options.echoPerSec
  const mainUsPerOrder = 1_000_000 / ratePerSec
  return { ratePerSec, mainUsPerOrder, cpuUsPerOrder: options.cores * mainUsPerOrder - options.loadGenCpuUsPerRequest, cores: options.cores }
}

/** The latency above which a half-load request counts as slow for BENCH_GC_LOG: the p99 target. */
const GC_SLOW_MS = 5

/**
 * BENCH_CONFIG_JSON's fields, or none (a run with `{}` changes nothing and is reported as the benchmark's own). Not a
 * JSON object: refused (refuseSetting) before anything starts.
 */
function configOverrides(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {}
  let parsed: unknown = null
  try {
    parsed = JSON.parse(text)
  } catch {
    // said below
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) refuseSetting(`BENCH_CONFIG_JSON must be a JSON object of config sections, got ${JSON.stringify(text)}`)
  return parsed as Record<string, unknown>
}

async function main(): Promise<void> {
  const overrides = configOverrides(process.env.BENCH_CONFIG_JSON)
  const dataDir = mkdtempSync(join(tmpdir(), 'egress-bench-http-'))
  const [servePort, echoPort] = [await freePort(), await freePort()]
  const configPath = join(dataDir, 'bench-config.json')
  writeFileSync(configPath, JSON.stringify(benchServeConfig({ dataDir: join(dataDir, 'data'), port: servePort }, overrides)))
  const bun = process.execPath
  // BENCH_CPU_PROF=DIR: profile the serve process (bun --cpu-prof); the .cpuprofile lands in DIR when serve stops.
  const profile = process.env.BENCH_CPU_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-interval=${PROFILE_INTERVAL_US}`, '--cpu-prof-dir', resolve(process.env.BENCH_CPU_PROF)]
  // BENCH_SERVE_PRELOAD=FILE: preloaded into the serve process (a diagnostic probe such as an event-loop lag monitor).
  if (process.env.BENCH_SERVE_PRELOAD !== undefined) profile.push('--preload', resolve(process.env.BENCH_SERVE_PRELOAD))
  const gcLog = process.env.BENCH_GC_LOG === '1' ? new GcLogReader() : null
  const serveEnv = { ...process.env, EGRESS_CONFIG: '', ...(gcLog === null ? {} : { BUN_JSC_logGC: '1' }) }
  const command = TARGET.isServe ? [resolve('src/main.ts'), 'serve', '--config', configPath] : [resolve(import.meta.path), '--durable-echo', String(servePort), join(dataDir, 'log')]
  const serve = Bun.spawn([bun, ...profile, ...command], { stdout: 'ignore', stderr: 'pipe', env: serveEnv })
  // serve's stderr is read to the end (a pipe nobody reads would stall serve once full); the collector's lines are
  // kept, stamped on arrival. A preloaded probe's lines (and serve's own) are passed on to this process's stderr then,
  // so the probe is read beside the collector (an inherited stderr left the collector's log unread: 0 cycles).
  const passOn = process.env.BENCH_SERVE_PRELOAD !== undefined
  if (serve.stderr instanceof ReadableStream) {
    void readLines(serve.stderr, (line) => {
      gcLog?.line(line, performance.now())
      if (passOn && !isCollectorLine(line)) process.stderr.write(`${line}\n`)
    })
  }
  const echo = Bun.spawn([bun, resolve(import.meta.path), '--echo', String(echoPort)], { stdout: 'ignore', stderr: 'inherit' })
  try {
    await waitFor(`http://127.0.0.1:${servePort}/health`, 15_000)
    await waitFor(`http://127.0.0.1:${echoPort}/`, 15_000)
    const token = await benchToken()
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
    const egress: Target = { name: 'egress', url: `http://127.0.0.1:${servePort}/v1/orders`, headers }
    const echoTarget: Target = { name: 'echo', url: `http://127.0.0.1:${echoPort}/v1/orders`, headers }

    say(`warm-up ${WARMUP_MS} ms each`)
    await maxRate(echoTarget, WARMUP_MS, CONCURRENCY)
    await maxRate(egress, WARMUP_MS, CONCURRENCY)
    // Max: echo and egress alternate, round by round; each egress round's backlog of sends drains before the next.
    const echoMaxRounds: Awaited<ReturnType<typeof maxRate>>[] = []
    const egressMaxRounds: Awaited<ReturnType<typeof maxRate>>[] = []
    let echoCpuMs = 0
    let serveCpuMs = 0
    // The compiler threads' share of serve's CPU: how far from settled serve's JIT still is while it is measured.
    let serveJitCpuMs = 0
    // serve's main thread alone: the one that decides every order (the event loop), so the one that bounds it.
    let serveMainCpuMs = 0
    // This process is the load generator: its CPU while each side is measured, and its main thread's share of the
    // echo's phases (near 1: the echo's figure is the generator's ceiling, not the echo's).
    let loadGenCpuMsAtEcho = 0
    let loadGenMainCpuMsAtEcho = 0
    let loadGenCpuMsAtServe = 0
    const ticksAtStart = machineTicks()
    for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
      const echoCpu0 = cpuMsOf(echo.pid)
      const [genCpuAtEcho0, genMainCpuAtEcho0] = [cpuMsOf(process.pid), cpuMsOf(process.pid, process.pid)]
      const echoMax = await maxRate(echoTarget, MAX_PHASE_MS, CONCURRENCY)
      echoCpuMs += cpuMsOf(echo.pid) - echoCpu0
      loadGenCpuMsAtEcho += cpuMsOf(process.pid) - genCpuAtEcho0
      loadGenMainCpuMsAtEcho += cpuMsOf(process.pid, process.pid) - genMainCpuAtEcho0
      const serveCpu0 = cpuMsOf(serve.pid)
      const genCpuAtServe0 = cpuMsOf(process.pid)
      const serveJitCpu0 = threadsCpuMsOf(serve.pid, 'JIT')
      const serveMainCpu0 = cpuMsOf(serve.pid, serve.pid)
      const egressMax = await maxRate(egress, MAX_PHASE_MS, CONCURRENCY)
      serveCpuMs += cpuMsOf(serve.pid) - serveCpu0
      serveMainCpuMs += cpuMsOf(serve.pid, serve.pid) - serveMainCpu0
      serveJitCpuMs += threadsCpuMsOf(serve.pid, 'JIT') - serveJitCpu0
      loadGenCpuMsAtServe += cpuMsOf(process.pid) - genCpuAtServe0
      echoMaxRounds.push(echoMax)
      egressMaxRounds.push(egressMax)
      say(`round ${roundIndex + 1}: echo ${round(echoMax.okPerSec, 0)}/s, ${TARGET.label} ${round(egressMax.okPerSec, 0)} orders/s ${JSON.stringify(egressMax.statuses)}: ${round(egressMax.okPerSec / echoMax.okPerSec, 3)} of the echo`)
      // The burst's queued sends must not pollute the next phase.
      if (TARGET.isServe) await drained(`http://127.0.0.1:${servePort}/metrics`)
    }
    const answeredAt = (rounds: typeof egressMaxRounds): number => rounds.reduce((sum, result) => sum + result.answeredPerSec * (MAX_PHASE_MS / 1000), 0)
    const echoCpuUs = (echoCpuMs * 1000) / answeredAt(echoMaxRounds)
    const serveCpuUs = (serveCpuMs * 1000) / answeredAt(egressMaxRounds)
    const serveJitCpuUs = (serveJitCpuMs * 1000) / answeredAt(egressMaxRounds)
    const serveMainCpuUs = (serveMainCpuMs * 1000) / answeredAt(egressMaxRounds)
    const loadGenCpuUs = (loadGenCpuMsAtServe * 1000) / answeredAt(egressMaxRounds)
    const loadGenBusyAtEchoMax = loadGenMainCpuMsAtEcho / (ROUNDS * MAX_PHASE_MS)
    say(`CPU per request at max: ${TARGET.cpuLabel} ${round(serveCpuUs, 0)} µs${TARGET.cpuNote} (of which its JIT compiler threads ${round(serveJitCpuUs, 0)} µs, its main thread ${round(serveMainCpuUs, 0)} µs), echo ${round(echoCpuUs, 0)} µs`)
    const ordersPerSec = median(egressMaxRounds.map((result) => result.okPerSec))
    const budget = targetBudget({ echoPerSec: median(echoMaxRounds.map((result) => result.okPerSec)), loadGenCpuUsPerRequest: loadGenCpuUs, cores: availableParallelism() })
    say(`load generator: ${round(loadGenCpuUs, 0)} µs CPU per request; its main thread ${round(100 * loadGenBusyAtEchoMax, 0)}% busy in the echo's rounds (${round((loadGenCpuMsAtEcho * 1000) / answeredAt(echoMaxRounds), 0)} µs per request there)`)
    say(`at vsEcho 0.5 (${round(budget.ratePerSec, 0)}/s) this machine leaves ${TARGET.cpuLabel} ${round(budget.mainUsPerOrder, 0)} µs per order on one thread and ${round(budget.cpuUsPerOrder, 0)} µs in all (${budget.cores} cores less the load generator); it spends ${round(serveMainCpuUs, 0)} and ${round(serveCpuUs, 0)} now`)
    const vsEchoRounds = egressMaxRounds.map((result, index) => result.okPerSec / (echoMaxRounds[index] as (typeof echoMaxRounds)[number]).okPerSec)
    const halfRate = process.env.BENCH_HALF_RATE === undefined ? Math.max(1, Math.floor(ordersPerSec / 2)) : Number(process.env.BENCH_HALF_RATE)
    if (process.env.BENCH_SERVE_PRELOAD !== undefined) serve.kill('SIGUSR2') // lets a preloaded probe mark the half-load phase
    // Half load: egress then the echo at the same rate (the load generator's own floor), round by round.
    const halfRounds: { p50: number; p99: number; p999: number; echoP99: number; statuses: Record<string, number>; gc: GcOverlap | null; mainBusy: number; mainCpuUs: number; echoCpuUs: number }[] = []
    for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex++) {
      const halfFromMs = performance.now()
      const mainCpu0 = cpuMsOf(serve.pid, serve.pid)
      const half = await fixedRate(egress, halfRate, HALF_PHASE_MS)
      const mainCpuMs = cpuMsOf(serve.pid, serve.pid) - mainCpu0
      const halfToMs = performance.now()
      const echoCpu0 = cpuMsOf(echo.pid)
      const echoHalf = await fixedRate(echoTarget, halfRate, HALF_PHASE_MS)
      const echoCpuMs = cpuMsOf(echo.pid) - echoCpu0
      const sorted = half.latenciesMs.sort((a, b) => a - b)
      const figures = {
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        p999: percentile(sorted, 0.999),
        echoP99: percentile(echoHalf.latenciesMs.sort((a, b) => a - b), 0.99),
        statuses: half.statuses,
        gc: gcLog === null ? null : gcOverlap(gcLog.cycles, gcLog.largestHeap(), half.answered, { fromMs: halfFromMs, toMs: halfToMs, slowMs: GC_SLOW_MS }),
        // How busy serve's main thread was: a request waits behind whatever it runs, so the tail grows with this share.
        mainBusy: mainCpuMs / (halfToMs - halfFromMs),
        mainCpuUs: (mainCpuMs * 1000) / half.answered.length,
        echoCpuUs: (echoCpuMs * 1000) / echoHalf.answered.length,
      }
      halfRounds.push(figures)
      say(`round ${roundIndex + 1} at ${halfRate}/s: p50 ${round(figures.p50, 3)} ms, p90 ${round(percentile(sorted, 0.9), 3)} ms, p99 ${round(figures.p99, 3)} ms, p999 ${round(figures.p999, 3)} ms ${JSON.stringify(half.statuses)}; echo at the same rate: p99 ${round(figures.echoP99, 3)} ms`)
      say(`  CPU per request at this rate: ${TARGET.cpuLabel} main thread ${round(figures.mainCpuUs, 0)} µs (busy ${round(100 * figures.mainBusy, 0)}% of the phase), echo ${round(figures.echoCpuUs, 0)} µs`)
      if (gcLog !== null && process.env.BENCH_SLOW_TIMELINE === '1') say(`  ${slowTimeline(half.answered, gcLog.cycles, halfFromMs)}`)
      if (figures.gc !== null) say(`  serve's collector (main heap): ${figures.gc.cycles} cycles (${figures.gc.fullCycles} full${figures.gc.liveKbAfterFull === null ? '' : `, keeping ${round(figures.gc.liveKbAfterFull / 1024, 0)} MB live`}), running ${round(figures.gc.cycleMs, 0)} ms (full ${round(figures.gc.fullCycleMs, 0)} ms), ${round(figures.gc.pauseMs, 1)} ms paused; of ${figures.gc.slowCount} requests over ${GC_SLOW_MS} ms, ${round(100 * figures.gc.slowInGcShare, 0)}% were in flight during one`)
    }
    const gc = gcLog === null ? null : sumOverlaps(halfRounds.map((figures) => figures.gc as GcOverlap))
    // Orders the venue refused: the bench's are all meant to be taken and to expire (IOC below the market), so any
    // here means the phases measured another path than the one described (the sim's order store full, say).
    let venueRejects = 0
    if (TARGET.isServe) {
      const metrics = await (await fetch(`http://127.0.0.1:${servePort}/metrics`)).text()
      for (const line of metrics.split('\n')) if (/^egress_(order_rejects|orders_shed|venue_rejects)_total/.test(line)) say(line)
      venueRejects = Number(/^egress_order_rejects_total\{reason="VENUE_REJECTED"\} ([0-9]+)$/m.exec(metrics)?.[1] ?? 0)
      if (venueRejects > 0) say(`WARNING: the venue rejected ${venueRejects} orders: the figures above are not of the bench's order flow alone`)
      say(`log: ${walFigures(metrics)}`)
    }
    const health = (await (await fetch(`http://127.0.0.1:${servePort}/health`)).json()) as { log: { last_lsn: number; durability: string } }
    say(`log at LSN ${health.log.last_lsn}, durability ${health.log.durability}`)
    process.stdout.write(
      `${JSON.stringify({
        bench: TARGET.bench,
        ordersPerSec: round(ordersPerSec, 0),
        // Every answer at max load, 202 or a kernel decision such as LANE_FULL — each one durable in the log.
        decidedPerSec: round(median(egressMaxRounds.map((result) => result.answeredPerSec)), 0),
        echoPerSec: round(median(echoMaxRounds.map((result) => result.okPerSec)), 0),
        vsEcho: round(median(vsEchoRounds), 3),
        // CPU time (user + system, from /proc) per answered request in the max phases: robust to a busy machine.
        cpuUsPerOrder: round(serveCpuUs, 0),
        jitCpuUsPerOrder: round(serveJitCpuUs, 0),
        echoCpuUsPerRequest: round(echoCpuUs, 0),
        p99MsAtHalfLoad: round(median(halfRounds.map((figures) => figures.p99)), 3),
        venueRejects,
        // Per-request CPU at max and at half load, serve's main thread and the echo: what the same work costs at each
        // rate on this machine, and how busy the thread the tail waits behind was.
        mainCpuUsPerOrder: round(serveMainCpuUs, 0),
        mainCpuUsPerOrderAtHalfLoad: round(median(halfRounds.map((figures) => figures.mainCpuUs)), 0),
        mainBusyAtHalfLoad: round(median(halfRounds.map((figures) => figures.mainBusy)), 3),
        echoCpuUsPerRequestAtHalfLoad: round(median(halfRounds.map((figures) => figures.echoCpuUs)), 0),
        // The share of the machine's CPU time the hypervisor took over both phases (a shared VM's noise, in figures).
        stealShare: round(stealShareOf(ticksAtStart, machineTicks()), 3),
        // The load generator (this process) and what the targets leave: at vsEcho 0.5, the CPU per order one thread
        // and the whole machine (less the generator at that rate) have room for.
        loadGenCpuUsPerRequest: round(loadGenCpuUs, 0),
        loadGenBusyAtEchoMax: round(loadGenBusyAtEchoMax, 2),
        mainBudgetUsPerOrderAtTarget: round(budget.mainUsPerOrder, 0),
        cpuBudgetUsPerOrderAtTarget: round(budget.cpuUsPerOrder, 0),
        p50MsAtHalfLoad: round(median(halfRounds.map((figures) => figures.p50)), 3),
        p999MsAtHalfLoad: round(median(halfRounds.map((figures) => figures.p999)), 3),
        echoP99MsAtHalfLoad: round(median(halfRounds.map((figures) => figures.echoP99)), 3),
        halfLoadPerSec: halfRate,
        rounds: ROUNDS,
        ordersPerSecRounds: egressMaxRounds.map((result) => round(result.okPerSec, 0)),
        vsEchoRounds: vsEchoRounds.map((ratio) => round(ratio, 3)),
        p99MsAtHalfLoadRounds: halfRounds.map((figures) => round(figures.p99, 3)),
        concurrency: CONCURRENCY,
        durability: health.log.durability,
        statusesAtMax: mergedCounts(egressMaxRounds.map((result) => result.statuses)),
        statusesAtHalf: mergedCounts(halfRounds.map((figures) => figures.statuses)),
        ...(TARGET.isServe ? {} : { recordBytes: FLOOR_RECORDS }),
        ...(gc === null ? {} : { gcCyclesAtHalfLoad: gc.cycles, gcPauseMsAtHalfLoad: round(gc.pauseMs, 1), gcCycleMsAtHalfLoad: round(gc.cycleMs, 0), gcFullCyclesAtHalfLoadRounds: halfRounds.map((figures) => figures.gc?.fullCycles ?? 0), gcFullCycleMsAtHalfLoad: round(gc.fullCycleMs, 0), gcLiveMbAfterFull: gc.liveKbAfterFull === null ? null : round(gc.liveKbAfterFull / 1024, 0), slowOver5MsInGcShare: round(gc.slowInGcShare, 3) }),
        // A run with BENCH_CONFIG_JSON is an experiment, not the benchmark's figures: the JSON says so.
        ...(Object.keys(overrides).length === 0 ? {} : { configOverride: overrides }),
      })}\n`,
    )
  } finally {
    serve.kill('SIGTERM')
    echo.kill('SIGTERM')
    await Promise.race([serve.exited, Bun.sleep(profile.length > 0 ? 60_000 : 5_000)])
    if (serve.exitCode === null) serve.kill('SIGKILL')
    // BENCH_KEEP_DATA=1 leaves the data directory for inspection (its path is printed).
    if (process.env.BENCH_KEEP_DATA === '1') process.stderr.write(`bench:http: data kept in ${dataDir}\n`)
    else rmSync(dataDir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--echo') {
  Bun.serve({ hostname: '127.0.0.1', port: Number(process.argv[3]), fetch: echoApp().fetch })
} else if (process.argv[2] === '--durable-echo') {
  const wal = Wal.open(process.argv[4] as string, { durability: 'fsync' })
  const server = Bun.serve({ hostname: '127.0.0.1', port: Number(process.argv[3]), fetch: durableEchoApp({ wal, records: FLOOR_RECORDS }).fetch })
  process.on('SIGTERM', () => {
    void server.stop()
    void wal.close().finally(() => process.exit(0))
  })
} else {
  await main()
}
