/**
 * The leader side of an HA node (node.ts): taking the lead on a lease, keeping the lease, and stepping down.
 *
 * - Leader: holds the lease (renewed every ttl/4), writes the log, runs intake and the executor, serves replication.
 *   `lead` opens the log for writing at the lease's epoch and runs Gateway.start's bootstrap (in-flight → Unknown →
 *   reconcile → resend); only then does the node report itself leader and open intake. A start that fails gives the
 *   lease up (`giveUp`): a node that does not lead must not hold it.
 * - Step-down: a renewal that finds the lease lost (a newer epoch exists: a SIGSTOPped leader woken after a takeover)
 *   steps down at once: the gateway is stopped (its log already refuses to acknowledge, its executor refuses to call
 *   a venue) and the node restarts as a standby, where divergence detection deals with anything it wrote but never
 *   acknowledged.
 * - Synchronous replication (optional, sync.ts): each leadership term has its own SyncReplication, fed by the
 *   standby's acknowledgements; under `degrade_async` its transitions are recorded in the log (records.ts).
 *
 * Each function takes the node's view (node-core.ts) and runs inside one of its role changes.
 */

import { LeaseEpochUsedError, LeaseError, type Lease, type LeaseInSyncMember, type LeaseRecord } from '../../../wal/index.ts'
import type { Engine } from '../engine.ts'
import type { Gateway } from '../gateway.ts'
import { fatalFailureOf, throwIfLogDied } from './durable-fs.ts'
import { executorSendHold, leaderSync } from './leader-sync.ts'
import type { NodeCore } from './node-core.ts'
import type { SyncReplication } from './sync.ts'

/** Opens the log for writing at the lease's epoch, bootstraps, and only then reports leader. */
export async function lead(node: NodeCore, lease: Lease, takenAtMs: number | null): Promise<void> {
  // A takeover resumed after stop() began (it awaited its standby's stop) starts no leader: it would call venues.
  if (node.stopping) return giveUp(node, lease)
  node.lease = lease
  node.role = 'promoting'
  node.options.log(`lease epoch ${lease.epoch} taken; bootstrapping as leader`)
  // The term's replication and its send gate exist before bootstrap starts the executor: resends are gated too. Its
  // places and amends are held until the promotion has succeeded (Executor.holdPlaceSends): a start that fails after
  // bootstrap leaves nothing sent that only this node's log, set aside when it follows again, would record.
  const term: { sync: SyncReplication | null } = { sync: null }
  const beforeBootstrap = (engine: Engine, starting?: Gateway): void => {
    starting?.executor.holdPlaceSends()
    const sync = newSync(node, engine, () => node.sync === sync && (node.role === 'leader' || node.role === 'promoting'), lease, starting ?? null)
    term.sync = sync
    node.sync = sync
  }
  let gateway: Gateway | null = null
  try {
    node.finishInterruptedSwaps()
    gateway = await node.options.startGateway('leader', lease, beforeBootstrap)
    if (!node.stopping) {
      // Before the node reports leader on it: a start that ended with its lease lost, or its log dead, is a failed one.
      throwIfStartedWithout(lease, gateway)
      node.gateway = gateway
      node.watchLog(gateway)
      // A startGateway that did not call beforeBootstrap still gets its gate (from here on).
      if (term.sync === null) beforeBootstrap(gateway.engine, gateway)
      node.role = 'leader'
      node.options.onGateway(gateway)
      gateway.executor.releasePlaceSends()
    }
  } catch (error) {
    if (term.sync !== null && node.sync === term.sync) {
      term.sync.close()
      node.sync = null
    }
    // A node that does not lead must not hold the lease: kept, every tick would renew it and no other node could
    // ever take over. Giving it up also fences whatever the start got to (a log opened at this epoch, an executor
    // started): both re-check the lease before acknowledging or calling a venue.
    // A start refused a write by its lease (bootstrap's append, say) lost the lease while it started: read before the
    // lease is given up (released, it no longer reads as held). A log that already held frames of this epoch (another
    // holder wrote at it, LeaseEpochUsedError) may not be led at it either: given up, the next take is at a higher one.
    const lost = error instanceof LeaseError && !(error instanceof LeaseLostWhileStartingError) && (error instanceof LeaseEpochUsedError || !lease.isHeld())
    const failure = lost ? new LeaseLostWhileStartingError(lease.epoch, `the start failed (${error.message})`) : error
    giveUp(node, lease)
    // A gateway started but not led on (its lease lost meanwhile, its log dead, or the HTTP layer could not take it:
    // onGateway threw): stopped, as a start that failed, rather than left running unseen (its executor too) while the
    // node follows again.
    if (gateway !== null) {
      if (node.gateway === gateway) node.gateway = null
      await gateway.stop().catch((stopError: unknown) => node.options.log(`stopping a leader gateway not led on: ${String(stopError)}`))
    }
    throw failure
  }
  if (node.stopping) {
    // stop() began while it started (it gives the lease up once this change ends): a leader now would outlive it.
    term.sync?.close()
    if (node.sync === term.sync) node.sync = null
    await gateway.stop()
    node.role = 'stopped'
    return
  }
  if (takenAtMs !== null) node.lastTakeoverMs = Date.now() - takenAtMs
  node.options.log(`leader at epoch ${lease.epoch}, log at LSN ${gateway.engine.wal.lastLsn}; bootstrap ${JSON.stringify(gateway.bootstrapReport)}`)
}

