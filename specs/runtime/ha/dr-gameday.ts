/**
 * The DR GameDay (spec 004 §10: a recovery procedure with RTO/RPO, proven by a GameDay) on real processes over
 * loopback, built on the failover drill's machinery (cluster.ts, drill.ts's Load). Every cycle is a fresh pair — an
 * external sim venue, node-a leading, node-b its standby, order load against whichever leads — and one fault:
 *
 * - `failover`: node-a is SIGKILLed; node-b takes over; node-a is restarted on its own data dir and rejoins.
 * - `site-loss`: node-a is SIGKILLed and its data directory deleted (the host and its disk are gone); node-b takes
 *   over from its replica, and a replacement node-c starts on an empty data directory once node-b leads (the
 *   README's procedure) and rebuilds from node-b (snapshot + log over replication).
 *   With `earlyStart`, node-c starts right after the loss instead, while the lease is free and node-b is held back
 *   (SIGSTOP): the empty node must not take the lease (the takeover guard refuses it: LEASE_NOT_IN_SYNC, outside the
 *   in-sync set node-a's lease record names under synchronous replication; else LEASE_LOG_BEHIND, below its floor);
 *   once it has said so, node-b is let go (SIGCONT), takes over and leads, and node-c follows it. Before the guard the empty node led and every acknowledged order was lost.
 *
 * Measured per cycle: RTO = fault → the first order acknowledged (202) by the new leader; takeover = fault → the
 * survivor a ready leader; re-protected = fault → a standby replicating again (in sync under synchronous
 * replication). Under `fail_closed` a leader without a standby in sync takes no orders, so there the RTO includes the
 * rejoin. RPO = acknowledged orders the serving leader lacks afterwards (target 0). Then: every acknowledged order
 * also on the rejoined node, no duplicate client order id at the venue, nothing Unknown; both surviving nodes stopped
 * with SIGTERM and `egress replay-verify` run on their data directories (the rebuilt one is the recovered copy).
 *
 * Used by scripts/dr-gameday.ts (several cycles) and specs/runtime/ha/dr-site-loss.test.ts (one short cycle in CI).
 */

import { rmSync } from 'node:fs'
import type { KernelSection } from '../../../src/config/index.ts'
import { formatDecimal } from '../../../src/domain/decimal.ts'
import { Cluster, waitFor, type ClusterNode, type SyncPolicy } from './cluster.ts'
import { checkRecovered, replayVerifyDir, stopCleanly, type RecoveredChecks, type ReplayVerified } from './dr-checks.ts'
import { Load, median } from './drill.ts'

export const DR_SCENARIOS = ['failover', 'site-loss'] as const
export type DrScenario = (typeof DR_SCENARIOS)[number]

export interface DrOptions {
  scenarios: readonly DrScenario[]
  /** Cycles per scenario; each cycle is a fresh pair. */
  cycles: number
  leaseTtlMs: number
  clockSkewMs: number
  ratePerSec: number
  /** Load on the pair before the fault, and after the new leader's first acknowledgement. */
  loadBeforeMs: number
  loadAfterMs: number
  sync: SyncPolicy
  syncTimeoutMs: number
  /** The nodes' config `kernel` section (drill.ts DRILL_KERNEL: a reconcile grace that fits the loopback venue). */
  kernel: KernelSection
  /** site-loss: start the replacement right after the loss, the survivor held back (see the file comment). */
  earlyStart?: boolean
  verbose: boolean
  keep: boolean
  log: (line: string) => void
}

export interface DrCycle extends RecoveredChecks {
  scenario: DrScenario
  cycle: number
  rtoMs: number | null
  takeoverMs: number | null
  reprotectedMs: number | null
  ordersAcked: number
  /** Of those, acknowledged by the new leader after the fault. */
  ackedAfterFault: number
  /** earlyStart: the empty replacement took the lease (the defect the takeover guard closes); null when not run. */
  emptyNodeLed: boolean | null
  replayVerified: ReplayVerified[]
  failures: string[]
}

