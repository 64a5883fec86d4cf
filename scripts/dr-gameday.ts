/**
 * The DR GameDay (spec 004 §10) on real processes over loopback: each cycle a fresh pair (sim venue, node-a leading,
 * node-b its standby) under order load, then one fault per scenario —
 *
 *   failover   node-a SIGKILLed; node-b takes over; node-a restarts on its data dir and rejoins as standby
 *   site-loss  node-a SIGKILLed and its data directory deleted; node-b takes over from its replica; a replacement
 *              node-c starts on an empty data directory and rebuilds from node-b; with --early-start node-c starts
 *              right after the loss, node-b held back (SIGSTOP) while the lease runs out: node-c must be refused the
 *              lease (LEASE_NOT_IN_SYNC; LEASE_LOG_BEHIND without sync replication; /health ha.takeover_refused)
 *              and follow node-b once it is let go and leads
 *
 * and measures RTO (fault → first order acknowledged by the new leader) and RPO (acknowledged orders missing
 * afterwards, target 0), checks the venue saw no client order id twice, and runs `egress replay-verify` on both
 * surviving data directories after a clean stop. The machinery is specs/runtime/ha/dr-gameday.ts, shared with the CI
 * spec specs/runtime/ha/dr-site-loss.test.ts. Stops by itself; README "Disaster recovery" has the procedure.
 *
 *   bun scripts/dr-gameday.ts [--cycles N] [--scenario failover|site-loss|all] [--lease-ttl-ms N] [--rate N]
 *                             [--sync off|fail_closed|degrade_async] [--sync-timeout-ms N] [--early-start] [--keep] [--verbose]
 *
 * Progress on stderr; the report on stdout; the last line is one JSON object. Exit 1 if any scenario failed.
 */

import { parseArgs, type ParseArgsConfig } from 'node:util'
import { DRILL_KERNEL } from '../specs/runtime/ha/drill.ts'
import { DR_SCENARIOS, describeSummary, runGameDay, type DrScenario } from '../specs/runtime/ha/dr-gameday.ts'
import type { SyncPolicy } from '../specs/runtime/ha/cluster.ts'

const { values } = parseArgsOrUsage({
  options: {
    cycles: { type: 'string', default: '3' },
    scenario: { type: 'string', default: 'all' },
    'lease-ttl-ms': { type: 'string', default: '1000' },
    'clock-skew-ms': { type: 'string', default: '100' },
    rate: { type: 'string', default: '40' },
    sync: { type: 'string', default: 'fail_closed' },
    'sync-timeout-ms': { type: 'string', default: '1000' },
    'load-before-ms': { type: 'string', default: '1000' },
    'load-after-ms': { type: 'string', default: '500' },
    'early-start': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
})

/** parseArgs, its refusal (an unknown flag, a missing value) said as a usage error rather than a stack trace. */
function parseArgsOrUsage<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config)
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error))
  }
}

/** A whole number within [min, max] written in decimal digits (not 0x2 or 1e1), or exit 2 naming the option. */
function integer(name: string, min: number, max: number): number {
  const text = values[name as keyof typeof values]
  const value = typeof text === 'string' && /^\d{1,15}$/.test(text) ? Number(text) : NaN
  if (!Number.isInteger(value) || value < min || value > max) usage(`--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`)
  return value
}

function usage(message: string): never {
  process.stderr.write(`dr-gameday: ${message}\n`)
  process.exit(2)
}

const SYNC_POLICIES: readonly SyncPolicy[] = ['off', 'fail_closed', 'degrade_async']
const sync = values.sync as SyncPolicy
if (!SYNC_POLICIES.includes(sync)) usage(`--sync must be one of ${SYNC_POLICIES.join(', ')}, got ${JSON.stringify(values.sync)}`)
const scenarios: readonly DrScenario[] =
  values.scenario === 'all' ? DR_SCENARIOS : DR_SCENARIOS.includes(values.scenario as DrScenario) ? [values.scenario as DrScenario] : usage(`--scenario must be one of ${DR_SCENARIOS.join(', ')}, all`)

const report = await runGameDay({
  scenarios,
  cycles: integer('cycles', 1, 100),
  leaseTtlMs: integer('lease-ttl-ms', 200, 60_000),
  clockSkewMs: integer('clock-skew-ms', 0, 10_000),
  ratePerSec: integer('rate', 1, 1_000),
  loadBeforeMs: integer('load-before-ms', 0, 60_000),
  loadAfterMs: integer('load-after-ms', 0, 60_000),
  sync,
  syncTimeoutMs: integer('sync-timeout-ms', 100, 60_000),
  kernel: DRILL_KERNEL,
  earlyStart: values['early-start'] === true,
  verbose: values.verbose === true,
  keep: values.keep === true,
  log: (line) => void process.stderr.write(`dr: ${line}\n`),
})

console.log(`DR GameDay: sync ${report.sync}${report.earlyStart ? ', site-loss replacement started early (survivor held back)' : ''}, lease ttl ${report.leaseTtlMs} ms, ${(report.elapsedMs / 1000).toFixed(1)} s; ${report.pass ? 'PASS' : 'FAIL'}`)
console.log('RTO = fault → first order acknowledged by the new leader; RPO = acknowledged orders missing afterwards')
for (const summary of report.summaries) console.log(describeSummary(summary))
for (const cycle of report.cycles) for (const failure of cycle.failures) console.log(`FAIL ${cycle.scenario} cycle ${cycle.cycle}: ${failure}`)
console.log(JSON.stringify({
  gameday: 'dr',
  sync: report.sync,
  earlyStart: report.earlyStart,
  leaseTtlMs: report.leaseTtlMs,
  scenarios: Object.fromEntries(report.summaries.map((summary) => [summary.scenario, {
    pass: summary.pass,
    cycles: summary.cycles,
    rtoMs: summary.rtoMs,
    rtoMsMax: summary.rtoMsMax,
    rpoOrders: summary.rpoOrders,
    emptyNodeLeads: summary.emptyNodeLeads,
    takeoverMs: summary.takeoverMs,
    reprotectedMs: summary.reprotectedMs,
    ordersAcked: summary.ordersAcked,
    venueDuplicates: summary.venueDuplicates,
    replayVerified: `${summary.replayVerified}/${summary.replayVerifyRuns}`,
    failures: summary.failures,
  }])),
  pass: report.pass,
}))
process.exit(report.pass ? 0 : 1)