/**
 * A leader gateway whose start ended with its lease lost — a renewal that came too late under load (the start blocks
 * the loop for a while), a newer epoch taken meanwhile — or with its log dead: thrown as a failed start (lead's catch
 * stops the gateway and gives the lease up), never reported leader. The lease's loss (LeaseLostWhileStartingError): the
 * node follows again and may take over later (following.ts; at start-up, node.ts). The gateway's log refuses every write once the
 * lease is lost (group commit's assertHeld; its log may already have died of such a refusal), so it sent nothing it
 * may not: a venue call follows its send record, durable only under the lease. Taken leader, its log refusing every
 * write, the node failed as NODE_STUCK at the end of the change (steady-state.ts) and the process exited, leaving
 * no leader after a site loss. Any other death of the log is thrown as it is (fatal: the node stops for good).
 */
function throwIfStartedWithout(lease: Lease, gateway: Gateway): void {
  const fatal = gateway.engine.wal.fatalError
  if (fatal instanceof LeaseError) throw new LeaseLostWhileStartingError(lease.epoch, `its log refused a write (${fatal.message})`)
  if (!lease.isHeld()) throw new LeaseLostWhileStartingError(lease.epoch, 'it is no longer held')
  throwIfLogDied(gateway)
}

/** LEASE_LOST: the lease was lost while the leader started (see throwIfStartedWithout); the node follows again. */
export class LeaseLostWhileStartingError extends LeaseError {
  constructor(
    readonly epoch: number,
    how: string,
  ) {
    super('LEASE_LOST', `lease epoch ${epoch} was lost while the leader started: ${how}; the gateway is stopped, not led on`)
  }
}

/**
 * Releases `lease` and leaves the leader's path: stopped if stop() has begun, else starting (to follow again).
 *
 * The epoch is spent: the next take is at the next one, so a node whose starts keep failing (a supervisor restarting
 * it) climbs one epoch per attempt. That is right: the log is opened for writing only under a lease held (Wal.open),
 * so the epoch must be taken before anything the start may refuse is known (the log, the snapshot, bootstrap), and
 * an epoch once taken is never taken again (another node may have seen it; fencing counts on that). A spent epoch
 * fences nothing that a lower one would not, and nothing was acknowledged at it. What can be known before taking is
 * checked first: the log's floor and last epoch (wal/lease.ts logEndLsn, logEpoch); the rest is bounded by one epoch
 * per start, far below LEASE_EPOCH_MAX (spec: runtime/ha/failed-start-epoch).
 */
export function giveUp(node: NodeCore, lease: Lease): void {
  // Taken below the floor (--accept-data-loss) but never led: released with its own log end as the floor, any node
  // (an empty one without the flag) could take it next and lead, and the copy holding the records be set aside.
  if (lease.dataLossAccepted !== null) lease.noteReplicated(lease.dataLossAccepted.replicatedLsn)
  lease.release()
  if (node.lease === lease) node.lease = null
  node.role = node.stopping ? 'stopped' : 'starting'
}

/**
 * The term's synchronous replication. Under a synchronous policy its in-sync set starts as the lease carried it over,
 * and a changed set is written into the lease by a renewal at once (not at the next tick): a joining standby's
 * acknowledgements count only once that record is durable (renewLease tells the term). Under `off` no set is kept, and
 * the record carries none (takers are judged by the floor alone, as before the set).
 */
function newSync(node: NodeCore, engine: Engine, isCurrent: () => boolean, lease: Lease, gateway: Gateway | null): SyncReplication {
  const setup = node.options.sync ?? { policy: 'off', timeoutMs: 1_000, waitersMax: 1 }
  // fail_closed: no place or amend is decided while the standby is not in sync (leader-sync.ts holdSends).
  const holdSends = executorSendHold(gateway)
  if (setup.policy === 'off') {
    lease.setInSync(undefined)
    return leaderSync(engine, { ...setup, log: node.options.log, isCurrent })
  }
  let renewalDue = false
  const publish = (members: LeaseInSyncMember[]): void => {
    lease.setInSync(members)
    if (renewalDue) return
    renewalDue = true
    setTimeout(() => {
      renewalDue = false
      if (node.lease === lease) void renewLease(node)
    }, 0)
  }
  return leaderSync(engine, { ...setup, log: node.options.log, isCurrent, inSync: { carried: lease.inSync ?? [], publish }, holdSends })
}