export interface DrScenarioSummary {
  scenario: DrScenario
  cycles: number
  /** Medians over the cycles that measured it (null if none did). */
  rtoMs: number | null
  rtoMsMax: number | null
  takeoverMs: number | null
  reprotectedMs: number | null
  rpoOrders: number
  ordersAcked: number
  /** earlyStart: cycles in which the empty replacement took the lease (target 0). */
  emptyNodeLeads: number
  venueDuplicates: number
  replayVerified: number
  replayVerifyRuns: number
  failures: number
  pass: boolean
}

export interface DrReport {
  sync: SyncPolicy
  earlyStart: boolean
  leaseTtlMs: number
  cycles: DrCycle[]
  summaries: DrScenarioSummary[]
  pass: boolean
  elapsedMs: number
}

export async function runGameDay(options: DrOptions): Promise<DrReport> {
  const started = Date.now()
  const cycles: DrCycle[] = []
  for (const scenario of options.scenarios) {
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      const result = await runCycle(scenario, cycle, options)
      cycles.push(result)
      const verified = result.replayVerified.map((each) => `${each.node} ${each.ok ? 'ok' : 'FAILED'} (LSN ${each.lastLsn}, ${each.snapshotsChecked} snapshots)`).join(', ')
      options.log(`${scenario} cycle ${cycle}: RTO ${result.rtoMs ?? '-'} ms (takeover ${result.takeoverMs ?? '-'} ms, re-protected ${result.reprotectedMs ?? '-'} ms), RPO ${result.rpoOrders} of ${result.ordersAcked} acknowledged, venue duplicates ${result.venueDuplicates}, replay-verify: ${verified}${result.failures.length === 0 ? '' : `; ${result.failures.length} failures`}`)
    }
  }
  const summaries = options.scenarios.map((scenario) => summarise(scenario, cycles.filter((each) => each.scenario === scenario)))
  return { sync: options.sync, earlyStart: options.earlyStart === true, leaseTtlMs: options.leaseTtlMs, cycles, summaries, pass: summaries.every((each) => each.pass), elapsedMs: Date.now() - started }
}

function summarise(scenario: DrScenario, cycles: readonly DrCycle[]): DrScenarioSummary {
  const measured = (pick: (cycle: DrCycle) => number | null): number[] => cycles.map(pick).filter((value): value is number => value !== null)
  const medianOrNull = (values: number[]): number | null => (values.length === 0 ? null : median(values))
  const rto = measured((cycle) => cycle.rtoMs)
  const sum = (pick: (cycle: DrCycle) => number): number => cycles.reduce((total, cycle) => total + pick(cycle), 0)
  const summary = {
    scenario, cycles: cycles.length, rtoMs: medianOrNull(rto), rtoMsMax: rto.length === 0 ? null : Math.max(...rto),
    takeoverMs: medianOrNull(measured((cycle) => cycle.takeoverMs)), reprotectedMs: medianOrNull(measured((cycle) => cycle.reprotectedMs)),
    rpoOrders: sum((cycle) => cycle.rpoOrders), ordersAcked: sum((cycle) => cycle.ordersAcked), emptyNodeLeads: cycles.filter((cycle) => cycle.emptyNodeLed === true).length, venueDuplicates: sum((cycle) => cycle.venueDuplicates),
    replayVerified: sum((cycle) => cycle.replayVerified.filter((each) => each.ok).length), replayVerifyRuns: sum((cycle) => cycle.replayVerified.length),
    failures: sum((cycle) => cycle.failures.length),
  }
  return { ...summary, pass: cycles.length > 0 && summary.failures === 0 && rto.length === cycles.length && summary.rpoOrders === 0 && summary.emptyNodeLeads === 0 && summary.venueDuplicates === 0 && summary.replayVerified === summary.replayVerifyRuns }
}

