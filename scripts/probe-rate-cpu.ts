/**
 * probe:rate-cpu — CPU per request as a function of the offered rate, for egress serve and for its two baselines (the
 * echo and the durable echo, bench:http's `floor`), each in its own process on loopback, driven by bench:http's own
 * open-loop generator at fixed rates.
 *
 * Why: bench:http's latency target is taken at half the measured maximum, and on the shared VMs a request costs far
 * more CPU at a low rate than at the maximum (fewer requests per wake-up of the event loop; colder caches). If that
 * inflation were egress's own (a loop that spins while work is pending, a per-batch cost), egress's curve would rise
 * faster than the baselines' as the rate falls; if it is the machine's, all three rise alike. The figures say which.
 *
 * For each target: start it, warm it at full load (closed loop) for `--warmup-ms`, read its main thread idle for 2 s,
 * then for each rate run the open loop for `--phase-ms` and read, from /proc, the main thread's CPU (user and system)
 * and voluntary context switches (each one a sleep of the event loop) per request, and the latency p50/p99 from each
 * request's scheduled send time. The targets run one after the other, never together.
 *
 * `bun scripts/probe-rate-cpu.ts [--rates 500,1000,3000] [--phase-ms 4000] [--warmup-ms 4000] [--targets serve,floor,echo]`
 * The last line is JSON: per target and rate, µs per request and the ratio to the same target's figure at the
 * highest rate listed (its inflation at the lower rates).
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { benchServeConfig, benchToken } from './support/bench-load.ts'
import { fixedRate, maxRate, type Target } from './support/http-load.ts'
import { freePort, waitFor } from './support/loopback.ts'
import { cpuMsOf, percentile } from './support/figures.ts'

const TARGET_NAMES = ['serve', 'floor', 'echo'] as const
type TargetName = (typeof TARGET_NAMES)[number]

interface RateFigures {
  ratePerSec: number
  requests: number
  mainCpuUsPerRequest: number
  mainSysUsPerRequest: number
  mainSleepsPerRequest: number
  p50Ms: number
  p99Ms: number
}

const round = (value: number, places = 1): number => Math.round(value * 10 ** places) / 10 ** places

/** The main thread's CPU split (ms) and its voluntary context switches so far. */
function mainThreadReading(pid: number): { cpuMs: number; sysMs: number; sleeps: number } {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8')
  const sleeps = Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1] ?? Number.NaN)
  // utime and stime are the 12th and 13th fields after the command name, in clock ticks (100/s).
  return { cpuMs: cpuMsOf(pid, pid), sysMs: Number(fields[12]) * 10, sleeps }
}

function commandOf(name: TargetName, port: number, dir: string): string[] {
  const bench = resolve('scripts/bench-http.ts')
  if (name === 'serve') {
    const configPath = join(dir, 'config.json')
    writeFileSync(configPath, JSON.stringify(benchServeConfig({ dataDir: join(dir, 'data'), port })))
    return [resolve('src/main.ts'), 'serve', '--config', configPath]
  }
  return name === 'floor' ? [bench, '--durable-echo', String(port), join(dir, 'log')] : [bench, '--echo', String(port)]
}

async function probeTarget(name: TargetName, options: { rates: number[]; phaseMs: number; warmupMs: number }): Promise<{ idleMainCpuMsPerSec: number; rates: RateFigures[] }> {
  const dir = mkdtempSync(join(tmpdir(), `egress-probe-rate-${name}-`))
  const port = await freePort()
  const child = Bun.spawn([process.execPath, ...commandOf(name, port, dir)], { stdout: 'ignore', stderr: 'ignore', env: { ...process.env, EGRESS_CONFIG: '' } })
  try {
    const url = `http://127.0.0.1:${port}/${name === 'serve' ? 'health' : ''}`
    await waitFor(url, 15_000, async () => (await fetch(url)).ok || true, { intervalMs: 50 })
    const headers = { Authorization: `Bearer ${await benchToken()}`, 'Content-Type': 'application/json' }
    const target: Target = { name, url: `http://127.0.0.1:${port}/v1/orders`, headers }
    await maxRate(target, options.warmupMs, 64)
    await Bun.sleep(1_000)
    const idle0 = mainThreadReading(child.pid)
    await Bun.sleep(2_000)
    const idleMainCpuMsPerSec = (mainThreadReading(child.pid).cpuMs - idle0.cpuMs) / 2
    const rates: RateFigures[] = []
    for (const ratePerSec of options.rates) {
      const before = mainThreadReading(child.pid)
      const run = await fixedRate(target, ratePerSec, options.phaseMs)
      const after = mainThreadReading(child.pid)
      const requests = run.latenciesMs.length
      const sorted = [...run.latenciesMs].sort((a, b) => a - b)
      const figures: RateFigures = {
        ratePerSec,
        requests,
        mainCpuUsPerRequest: round((1000 * (after.cpuMs - before.cpuMs)) / requests),
        mainSysUsPerRequest: round((1000 * (after.sysMs - before.sysMs)) / requests),
        mainSleepsPerRequest: round((after.sleeps - before.sleeps) / requests, 2),
        p50Ms: round(percentile(sorted, 0.5), 2),
        p99Ms: round(percentile(sorted, 0.99), 2),
      }
      process.stderr.write(`probe:rate-cpu: ${name} @${ratePerSec}/s: ${JSON.stringify(figures)}\n`)
      rates.push(figures)
      await Bun.sleep(500)
    }
    return { idleMainCpuMsPerSec, rates }
  } finally {
    child.kill('SIGTERM')
    await child.exited
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '500,1000,3000' },
      'phase-ms': { type: 'string', default: '4000' },
      'warmup-ms': { type: 'string', default: '4000' },
      targets: { type: 'string', default: TARGET_NAMES.join(',') },
    },
  })
  const rates = values.rates.split(',').map(Number)
  const phaseMs = Number(values['phase-ms'])
  const warmupMs = Number(values['warmup-ms'])
  const targets = values.targets.split(',')
  const refuse = (message: string): never => {
    process.stderr.write(`probe:rate-cpu: ${message}\n`)
    process.exit(2)
  }
  if (rates.length === 0 || rates.some((rate) => !(Number.isInteger(rate) && rate > 0))) refuse(`--rates must be positive integers, got ${values.rates}`)
  if (!(phaseMs >= 1_000) || !(warmupMs >= 0)) refuse('--phase-ms must be ≥ 1000 and --warmup-ms ≥ 0')
  for (const name of targets) if (!(TARGET_NAMES as readonly string[]).includes(name)) refuse(`--targets: unknown target ${name} (serve, floor, echo)`)

  const highest = Math.max(...rates)
  const summary: Record<string, unknown> = { probe: 'rate-cpu', rates, phaseMs }
  for (const name of targets as TargetName[]) {
    const result = await probeTarget(name, { rates, phaseMs, warmupMs })
    const atHighest = result.rates.find((figures) => figures.ratePerSec === highest)?.mainCpuUsPerRequest ?? Number.NaN
    summary[name] = {
      idleMainCpuMsPerSec: result.idleMainCpuMsPerSec,
      mainCpuUsPerRequest: Object.fromEntries(result.rates.map((figures) => [figures.ratePerSec, figures.mainCpuUsPerRequest])),
      inflationVsHighestRate: Object.fromEntries(result.rates.map((figures) => [figures.ratePerSec, round(figures.mainCpuUsPerRequest / atHighest, 2)])),
      p99Ms: Object.fromEntries(result.rates.map((figures) => [figures.ratePerSec, figures.p99Ms])),
    }
  }
  console.log(JSON.stringify(summary))
}

await main()