/**
 * Renews the lease held (the timer's tick) off the event loop (Lease.renewOffLoop: intake and decisions go on while
 * the disk syncs; the lease's previous expiry governs until the renewal is durable); a renewal that finds it lost
 * steps down, unless stop() has begun. One the file system refused (ENOSPC, EIO, a share gone for a moment) while the
 * lease still holds — by this node's clocks, no newer epoch — keeps the lead and is tried again at the next tick: the
 * lease was not lost, and stepping down at a blip meant a failover. The record it may have left half-done never
 * promises less than this node believes (its own expiry moves only once a record is written; one renamed into place
 * whose directory fsync failed promises more, which only makes a taker wait longer), and if the lease runs out
 * meanwhile its log and executor refuse at once and the next tick steps down. A renewal that ends after the node let
 * go of its lease (stepped down, gave it up, leads on a newer one) changes nothing. Never rejects.
 */
export async function renewLease(node: NodeCore): Promise<void> {
  const lease = node.lease
  if (lease === null) return
  // The floor the renewal writes (wal/lease.ts): what a standby acknowledged holding of this term's log. A taker whose
  // log ends below it is refused (takeover-guard.ts). Under synchronous replication every 202 is at or below it.
  lease.noteReplicated(node.sync?.standbyDurableLsn ?? 0)
  let written: LeaseRecord
  try {
    written = await lease.renewOffLoop()
  } catch (error) {
    if (node.lease === lease) renewalFailed(node, lease, error)
    return
  }
  // The in-sync set the renewal wrote (leading.ts newSync): durable now, its new members' acknowledgements count.
  if (written.inSync !== undefined && node.lease === lease) node.sync?.inSyncWritten(written.inSync)
}

/** A renewal of the lease the node holds failed: retried at the next tick while the lease holds, else a step-down. */
function renewalFailed(node: NodeCore, lease: Lease, error: unknown): void {
  if (!(error instanceof LeaseError) && lease.isHeld()) {
    node.options.log(`lease epoch ${lease.epoch}: renewal failed (${error instanceof Error ? error.message : String(error)}); the lease still holds, retrying at the next tick`)
    return
  }
  node.options.log(`lease epoch ${lease.epoch} lost (${error instanceof Error ? error.message : String(error)}); ${node.stopping ? 'stopping already' : 'stepping down'}`)
  if (!node.stopping) void node.exclusive('step-down', () => node.stepDown())
}

/**
 * Stops leading (the lease lost): the lease is let go of (letGoOf), the gateway and the term's replication stop, and
 * the node follows again.
 */
export async function stepDown(node: NodeCore): Promise<void> {
  if (node.role !== 'leader' && node.role !== 'promoting') return
  node.role = 'stepping-down'
  const gateway = node.gateway
  const lease = node.lease
  node.gateway = null
  node.lease = null
  if (lease !== null) letGoOf(node, lease)
  node.sync?.close()
  node.sync = null
  if (gateway !== null) {
    try {
      gateway.executor.stop()
      await gateway.stop()
    } catch (error) {
      if (fatalFailureOf(error) !== null) throw error // fatal: exclusive() stops the node
      // Following is tried all the same: a log this gateway still holds is refused to the standby (FOLLOW_FAILED).
      node.options.log(`stopping the deposed gateway: ${String(error)}`)
    }
    // Its log died other than of the lost lease (a failed close or fsync): fatal, never followed on (exclusive()).
    throwIfLogDied(gateway)
  }
  await node.follow()
}

/**
 * Releases the lease a node steps down from, before its gateway stops. A renewal still writing off the loop is
 * overtaken (Lease.release removes its temp file, so its rename places nothing): left to land, it extended the epoch
 * after the node had stepped down, and a standby waited up to one more TTL for a lease nobody held. Lost (the step-down's
 * reason), the lease is not written (release writes nothing then: another node may hold it). Held again (that renewal
 * landed between the failed check and this step), it is released as at stop, with the floor the standby acknowledged:
 * the standby takes over at once, and the gateway, still stopping, is fenced already. A release that fails to write
 * (EIO) is logged and the node follows all the same: the lease then runs out by itself.
 */
function letGoOf(node: NodeCore, lease: Lease): void {
  if (node.sync !== null) lease.noteReplicated(node.sync.standbyDurableLsn)
  try {
    lease.release()
  } catch (error) {
    node.options.log(`lease epoch ${lease.epoch}: releasing it at the step-down failed (${error instanceof Error ? error.message : String(error)}); it runs out by itself`)
  }
}