async function runCycle(scenario: DrScenario, cycle: number, options: DrOptions): Promise<DrCycle> {
  const log = (line: string): void => options.log(`${scenario} ${cycle}: ${line}`)
  const cluster = new Cluster({
    leaseTtlMs: options.leaseTtlMs, clockSkewMs: options.clockSkewMs, sync: options.sync, syncTimeoutMs: options.syncTimeoutMs, verbose: options.verbose, log,
    // The checks read every acknowledged order back from two nodes: far past a client's read budget.
    config: { kernel: options.kernel, backpressure: { read: { ratePerSec: 1_000_000, burst: 1_000_000 } } },
  })
  const result: DrCycle = {
    scenario, cycle, rtoMs: null, takeoverMs: null, reprotectedMs: null, ordersAcked: 0, ackedAfterFault: 0, emptyNodeLed: null, rpoOrders: 0, rebuiltMissing: 0, venueOrders: 0,
    venueDuplicates: 0, unknownLeft: 0, invariantErrors: 0, replayVerified: [], failures: [],
  }
  let load: Load | null = null
  try {
    await cluster.startVenue()
    const reference = cluster.venue?.referencePrice('BTC-USD') ?? null
    load = new Load(cluster, reference === null ? '60000' : formatDecimal(reference.price))
    const [lost, survivor] = [await cluster.addNode('node-a'), await cluster.addNode('node-b')]
    cluster.spawn(lost)
    await waitFor('node-a leading', 30_000, () => lost.isReadyLeader())
    cluster.spawn(survivor)
    await waitFor('node-b replicating', 30_000, () => survivor.isReplicatingStandby())
    if (options.sync !== 'off') await waitFor('node-a in sync with node-b', 30_000, async () => (await lost.health())?.ha?.sync?.state === 'sync')
    // The fault's time, and the first 202 after it from a node other than the one faulted (the new leader).
    const faulted: { atMs: number; firstAckAtMs: number | null } = { atMs: Number.POSITIVE_INFINITY, firstAckAtMs: null }
    load.onAck = ({ node, atMs }) => {
      if (node === lost || atMs < faulted.atMs) return
      result.ackedAfterFault++
      faulted.firstAckAtMs ??= atMs
    }
    load.start(cluster.nodes, options.ratePerSec)
    await Bun.sleep(options.loadBeforeMs)

    faulted.atMs = Date.now()
    lost.child?.kill('SIGKILL')
    await lost.child?.exited
    if (scenario === 'site-loss') rmSync(lost.dataDir, { recursive: true, force: true })
    log(`node-a killed${scenario === 'site-loss' ? ' and its data directory deleted' : ''}`)
    const early = scenario === 'site-loss' && options.earlyStart === true
    const rejoined = scenario === 'failover' ? lost : await cluster.addNode('node-c')
    if (early) {
      result.emptyNodeLed = await startEarly(cluster, { survivor, replacement: rejoined }, log)
      // The cycle ends here: the survivor would follow the empty leader and set its own log aside as diverged.
      if (result.emptyNodeLed) throw new Error(`${rejoined.name}, started on an empty data directory, took the lease from the lost leader: the acknowledged orders are on no leader's log`)
    }
    await waitFor('node-b taking over', options.leaseTtlMs + options.clockSkewMs + 30_000, () => survivor.isReadyLeader())
    result.takeoverMs = Date.now() - faulted.atMs
    // The procedure: a replacement starts once the survivor leads (earlyStart: it started before, and was refused).
    if (!early) cluster.spawn(rejoined)
    log(`node-b leads after ${result.takeoverMs} ms; ${rejoined.name} ${early ? 'was started' : 'started'} on ${scenario === 'failover' ? 'its own' : 'an empty'} data directory`)
    const reprotected = waitFor(`${rejoined.name} replicating${options.sync === 'off' ? '' : ' in sync'}`, 90_000, async () => {
      if (!(await rejoined.isReplicatingStandby())) return null
      return options.sync === 'off' || (await survivor.health())?.ha?.sync?.state === 'sync' ? Date.now() : null
    }).catch((error: unknown) => {
      result.failures.push(error instanceof Error ? error.message : String(error))
      return null
    })
    const firstAckAtMs = await waitFor('the first order acknowledged by the new leader', 90_000, async () => faulted.firstAckAtMs)
    result.rtoMs = firstAckAtMs - faulted.atMs
    await Bun.sleep(options.loadAfterMs)
    await load.stop()
    const reprotectedAtMs = await reprotected
    result.reprotectedMs = reprotectedAtMs === null ? null : reprotectedAtMs - faulted.atMs
    result.ordersAcked = load.acked.size
    Object.assign(result, await checkRecovered(cluster, { leader: survivor, rebuilt: rejoined }, [...load.acked.values()], result.failures))
    await stopCleanly([rejoined, survivor], result.failures)
    result.replayVerified = await Promise.all([survivor, rejoined].map((node) => replayVerifyDir(node)))
    for (const each of result.replayVerified) if (!each.ok) result.failures.push(`replay-verify ${each.node}: exit ${each.exitCode}, ${each.problems.join('; ')}`)
  } catch (error) {
    result.failures.push(error instanceof Error ? error.message : String(error))
    for (const node of cluster.nodes) node.child?.kill('SIGCONT') // a survivor still held back by startEarly
    for (const node of cluster.nodes) log(`${node.name} last stderr:\n  ${node.stderr.slice(-15).join('\n  ')}`)
  } finally {
    await load?.stop()
    await cluster.stop()
    if (options.keep) log(`kept ${cluster.work}`)
    else cluster.remove()
  }
  return result
}

