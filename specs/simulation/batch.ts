/**
 * Many seeds in a row, and the report of a batch: seeds and steps checked, invariants, failures (each with its seed,
 * step and replay command), known issues with the seeds that hit them, and totals of what the runs exercised.
 * Reports of shards run in parallel processes merge into one.
 */

import { INVARIANTS } from './invariants.ts'
import { KNOWN_ISSUES } from './known-issues.ts'
import { runSeed, type SeedFailure, type SeedOptions, type SeedResult } from './run-seed.ts'

export interface BatchOptions extends Omit<SeedOptions, 'trace'> {
  from: number
  count: number
  /** Called after each seed (progress on stderr). */
  onSeed?: (result: SeedResult, index: number) => void
}

export interface BatchReport {
  seeds: number
  seedFrom: number
  seedTo: number
  stepsPerSeed: number
  /** Workload steps run (each followed by a full invariant check), over all seeds. */
  steps: number
  /** Invariant checks run: one after every step, plus the end-of-run phases. */
  checks: number
  invariants: readonly string[]
  result: 'pass' | 'fail'
  failures: SeedFailure[]
  known: Record<string, { summary: string; findings: number; seeds: number[] }>
  totals: Record<string, number>
  elapsedMs: number
}

const SEEDS_LISTED_MAX = 20

export async function runBatch(options: BatchOptions): Promise<BatchReport> {
  const startedMs = performance.now()
  const report = emptyReport(options)
  for (let index = 0; index < options.count; index++) {
    const result = await runSeed(options.from + index, options)
    addResult(report, result)
    options.onSeed?.(result, index)
  }
  report.elapsedMs = Math.round(performance.now() - startedMs)
  return report
}

export function emptyReport(options: { from: number; count: number; steps: number }): BatchReport {
  return {
    seeds: 0,
    seedFrom: options.from,
    seedTo: options.from + options.count - 1,
    stepsPerSeed: options.steps,
    steps: 0,
    checks: 0,
    invariants: INVARIANTS,
    result: 'pass',
    failures: [],
    known: {},
    totals: {},
    elapsedMs: 0,
  }
}

export function addResult(report: BatchReport, result: SeedResult): void {
  report.seeds++
  report.steps += result.steps
  report.checks += result.checks
  if (result.failure !== null) {
    report.failures.push(result.failure)
    report.result = 'fail'
  }
  for (const finding of result.known) {
    const entry = (report.known[finding.issue] ??= { summary: KNOWN_ISSUES[finding.issue]?.summary ?? '', findings: 0, seeds: [] })
    entry.findings++
    if (!entry.seeds.includes(result.seed) && entry.seeds.length < SEEDS_LISTED_MAX) entry.seeds.push(result.seed)
  }
  const { counters, ...stats } = result.stats
  for (const [key, value] of Object.entries(stats)) {
    if (key.endsWith('Max') || key.endsWith('BoundMs')) report.totals[key] = Math.max(report.totals[key] ?? 0, value)
    else report.totals[key] = (report.totals[key] ?? 0) + value
  }
  for (const [key, value] of Object.entries(counters)) report.totals[`workload.${key}`] = (report.totals[`workload.${key}`] ?? 0) + value
}

/** Merges shard reports (disjoint seed ranges) into one; elapsed time is the slowest shard's. */
export function mergeReports(reports: BatchReport[]): BatchReport {
  const first = reports[0]
  if (first === undefined) throw new RangeError('mergeReports needs at least one report')
  const merged: BatchReport = { ...first, failures: [], known: {}, totals: {}, seeds: 0, steps: 0, checks: 0, result: 'pass', elapsedMs: 0 }
  merged.seedFrom = Math.min(...reports.map((report) => report.seedFrom))
  merged.seedTo = Math.max(...reports.map((report) => report.seedTo))
  for (const report of reports) {
    merged.seeds += report.seeds
    merged.steps += report.steps
    merged.checks += report.checks
    merged.elapsedMs = Math.max(merged.elapsedMs, report.elapsedMs)
    merged.failures.push(...report.failures)
    if (report.result === 'fail') merged.result = 'fail'
    for (const [issue, entry] of Object.entries(report.known)) {
      const target = (merged.known[issue] ??= { summary: entry.summary, findings: 0, seeds: [] })
      target.findings += entry.findings
      for (const seed of entry.seeds) if (target.seeds.length < SEEDS_LISTED_MAX) target.seeds.push(seed)
    }
    for (const [key, value] of Object.entries(report.totals)) {
      merged.totals[key] = key.endsWith('Max') || key.endsWith('BoundMs') ? Math.max(merged.totals[key] ?? 0, value) : (merged.totals[key] ?? 0) + value
    }
  }
  return merged
}

/** One line per failure: seed, step, what broke, and how to replay it. */
export function describeFailure(failure: SeedFailure): string {
  const lines = [`seed ${failure.seed} failed at step ${failure.step}:`]
  for (const violation of failure.violations) lines.push(`  ${violation.invariant}: ${violation.message}`)
  lines.push('  last actions:', ...failure.recent.map((line) => `    ${line}`))
  lines.push(`  replay: ${failure.replay}`)
  return lines.join('\n')
}
