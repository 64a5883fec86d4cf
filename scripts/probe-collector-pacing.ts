/**
 * probe:collector-pacing — the latency tail of egress serve at a fixed rate with young-generation collector pacing on
 * (config `collector.edenEveryMs: 50`, src/runtime/collector-pacing.ts) and with pacing wholly off (`edenEveryMs: 0`,
 * `fullWhenIdleMs: 0`), in the same run: sustained traffic, the case pacing is off by default for.
 *
 * For each of `--pairs` pairs, one serve of each (the order alternating pair by pair, so neither always runs on a
 * warmer machine): start it on bench:http's config, fill it at full load (closed loop) for `--fill-ms`, so it holds
 * about as many orders as bench:http's serve does when its half-load phase starts (the collector's young generation is
 * sized from the live heap), then run bench:http's open-loop generator at `--rate` for `--rounds` rounds of
 * `--phase-ms`, latency from each request's scheduled send time. Per round: p50, p99, p999, the main thread's CPU per
 * request; per serve, the paced collections it ran and their longest pause (from /metrics). The summary gives, per
 * setting, the median over its rounds, the worst round, and the p99 of all its requests pooled (a round that holds a
 * full collection shows there, where a median of rounds hides it), and the paced/off ratios. The rounds follow each
 * other with no lull between them: a full collection run in a lull can only come before the first.
 *
 * `bun scripts/probe-collector-pacing.ts [--pairs 2] [--rate 5500] [--fill-ms 12000] [--rounds 3] [--phase-ms 3000]`
 * The last line is JSON.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { benchServeConfig, benchToken } from './support/bench-load.ts'
import { cpuMsOf, median, percentile } from './support/figures.ts'
import { fixedRate, maxRate, type Target } from './support/http-load.ts'
import { freePort, waitFor } from './support/loopback.ts'

const SETTINGS = { paced: { collector: { edenEveryMs: 50 } }, off: { collector: { edenEveryMs: 0, fullWhenIdleMs: 0 } } } as const
type SettingName = keyof typeof SETTINGS

interface RoundFigures {
  p50Ms: number
  p99Ms: number
  p999Ms: number
  mainCpuUsPerRequest: number
  notAccepted: number
}

const round = (value: number, places = 2): number => Math.round(value * 10 ** places) / 10 ** places

interface ServeResult {
  rounds: RoundFigures[]
  latenciesMs: number[]
  pacedCollections: number
  pacedPauseMsMax: number
  idleFullCollections: number
}

async function runServe(setting: SettingName, options: { rate: number; fillMs: number; rounds: number; phaseMs: number }): Promise<ServeResult> {
  const dir = mkdtempSync(join(tmpdir(), `egress-probe-pacing-${setting}-`))
  const port = await freePort()
  const configPath = join(dir, 'config.json')
  writeFileSync(configPath, JSON.stringify(benchServeConfig({ dataDir: join(dir, 'data'), port }, SETTINGS[setting])))
  const child = Bun.spawn([process.execPath, resolve('src/main.ts'), 'serve', '--config', configPath], { stdout: 'ignore', stderr: 'ignore', env: { ...process.env, EGRESS_CONFIG: '' } })
  try {
    const health = `http://127.0.0.1:${port}/health`
    await waitFor(health, 15_000, async () => (await fetch(health)).ok, { intervalMs: 50 })
    const headers = { Authorization: `Bearer ${await benchToken()}`, 'Content-Type': 'application/json' }
    const target: Target = { name: setting, url: `http://127.0.0.1:${port}/v1/orders`, headers }
    await maxRate(target, options.fillMs, 64)
    await Bun.sleep(1_000) // the fill's backlog of sends and reports
    const rounds: RoundFigures[] = []
    const latenciesMs: number[] = []
    for (let index = 0; index < options.rounds; index++) {
      const cpu0 = cpuMsOf(child.pid, child.pid)
      const run = await fixedRate(target, options.rate, options.phaseMs)
      const cpuMs = cpuMsOf(child.pid, child.pid) - cpu0
      const sorted = [...run.latenciesMs].sort((a, b) => a - b)
      latenciesMs.push(...run.latenciesMs)
      const figures: RoundFigures = {
        p50Ms: round(percentile(sorted, 0.5)),
        p99Ms: round(percentile(sorted, 0.99)),
        p999Ms: round(percentile(sorted, 0.999)),
        mainCpuUsPerRequest: round((1000 * cpuMs) / sorted.length, 0),
        notAccepted: sorted.length - (run.statuses['202'] ?? 0),
      }
      process.stderr.write(`probe:collector-pacing: ${setting} round ${index + 1} at ${options.rate}/s: ${JSON.stringify(figures)}\n`)
      rounds.push(figures)
    }
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    const metric = (name: string): number => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN)
    return {
      rounds,
      latenciesMs,
      pacedCollections: metric('egress_collector_paced_total'),
      pacedPauseMsMax: round(metric('egress_collector_paced_pause_seconds_max') * 1000),
      idleFullCollections: metric('egress_collector_idle_full_total'),
    }
  } finally {
    child.kill('SIGTERM')
    await child.exited
    rmSync(dir, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string', default: '2' },
      rate: { type: 'string', default: '5500' },
      'fill-ms': { type: 'string', default: '12000' },
      rounds: { type: 'string', default: '3' },
      'phase-ms': { type: 'string', default: '3000' },
    },
  })
  const options = { pairs: Number(values.pairs), rate: Number(values.rate), fillMs: Number(values['fill-ms']), rounds: Number(values.rounds), phaseMs: Number(values['phase-ms']) }
  for (const [name, value] of Object.entries(options)) {
    if (!(Number.isInteger(value) && value > 0)) {
      process.stderr.write(`probe:collector-pacing: --${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a positive integer, got ${value}\n`)
      process.exit(2)
    }
  }
  const all: Record<SettingName, RoundFigures[]> = { paced: [], off: [] }
  const pooled: Record<SettingName, number[]> = { paced: [], off: [] }
  const serves: Record<SettingName, Omit<ServeResult, 'rounds' | 'latenciesMs'>[]> = { paced: [], off: [] }
  for (let pair = 0; pair < options.pairs; pair++) {
    const order: SettingName[] = pair % 2 === 0 ? ['off', 'paced'] : ['paced', 'off']
    for (const setting of order) {
      const result = await runServe(setting, options)
      all[setting].push(...result.rounds)
      for (const latencyMs of result.latenciesMs) pooled[setting].push(latencyMs)
      serves[setting].push({ pacedCollections: result.pacedCollections, pacedPauseMsMax: result.pacedPauseMsMax, idleFullCollections: result.idleFullCollections })
    }
  }
  const summaryOf = (setting: SettingName) => {
    const sorted = pooled[setting].sort((a, b) => a - b)
    return {
      p50Ms: median(all[setting].map((figures) => figures.p50Ms)),
      p99Ms: median(all[setting].map((figures) => figures.p99Ms)),
      p999Ms: median(all[setting].map((figures) => figures.p999Ms)),
      p99MsWorstRound: Math.max(...all[setting].map((figures) => figures.p99Ms)),
      p99MsPooled: round(percentile(sorted, 0.99)),
      mainCpuUsPerRequest: median(all[setting].map((figures) => figures.mainCpuUsPerRequest)),
      p99MsRounds: all[setting].map((figures) => figures.p99Ms),
      serves: serves[setting],
      notAccepted: all[setting].reduce((sum, figures) => sum + figures.notAccepted, 0),
    }
  }
  const paced = summaryOf('paced')
  const off = summaryOf('off')
  console.log(JSON.stringify({
    probe: 'collector-pacing',
    ...options,
    paced,
    off,
    p99PacedOverOff: round(paced.p99Ms / off.p99Ms, 3),
    p99PooledPacedOverOff: round(paced.p99MsPooled / off.p99MsPooled, 3),
    p999PacedOverOff: round(paced.p999Ms / off.p999Ms, 3),
    cpuPacedOverOff: round(paced.mainCpuUsPerRequest / off.mainCpuUsPerRequest, 3),
  }))
}

await main()