/**
 * The early start: the survivor held back (SIGSTOP) so that the lease runs out with no standby to take it, and the
 * replacement started on its empty data directory. Waits until the replacement says the guard refused it
 * (`ha.takeover_refused`) — or until it leads, the defect — then lets the survivor go (SIGCONT). Returns whether the
 * empty node led (a cycle failure: what it acknowledges stands on a log without the acknowledged orders).
 */
async function startEarly(cluster: Cluster, nodes: { survivor: ClusterNode; replacement: ClusterNode }, log: (line: string) => void): Promise<boolean> {
  const { survivor, replacement } = nodes
  survivor.child?.kill('SIGSTOP')
  try {
    cluster.spawn(replacement)
    log(`${survivor.name} held back (SIGSTOP); ${replacement.name} started on an empty data directory while the lease runs out`)
    const outcome = await waitFor(`${replacement.name} refused the lease, or leading`, 30_000, async () => {
      const health = await replacement.health()
      const role = health?.ha?.role
      if (role === 'leader' || role === 'promoting') return 'led' as const
      return health?.ha?.takeover_refused != null ? ('refused' as const) : null
    })
    const refused = (await replacement.health())?.ha?.takeover_refused
    log(outcome === 'led' ? `${replacement.name} (empty) TOOK THE LEASE` : `${replacement.name} refused the lease: ${JSON.stringify(refused)}`)
    return outcome === 'led'
  } finally {
    survivor.child?.kill('SIGCONT')
  }
}

/** One line per scenario for a report. */
export function describeSummary(summary: DrScenarioSummary): string {
  return `${summary.scenario}: ${summary.pass ? 'PASS' : 'FAIL'}, ${summary.cycles} cycles; RTO median ${summary.rtoMs ?? '-'} ms (max ${summary.rtoMsMax ?? '-'}), takeover median ${summary.takeoverMs ?? '-'} ms, re-protected median ${summary.reprotectedMs ?? '-'} ms; RPO ${summary.rpoOrders} of ${summary.ordersAcked} acknowledged orders;${summary.emptyNodeLeads > 0 ? ` the empty replacement led in ${summary.emptyNodeLeads} cycles;` : ''} venue duplicates ${summary.venueDuplicates}; replay-verify ${summary.replayVerified}/${summary.replayVerifyRuns}`
}
