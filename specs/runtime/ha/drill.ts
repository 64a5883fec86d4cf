/**
 * The failover drill (issue 8), on real processes over loopback: an external sim venue, two nodes sharing a lease
 * directory, steady order load against whichever node leads. Each cycle faults the leader — kill -9, or SIGSTOP past
 * lease expiry then SIGCONT — and checks what must hold:
 *
 * - the standby becomes a ready leader within lease TTL + 2 s, every time. A takeover whose bootstrap found a venue
 *   call in flight (a send record the standby holds, the venue call perhaps never made) can only conclude "not at
 *   the venue" once the kernel's reconcile grace has passed since the send record; the nodes run with a grace that
 *   fits the drill's venue (`kernel.reconcileGraceMs` in their config file: the sim venue on loopback answers in
 *   milliseconds), so such takeovers meet the same bound. They are counted (takeoversAwaitingReconcile);
 * - every order acknowledged (202) exists on the new leader (guaranteed in sync mode; async mode may lose some);
 * - the venue holds no duplicate client order id (counted by the venue, not the gateway);
 * - every order left Unknown by the failover converges (reconciled to a known state);
 * - with SIGSTOP, the woken old leader acknowledges nothing (requests held open while it was stopped get no 202),
 *   makes no venue call, and steps down to standby;
 * - at the end, both nodes' logs verify independently (src/audit verifyLogDirectory) and share one chain.
 *
 * Used by scripts/failover-drill.ts (many cycles) and specs/runtime/ha/failover.test.ts (CI).
 */

import { join } from 'node:path'
import { hashesEqual, openReadOnly, toHex } from '../../../wal/index.ts'
import { verifyLogDirectory } from '../../../src/audit/index.ts'
import { formatDecimal } from '../../../src/domain/decimal.ts'
import type { KernelSection } from '../../../src/config/index.ts'
import { Cluster, waitFor, type ClusterNode, type SyncPolicy, type VenueInspect } from './cluster.ts'

export type DrillMode = 'kill9' | 'sigstop'

export interface DrillOptions {
  cycles: number
  mode: DrillMode
  leaseTtlMs: number
  clockSkewMs: number
  /** Orders per second offered by the load generator. */
  ratePerSec: number
  /** Load on the leader before each fault, and on the new leader after the takeover. */
  loadBeforeMs: number
  loadAfterMs: number
  sync: SyncPolicy
  syncTimeoutMs: number
  /** Slack allowed on top of the lease TTL for a takeover (issue 8: 2 s). */
  takeoverSlackMs: number
  /**
   * The nodes' config `kernel` section: the reconcile grace (and recheck interval) of the drill's venue. The default
   * grace (5 s) is for venues across a network; the loopback sim venue needs far less (see DRILL_KERNEL).
   */
  kernel: KernelSection
  verbose: boolean
  keep: boolean
  log: (line: string) => void
}

export interface DrillReport {
  mode: DrillMode
  cycles: number
  leaseTtlMs: number
  sync: SyncPolicy
  takeoverMs: number[]
  ordersAcked: number
  ackedLost: number
  venueOrders: number
  venuePlaceCalls: number
  venueDuplicates: number
  /** SIGSTOP: 202s from a woken deposed leader, and venue place calls made while only it could have made them. */
  deposedAcks: number
  /** Writes held open while the leader was stopped and answered 503 (NOT_LEADER) once it woke. */
  deposedRefused: number
  deposedSends: number
  /** Records a deposed node had written but never acknowledged, discarded by divergence re-sync. */
  discardedRecords: number
  /** Cycles whose deposed leader came back holding records the new leader lacks (DIVERGED: a re-sync). */
  divergences: number
  /** Of those, re-syncs that kept the log shared with the leader on disk (`kept_prefix_to_lsn` in the report). */
  divergencesPrefixKept: number
  /** Records the re-syncing nodes shared with the leader and fetched from it again (all of them when nothing was kept). */
  divergenceSharedRecordsFetched: number
  unknownLeft: number
  /** Final status of the acknowledged orders on the last leader. */
  ackedStatuses: Record<string, number>
  logsVerified: number
  /** Takeovers whose bootstrap found venue calls in flight (Unknown → reconcile), allowed the reconcile grace on top. */
  takeoversAwaitingReconcile: number
  /** Standby shadow mode, summed over the standbys just before each fault: leader commands decided again, mismatches. */
  shadowDecisions: number
  shadowMismatches: number
  /** Lines the nodes logged about a broken invariant (assertion failed, a durable listener failing), over the run. */
  invariantErrors: number
  failures: string[]
  elapsedMs: number
}

