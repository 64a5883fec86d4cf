/**
 * What the DR GameDay (dr-gameday.ts) checks once a cycle has recovered: every order acknowledged before or after the
 * fault is on the serving leader (RPO in acknowledged orders) and on the node rebuilt or restarted beside it, the venue
 * saw no client order id twice, nothing is left Unknown or unsent; then both surviving nodes are stopped cleanly and
 * their data directories checked offline with `egress replay-verify`, the command the README's DR procedure runs.
 */

import { join } from 'node:path'
import { ROOT, waitFor, type Cluster, type ClusterNode } from './cluster.ts'

export interface RecoveredChecks {
  /** Acknowledged orders the serving leader does not hold: the RPO, in orders. */
  rpoOrders: number
  /** Acknowledged orders the rebuilt (or restarted) node does not hold once it has caught up. */
  rebuiltMissing: number
  venueOrders: number
  venueDuplicates: number
  unknownLeft: number
  invariantErrors: number
}

/** Reads every acknowledged order back from `leader` and `rebuilt`, and the venue's own counts. */
export async function checkRecovered(cluster: Cluster, nodes: { leader: ClusterNode; rebuilt: ClusterNode }, acked: readonly string[], failures: string[]): Promise<RecoveredChecks> {
  const { leader, rebuilt } = nodes
  const unknown = await waitFor('Unknown orders to converge', 15_000, async () => ((await cluster.ordersIn(leader, 'Unknown')).length === 0 ? true : null)).catch(() => false)
  const unknownLeft = unknown ? 0 : (await cluster.ordersIn(leader, 'Unknown')).length
  if (unknownLeft > 0) failures.push(`${unknownLeft} orders still Unknown on ${leader.name}`)
  // An acknowledged order still Enqueued could be sent after the venue is counted: wait until each has been sent.
  const unsent = async (): Promise<number> => {
    let count = 0
    for (const orderId of acked) if ((await cluster.orderStatus(leader, orderId)) === 'Enqueued') count++
    return count
  }
  await waitFor('acknowledged orders sent', 15_000, async () => ((await unsent()) === 0 ? true : null)).catch(async () => failures.push(`${await unsent()} acknowledged orders never sent by ${leader.name}`))
  let rpoOrders = 0
  for (const orderId of acked) if (!(await cluster.hasOrder(leader, orderId))) rpoOrders++
  if (rpoOrders > 0) failures.push(`${rpoOrders} acknowledged orders missing on the serving leader ${leader.name}`)
  // Caught up: at or past the leader's last LSN read just before (every acknowledged order is below it). Equal at two
  // reads was a race with a leader still writing (its reconciles and timers): under load it failed a cycle that had
  // recovered.
  await waitFor(`${rebuilt.name} caught up with ${leader.name}`, 30_000, async () => {
    const [l, r] = [await leader.health(), await rebuilt.health()]
    return l !== null && r !== null && r.ha?.replicating === true && r.log.last_lsn >= l.log.last_lsn ? true : null
  }).catch(() => failures.push(`${rebuilt.name} did not catch up with ${leader.name}`))
  let rebuiltMissing = 0
  for (const orderId of acked) if (!(await cluster.hasOrder(rebuilt, orderId))) rebuiltMissing++
  if (rebuiltMissing > 0) failures.push(`${rebuiltMissing} acknowledged orders missing on ${rebuilt.name} once caught up`)
  const venue = await cluster.inspectVenue()
  if (venue.duplicateClientOrderIds.length > 0) failures.push(`venue duplicate client order ids: ${venue.duplicateClientOrderIds.slice(0, 5).join(', ')}`)
  let invariantErrors = 0
  for (const node of cluster.nodes) {
    invariantErrors += node.invariantErrors.length
    if (node.invariantErrors.length > 0) failures.push(`${node.name} logged broken invariants: ${node.invariantErrors.slice(0, 3).join(' | ')}`)
  }
  return { rpoOrders, rebuiltMissing, venueOrders: venue.orders, venueDuplicates: venue.duplicateClientOrderIds.length, unknownLeft, invariantErrors }
}

/** How long a clean stop may take here: far under serve's own bound, the drill's nodes hold little. */
const STOP_WAIT_MS = 30_000

/**
 * SIGTERM, as an operator stops a node before copying or checking its data directory (a SIGKILLed node may leave a
 * torn tail that replay-verify reports). The standby first, so the leader's released lease finds no taker.
 */
export async function stopCleanly(nodes: readonly ClusterNode[], failures: string[]): Promise<void> {
  for (const node of nodes) {
    const child = node.child
    if (child === null) continue
    child.kill('SIGTERM')
    const code = await Promise.race([child.exited, Bun.sleep(STOP_WAIT_MS).then(() => null)])
    if (code === null) {
      failures.push(`${node.name} did not stop within ${STOP_WAIT_MS} ms of SIGTERM`)
      child.kill('SIGKILL')
      await child.exited
    } else if (code !== 0) failures.push(`${node.name} exited ${code} on SIGTERM: ${node.stderr.slice(-3).join(' | ')}`)
  }
}

export interface ReplayVerified {
  node: string
  ok: boolean
  exitCode: number
  lastLsn: number
  snapshotsChecked: number
  problems: string[]
}

/** `egress replay-verify DIR --json` as a child process (the CLI the procedure names, not the library call). */
export async function replayVerifyDir(node: ClusterNode): Promise<ReplayVerified> {
  const child = Bun.spawn([process.execPath, join(ROOT, 'src/main.ts'), 'replay-verify', node.dataDir, '--json'], { stdout: 'pipe', stderr: 'pipe' })
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const [out, err, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  clearTimeout(timer)
  try {
    const report = JSON.parse(out) as { ok: boolean; log: { lastLsn: number }; snapshots: unknown[]; problems: string[] }
    return { node: node.name, ok: report.ok && exitCode === 0, exitCode, lastLsn: report.log.lastLsn, snapshotsChecked: report.snapshots.length, problems: report.problems.slice(0, 5) }
  } catch {
    return { node: node.name, ok: false, exitCode, lastLsn: 0, snapshotsChecked: 0, problems: [`no JSON report (exit ${exitCode}): ${(out + err).slice(0, 500)}`] }
  }
}
