/**
 * A leader's planned stop hands its log's tail to its standby before it lets the lease go (teardown.ts, the step after
 * the gateway's stop). By then intake has stopped and the log is closed: its last LSN is final, the stop's own records
 * and the shutdown seal included, and the replication stream sends up to it before it ends (stream.ts). The stop waits,
 * at most `waitMsMax`, for every standby connected to this leader (one that acknowledged within the lease's TTL: a
 * replicating standby acknowledges every envelope, heartbeats included) to acknowledge that LSN; with none connected it
 * does not wait. The lease, renewed meanwhile, is released after: the standby takes over holding the whole log.
 *
 * Before, the stop released the lease as soon as its gateway had stopped, and the standby took over without the last
 * records — under `off` and `degrade_async` orders answered 202 in the final batch too, under any policy the seal. A
 * crash is no planned stop: nothing of this runs, and the policies' guarantees are what they say.
 */

import type { Gateway } from '../gateway.ts'
import type { Lease } from '../../../wal/index.ts'
import type { NodeRole } from './node-options.ts'
import { standbyName, type SyncReplication } from './sync.ts'

/** How long a planned stop waits, by default, for its standbys to acknowledge its log's last LSN. */
export const TAIL_HANDOFF_WAIT_MS_MAX = 3_000

/** What of a stopping node the hand-off reads (HaNode). */
export interface StoppingLeader {
  role: NodeRole
  sync: SyncReplication | null
  gateway: Gateway | null
  lease: Lease | null
}

/**
 * The hand-off of a stopping node, if it leads: its lease still held, its log closed and healthy (a log that died holds
 * nothing more to hand over that it may vouch for). Resolves once done, either way; never throws.
 */
export function handTailAtStop(node: StoppingLeader, options: { leaseTtlMs: number; waitMsMax: number; log: (line: string) => void }): Promise<void> | undefined {
  const { sync, gateway, lease } = node
  if (node.role !== 'leader' || sync === null || gateway === null || lease === null || !lease.isHeld()) return undefined
  const wal = gateway.engine.wal
  if (!wal.hasClosed || wal.fatalError !== null) return undefined
  return handTail(sync, wal.lastLsn, { connectedWithinMs: options.leaseTtlMs, waitMsMax: options.waitMsMax, log: options.log })
}

/**
 * Waits until every standby that acknowledged within `connectedWithinMs` acknowledged `lastLsn`, at most `waitMsMax`,
 * and logs how it went.
 */
export async function handTail(sync: SyncReplication, lastLsn: number, options: { connectedWithinMs: number; waitMsMax: number; log: (line: string) => void }): Promise<void> {
  const connected = [...sync.standbysWithin(options.connectedWithinMs).keys()]
  if (connected.length === 0) {
    options.log(`stop: no standby connected; the log ends at LSN ${lastLsn}, not waiting for one`)
    return
  }
  const behind = (): string[] => connected.filter((nodeId) => sync.ackedBy(nodeId) < lastLsn)
  const startedMs = Date.now()
  const done = Promise.withResolvers<void>()
  const timer = setTimeout(done.resolve, options.waitMsMax)
  sync.onAcknowledged = () => {
    if (behind().length === 0) done.resolve()
  }
  try {
    if (behind().length > 0) await done.promise
  } finally {
    clearTimeout(timer)
    sync.onAcknowledged = null
  }
  const late = behind()
  if (late.length === 0) {
    options.log(`stop: handed the tail to the standby through LSN ${lastLsn} (${connected.map(standbyName).join(', ')}, ${Date.now() - startedMs} ms)`)
    return
  }
  const where = late.map((nodeId) => `${standbyName(nodeId)} at LSN ${sync.ackedBy(nodeId)}`).join(', ')
  options.log(`stop: the standby did not confirm LSN ${lastLsn} within ${options.waitMsMax} ms (${where}); releasing the lease all the same`)
}