export async function runDrill(options: DrillOptions): Promise<DrillReport> {
  const started = Date.now()
  const cluster = new Cluster({
    leaseTtlMs: options.leaseTtlMs, clockSkewMs: options.clockSkewMs, sync: options.sync, syncTimeoutMs: options.syncTimeoutMs, verbose: options.verbose, log: options.log,
    // The checks read every acknowledged order back, over and over while they wait: far past a client's read budget.
    config: { kernel: options.kernel, backpressure: { read: { ratePerSec: 1_000_000, burst: 1_000_000 } } },
  })
  const report: DrillReport = {
    mode: options.mode, cycles: 0, leaseTtlMs: options.leaseTtlMs, sync: options.sync, takeoverMs: [], ordersAcked: 0, ackedLost: 0, venueOrders: 0,
    venuePlaceCalls: 0, venueDuplicates: 0, deposedAcks: 0, deposedRefused: 0, deposedSends: 0, discardedRecords: 0, divergences: 0, divergencesPrefixKept: 0, divergenceSharedRecordsFetched: 0, unknownLeft: 0, ackedStatuses: {}, logsVerified: 0, takeoversAwaitingReconcile: 0, shadowDecisions: 0, shadowMismatches: 0, invariantErrors: 0, failures: [], elapsedMs: 0,
  }
  try {
    await cluster.startVenue()
    const reference = cluster.venue?.referencePrice('BTC-USD') ?? null
    const load = new Load(cluster, reference === null ? '60000' : formatDecimal(reference.price))
    const [first, second] = [await cluster.addNode('node-a'), await cluster.addNode('node-b')]
    cluster.spawn(first)
    await waitFor('node-a leading', 30_000, () => first.isReadyLeader())
    cluster.spawn(second)
    await waitFor('node-b replicating', 30_000, () => second.isReplicatingStandby())
    options.log(`node-a leads, node-b follows; lease ttl ${options.leaseTtlMs} ms, mode ${options.mode}, sync ${options.sync}`)
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      await runCycle(cluster, load, options, report, cycle)
      report.cycles = cycle
    }
    await finalChecks(cluster, load, report, options)
  } catch (error) {
    report.failures.push(error instanceof Error ? error.message : String(error))
    for (const node of cluster.nodes) options.log(`${node.name} last stderr:\n  ${node.stderr.slice(-15).join('\n  ')}`)
  } finally {
    await cluster.stop()
    if (options.keep) options.log(`kept ${cluster.work}`)
    else cluster.remove()
  }
  report.elapsedMs = Date.now() - started
  return report
}

