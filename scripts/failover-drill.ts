/**
 * The failover drill of issue 8 on real processes over loopback: an external sim venue (egress sim-venue), two nodes
 * sharing a lease directory (egress serve --role auto), steady order load against whichever node leads. Each cycle
 * kills the leader with SIGKILL (or, with --stop, SIGSTOPs it past lease expiry and SIGCONTs it after the takeover)
 * and checks takeover time, acknowledged orders on the new leader, venue duplicates, Unknown convergence and, with
 * --stop, that the woken leader acknowledges and sends nothing and steps down; at the end both logs are verified.
 * The machinery lives in specs/runtime/ha/drill.ts, shared with the CI spec specs/runtime/ha/failover.test.ts.
 *
 *   bun scripts/failover-drill.ts [--cycles N] [--stop] [--lease-ttl-ms N] [--rate N]
 *                                 [--sync off|fail_closed|degrade_async] [--sync-timeout-ms N]
 *                                 [--reconcile-grace-ms N] [--reconcile-recheck-ms N] [--keep] [--verbose]
 *
 * The nodes get a config file with `kernel.reconcileGraceMs`/`reconcileRecheckMs` (default DRILL_KERNEL: 1000/200 ms,
 * a grace that fits the loopback sim venue). Every takeover must take at most lease TTL + 2 s.
 *
 * Progress on stderr; the report on stdout; the last line is one JSON object. Exit 1 if any check failed.
 */

import { parseArgs } from 'node:util'
import { DRILL_KERNEL, median, runDrill } from '../specs/runtime/ha/drill.ts'
import type { SyncPolicy } from '../specs/runtime/ha/cluster.ts'

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '10' },
    stop: { type: 'boolean', default: false },
    'lease-ttl-ms': { type: 'string', default: '1000' },
    'clock-skew-ms': { type: 'string', default: '100' },
    rate: { type: 'string', default: '40' },
    sync: { type: 'string', default: 'fail_closed' },
    'sync-timeout-ms': { type: 'string', default: '1000' },
    'load-before-ms': { type: 'string', default: '1000' },
    'load-after-ms': { type: 'string', default: '500' },
    'reconcile-grace-ms': { type: 'string', default: String(DRILL_KERNEL.reconcileGraceMs) },
    'reconcile-recheck-ms': { type: 'string', default: String(DRILL_KERNEL.reconcileRecheckMs) },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
})
const SYNC_POLICIES: readonly SyncPolicy[] = ['off', 'fail_closed', 'degrade_async']
const sync = values.sync as SyncPolicy
if (!SYNC_POLICIES.includes(sync)) throw new Error(`--sync must be one of ${SYNC_POLICIES.join(', ')}, got ${JSON.stringify(values.sync)}`)

const report = await runDrill({
  cycles: Number(values.cycles),
  mode: values.stop === true ? 'sigstop' : 'kill9',
  leaseTtlMs: Number(values['lease-ttl-ms']),
  clockSkewMs: Number(values['clock-skew-ms']),
  ratePerSec: Number(values.rate),
  loadBeforeMs: Number(values['load-before-ms']),
  loadAfterMs: Number(values['load-after-ms']),
  sync,
  syncTimeoutMs: Number(values['sync-timeout-ms']),
  takeoverSlackMs: 2_000,
  kernel: { reconcileGraceMs: Number(values['reconcile-grace-ms']), reconcileRecheckMs: Number(values['reconcile-recheck-ms']) },
  verbose: values.verbose === true,
  keep: values.keep === true,
  log: (line) => void process.stderr.write(`failover: ${line}\n`),
})

const takeovers = [...report.takeoverMs].sort((a, b) => a - b)
console.log(`cycles ${report.cycles} (${report.mode}), lease ttl ${report.leaseTtlMs} ms, sync ${report.sync}, ${(report.elapsedMs / 1000).toFixed(1)} s`)
console.log(`takeover ms: min ${takeovers[0] ?? 0}, median ${median(takeovers)}, max ${takeovers.at(-1) ?? 0}; ${report.takeoversAwaitingReconcile} waited on reconciling a venue call in flight`)
console.log(`orders acknowledged ${report.ordersAcked}, lost ${report.ackedLost}; Unknown left ${report.unknownLeft}; final statuses ${JSON.stringify(report.ackedStatuses)}`)
console.log(`venue: orders ${report.venueOrders}, place calls ${report.venuePlaceCalls}, duplicate client order ids ${report.venueDuplicates}`)
console.log(`divergences ${report.divergences} (records set aside ${report.discardedRecords}), shared prefix kept ${report.divergencesPrefixKept}, shared records fetched again ${report.divergenceSharedRecordsFetched}`)
if (report.mode === 'sigstop') console.log(`woken deposed leaders: acknowledged ${report.deposedAcks} (refused ${report.deposedRefused} writes held open while stopped), venue calls ${report.deposedSends}, unacknowledged records discarded ${report.discardedRecords}`)
console.log(`logs verified ${report.logsVerified}/2; standby shadow decisions ${report.shadowDecisions}, mismatches ${report.shadowMismatches}`)
for (const failure of report.failures) console.log(`FAIL ${failure}`)
console.log(JSON.stringify({
  bench: 'failover',
  cycles: report.cycles,
  takeoverMsMedian: median(takeovers),
  takeoverMsMax: takeovers.at(-1) ?? 0,
  ackedLost: report.ackedLost,
  venueDuplicates: report.venueDuplicates,
  takeoverMsMin: takeovers[0] ?? 0,
  mode: report.mode,
  sync: report.sync,
  leaseTtlMs: report.leaseTtlMs,
  ordersAcked: report.ordersAcked,
  unknownLeft: report.unknownLeft,
  logsVerified: report.logsVerified,
  takeoversAwaitingReconcile: report.takeoversAwaitingReconcile,
  reconcileGraceMs: Number(values['reconcile-grace-ms']),
  shadowDecisions: report.shadowDecisions,
  shadowMismatches: report.shadowMismatches,
  invariantErrors: report.invariantErrors,
  divergences: report.divergences,
  divergencesPrefixKept: report.divergencesPrefixKept,
  divergenceSharedRecordsFetched: report.divergenceSharedRecordsFetched,
  discardedRecords: report.discardedRecords,
  ...(report.mode === 'sigstop' ? { deposedAcks: report.deposedAcks, deposedRefused: report.deposedRefused, deposedSends: report.deposedSends } : {}),
  failures: report.failures.length,
}))
process.exit(report.failures.length === 0 ? 0 : 1)