async function runCycle(cluster: Cluster, load: Load, options: DrillOptions, report: DrillReport, cycle: number): Promise<void> {
  const leader = await waitFor('a ready leader', 30_000, () => cluster.leader())
  const standby = cluster.nodes.find((node) => node !== leader) as ClusterNode
  await waitFor(`${standby.name} replicating`, 30_000, () => standby.isReplicatingStandby())
  // In sync mode, load starts once the leader counts the standby as caught up (fail_closed refuses orders before).
  if (options.sync !== 'off') await waitFor(`${leader.name} in sync with ${standby.name}`, 30_000, async () => (await leader.health())?.ha?.sync?.state === 'sync')
  const ackedBefore = load.acked.size
  load.start(cluster.nodes, options.ratePerSec)
  await Bun.sleep(options.loadBeforeMs)
  // The standby has been deciding the leader's commands again in shadow mode since it started: none may differ.
  const shadow = (await standby.health(2_000))?.ha?.shadow ?? null
  if (shadow === null) report.failures.push(`cycle ${cycle}: ${standby.name} reports no shadow decisions`)
  else {
    report.shadowDecisions += shadow.decisions
    report.shadowMismatches += shadow.mismatches
    if (shadow.mismatches > 0) report.failures.push(`cycle ${cycle}: ${shadow.mismatches} shadow mismatches on ${standby.name}: ${JSON.stringify(shadow.last_mismatches.slice(0, 2))}`)
  }
  const faultAt = Date.now()
  leader.child?.kill(options.mode === 'kill9' ? 'SIGKILL' : 'SIGSTOP')
  // Writes that reach the stopped leader wait in its socket backlog; they must not be acknowledged when it wakes.
  const held = options.mode === 'sigstop' ? load.holdOpen(leader, 4) : Promise.resolve([])
  const takeoverLimitMs = options.leaseTtlMs + options.takeoverSlackMs
  await waitFor(`${standby.name} takeover`, takeoverLimitMs + 10_000, () => standby.isReadyLeader())
  const takeoverMs = Date.now() - faultAt
  report.takeoverMs.push(takeoverMs)
  const bootstrap = lastBootstrapReport(standby)
  const awaitedReconcile = (bootstrap?.inFlightMarkedUnknown ?? 0) > 0
  if (awaitedReconcile) report.takeoversAwaitingReconcile++
  if (takeoverMs > takeoverLimitMs) {
    report.failures.push(`cycle ${cycle}: takeover took ${takeoverMs} ms, more than lease TTL + ${options.takeoverSlackMs} ms${awaitedReconcile ? ' (awaiting reconcile)' : ''} (bootstrap ${JSON.stringify(bootstrap)})`)
  }
  if (options.mode === 'kill9') {
    await leader.child?.exited
    cluster.spawn(leader)
  }
  await Bun.sleep(options.loadAfterMs)
  await load.stop()
  const acked = [...load.acked.values()].slice(ackedBefore)
  for (const orderId of acked) {
    if (!(await cluster.hasOrder(standby, orderId))) {
      report.ackedLost++
      report.failures.push(`cycle ${cycle}: acknowledged order ${orderId} missing on the new leader ${standby.name}`)
    }
  }
  if (options.mode === 'sigstop') await wakeDeposed(cluster, { deposed: leader, newLeader: standby }, held, report, { cycle, log: options.log })
  const unknown = await waitFor('Unknown orders to converge', 15_000, async () => ((await cluster.ordersIn(standby, 'Unknown')).length === 0 ? true : null)).catch(() => false)
  if (!unknown) report.failures.push(`cycle ${cycle}: orders still Unknown on ${standby.name}: ${(await cluster.ordersIn(standby, 'Unknown')).join(', ')}`)
  const back = await waitFor(`${leader.name} back as a replicating standby`, 30_000, async () => ((await leader.isReplicatingStandby()) ? leader.health() : null))
  const divergence = back?.ha?.last_divergence ?? null
  if (divergence !== null) {
    report.divergences++
    report.discardedRecords += divergence.discarded_count
    const keptToLsn = divergence.kept_prefix_to_lsn
    if (keptToLsn !== null) report.divergencesPrefixKept++
    report.divergenceSharedRecordsFetched += divergence.common_lsn - (keptToLsn ?? 0)
    options.log(`cycle ${cycle}: ${leader.name} diverged after LSN ${divergence.common_lsn} (${divergence.discarded_count} records of its own set aside); ${keptToLsn === null ? `log re-copied from the leader${divergence.fallback === null ? '' : ` (fallback: ${divergence.fallback})`}` : `kept its log through LSN ${keptToLsn}`}`)
  }
  options.log(`cycle ${cycle}: ${leader.name} ${options.mode === 'kill9' ? 'killed' : 'stopped'}; ${standby.name} leads after ${takeoverMs} ms${awaitedReconcile ? ` (bootstrap reconciled ${bootstrap?.inFlightMarkedUnknown} calls in flight, waited ${bootstrap?.waitedMs} ms)` : ''}; ${acked.length} acked this cycle`)
}

/**
 * The drill's kernel parameters. The grace is a venue latency bound counted from the send record: a request not
 * processed by then never will be. Here the call leaves the gateway at most the sync timeout (1 s) after its record
 * (the send gate waits for the standby's copy) and crosses loopback to `egress sim-venue`, which handles each line as
 * it reads it; and a new leader asks the venue only once the old lease has expired, at least the lease TTL after the
 * old leader's last possible call. 1 s (the sync timeout) is safe for this venue; 5 s (the default) is for venues
 * across a network. Asking again every 200 ms (default 1 s) ends a takeover that waits on the grace soon after it.
 */
export const DRILL_KERNEL: KernelSection = { reconcileGraceMs: 1_000, reconcileRecheckMs: 200 }

/** The bootstrap report of a node's last start as leader, from its log line (leading.ts: "leader at epoch …; bootstrap {…}"). */
function lastBootstrapReport(node: ClusterNode): { inFlightMarkedUnknown: number; waitedMs: number } | null {
  for (let index = node.stderr.length - 1; index >= 0; index--) {
    const line = node.stderr[index] as string
    const at = line.indexOf('; bootstrap {')
    if (at < 0 || !line.includes('leader at epoch')) continue
    try {
      return JSON.parse(line.slice(at + '; bootstrap '.length)) as { inFlightMarkedUnknown: number; waitedMs: number }
    } catch {
      return null
    }
  }
  return null
}

/** SIGCONT the stopped leader with the load stopped: it must acknowledge nothing, call no venue, and step down. */
async function wakeDeposed(
  cluster: Cluster,
  nodes: { deposed: ClusterNode; newLeader: ClusterNode },
  held: Promise<number[]>,
  report: DrillReport,
  { cycle, log }: { cycle: number; log: (line: string) => void },
): Promise<void> {
  const { deposed, newLeader } = nodes
  await Bun.sleep(300)
  const before = await settledVenue(cluster, newLeader.name)
  deposed.child?.kill('SIGCONT')
  const statuses = await held
  const acks = statuses.filter((status) => status === 202).length
  report.deposedAcks += acks
  report.deposedRefused += statuses.filter((status) => status === 503).length
  if (acks > 0) report.failures.push(`cycle ${cycle}: the woken deposed leader ${deposed.name} acknowledged ${acks} writes`)
  const role = await waitFor(`${deposed.name} stepping down`, 15_000, async () => {
    const health = await deposed.health()
    return health?.ha !== undefined && health.ha.role !== 'leader' && health.ha.role !== 'stepping-down' ? health.ha.role : null
  }).catch(() => 'leader')
  if (role === 'leader') report.failures.push(`cycle ${cycle}: the woken ${deposed.name} did not step down`)
  // Counted per node, the window may run until the deposed node follows again: by then its venue connection of the
  // term it led is closed (a standby start closes it), so a late call of that term is counted too.
  await waitFor(`${deposed.name} replicating again`, 30_000, async () => ((await deposed.isReplicatingStandby()) ? true : null)).catch(() => false)
  const after = await cluster.inspectVenue()
  const sends = placeCallsNotBy(after, newLeader.name) - placeCallsNotBy(before, newLeader.name)
  report.deposedSends += sends
  if (sends > 0) report.failures.push(`cycle ${cycle}: ${sends} venue place calls by the deposed ${deposed.name} after waking it (load stopped)`)
  const leaderSends = (after.placeCallsByClient[newLeader.name] ?? 0) - (before.placeCallsByClient[newLeader.name] ?? 0)
  if (leaderSends > 0) log(`cycle ${cycle}: ${leaderSends} place calls by the new leader ${newLeader.name} while ${deposed.name} woke (sends its replication gate held, resends)`)
}

/**
 * Place calls the venue counted on every connection but `leader`'s: each node names its venue connection after its
 * node id, so a call by the new leader (a send its replication gate held until the woken node rejoined as its standby,
 * a bootstrap resend) is not taken for the deposed node's. A connection that gave no name counts against the deposed.
 */
/**
 * The venue's counts once the calls the stopped node made before its stop have all been read: a call it wrote while it
 * still held the lease may sit in the venue's socket, unread, while the venue process waits for a CPU (a loaded
 * machine), and counted after the wake it read as a call of the woken node. Stopped, the node makes no call, so its
 * count moving between two reads 200 ms apart is only ever that; read until it holds still (at most ~5 s).
 */
async function settledVenue(cluster: Cluster, leader: string): Promise<VenueInspect> {
  let settled = await cluster.inspectVenue()
  for (let reads = 0; reads < 25; reads++) {
    await Bun.sleep(200)
    const next = await cluster.inspectVenue()
    if (placeCallsNotBy(next, leader) === placeCallsNotBy(settled, leader)) return next
    settled = next
  }
  return settled
}

function placeCallsNotBy(venue: VenueInspect, leader: string): number {
  return Object.entries(venue.placeCallsByClient).reduce((sum, [client, calls]) => (client === leader ? sum : sum + calls), 0)
}

/** Every acknowledged order on the final leader; both logs verify and agree up to the shorter one. */
async function finalChecks(cluster: Cluster, load: Load, report: DrillReport, options: DrillOptions): Promise<void> {
  const leader = await waitFor('a ready leader', 30_000, () => cluster.leader())
  const standby = cluster.nodes.find((node) => node !== leader) as ClusterNode
  // Acknowledged orders the executor has not sent yet get a moment (the last ones were accepted just now).
  const unsent = async (): Promise<string[]> => {
    const waiting: string[] = []
    for (const orderId of load.acked.values()) if ((await cluster.orderStatus(leader, orderId)) === 'Enqueued') waiting.push(orderId)
    return waiting
  }
  await waitFor('acknowledged orders sent', 10_000, async () => ((await unsent()).length === 0 ? true : null)).catch(async () => {
    const stuck = await unsent()
    report.failures.push(`${stuck.length} acknowledged orders still Enqueued (never sent) on ${leader.name}: ${stuck.slice(0, 3).join(', ')}`)
    const explain = await fetch(`${leader.url}/v1/orders/${stuck[0]}/explain`, { headers: { Authorization: `Bearer ${cluster.trader}` } }).then((response) => response.text())
    options.log(`explain ${stuck[0]}: ${explain.slice(0, 4_000)}`)
    options.log(`${leader.name} stderr:\n  ${leader.stderr.slice(-30).join('\n  ')}`)
  })
  for (const orderId of load.acked.values()) {
    const status = await cluster.orderStatus(leader, orderId)
    if (status === null) {
      report.ackedLost++
      report.failures.push(`acknowledged order ${orderId} missing on the final leader ${leader.name}`)
    } else report.ackedStatuses[status] = (report.ackedStatuses[status] ?? 0) + 1
  }
  report.ordersAcked = load.acked.size
  report.unknownLeft = (await cluster.ordersIn(leader, 'Unknown')).length
  const venue = await cluster.inspectVenue()
  report.venueOrders = venue.orders
  report.venuePlaceCalls = venue.placeCalls
  report.venueDuplicates = venue.duplicateClientOrderIds.length
  if (report.venueDuplicates > 0) report.failures.push(`venue duplicate client order ids: ${venue.duplicateClientOrderIds.slice(0, 5).join(', ')}`)
  await waitFor('the standby caught up', 15_000, async () => {
    const [l, s] = [await leader.health(), await standby.health()]
    return l !== null && s !== null && s.log.last_lsn === l.log.last_lsn && s.ha?.replicating === true ? true : null
  })
  await cluster.stop()
  for (const node of cluster.nodes) {
    report.invariantErrors += node.invariantErrors.length
    if (node.invariantErrors.length > 0) report.failures.push(`${node.name} logged broken invariants: ${node.invariantErrors.slice(0, 3).join(' | ')}`)
  }
  const verified = await Promise.all(cluster.nodes.map((node) => verifyLogDirectory(join(node.dataDir, 'log'))))
  for (const [index, result] of verified.entries()) {
    if (result.ok) report.logsVerified++
    else report.failures.push(`${cluster.nodes[index]?.name} log does not verify: ${JSON.stringify(result.firstProblem)}`)
  }
  // Both logs must be one history: the leader's chain hash at the standby's last LSN is the standby's head.
  const [leaderLog, standbyLog] = [openReadOnly(join(leader.dataDir, 'log')), openReadOnly(join(standby.dataDir, 'log'))]
  let shared: Uint8Array | null = null
  for (const frame of leaderLog.read(standbyLog.lastLsn, { toLsn: standbyLog.lastLsn })) shared = frame.hash
  if (shared === null || !hashesEqual(shared, standbyLog.chainHead)) {
    report.failures.push(`chains differ at LSN ${standbyLog.lastLsn}: leader ${shared === null ? 'none' : toHex(shared)}, standby ${toHex(standbyLog.chainHead)}`)
  }
  options.log(`final: ${report.ordersAcked} acked, ${report.ackedLost} lost, venue ${venue.orders} orders / ${venue.placeCalls} place calls, logs verified ${report.logsVerified}/2 at LSNs ${leaderLog.lastLsn}/${standbyLog.lastLsn}`)
}

/** Steady order load: one new idempotency key per tick, retried on every node (same key) until one answers 202. */
export class Load {
  readonly acked = new Map<string, string>()
  /** Told of each 202 as it arrives (which node answered, when): the DR GameDay times a recovery to the first one. */
  onAck: ((ack: { key: string; orderId: string; node: ClusterNode; atMs: number }) => void) | null = null
  attempts = 0
  refused = 0
  private running = false
  private loop: Promise<void> = Promise.resolve()
  private keySeq = 0
  private readonly body: string

  constructor(
    private readonly cluster: Cluster,
    price: string,
  ) {
    this.body = JSON.stringify({ account: 'demo-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', qty: '0.001', price })
  }

  start(nodes: readonly ClusterNode[], ratePerSec: number): void {
    this.running = true
    this.loop = (async () => {
      const inFlight = new Set<Promise<void>>()
      while (this.running) {
        const promise: Promise<void> = this.place(nodes, `drill-${++this.keySeq}`).finally(() => inFlight.delete(promise))
        inFlight.add(promise)
        await Bun.sleep(1_000 / ratePerSec)
      }
      await Promise.all(inFlight)
    })()
  }

  async stop(): Promise<void> {
    this.running = false
    await this.loop
  }

  /** Sends `count` writes to one node and keeps them open (30 s); resolves with the status of each (0: no answer). */
  async holdOpen(node: ClusterNode, count: number): Promise<number[]> {
    const answers = await Promise.all(Array.from({ length: count }, (_, index) => this.post(node, `held-${++this.keySeq}-${index}`, 30_000).catch(() => null)))
    return answers.map((answer) => answer?.status ?? 0)
  }

  private async place(nodes: readonly ClusterNode[], key: string): Promise<void> {
    for (let attempt = 0; attempt < 200 && this.running; attempt++) {
      for (const node of nodes) {
        this.attempts++
        const answer = await this.post(node, key, 1_000).catch(() => null)
        if (answer === null) continue
        if (answer.status === 202) {
          this.acked.set(key, answer.orderId)
          this.onAck?.({ key, orderId: answer.orderId, node, atMs: Date.now() })
          return
        }
        this.refused++
        // NOT_LEADER, the standby gone in sync mode, shedding: retry (same key); anything else is final.
        if (answer.status !== 503 && answer.status !== 429) return
      }
      await Bun.sleep(25)
    }
  }

  private async post(node: ClusterNode, key: string, timeoutMs: number): Promise<{ status: number; orderId: string }> {
    const response = await fetch(`${node.url}/v1/orders`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${this.cluster.trader}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
      body: this.body,
      signal: AbortSignal.timeout(timeoutMs),
    })
    const body = (await response.json().catch(() => ({}))) as { order_id?: string }
    return { status: response.status, orderId: body.order_id ?? '' }
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}
