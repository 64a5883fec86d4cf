/**
 * The log floor and the in-sync set of a lease record (wal/lease.ts `replicatedLsn`, `inSync`; wal/lease-in-sync.ts):
 * what a taker of a free lease writes into its new record, and whether it may take the lease at all.
 */

import { LeaseLogBehindError, LeaseNotInSyncError } from './errors.ts'
import { carriedInSync, membershipOf, nextPreviousHolder, type LeaseInSyncMember } from './lease-in-sync.ts'
import type { LeaseOptions } from './lease-options.ts'
import type { LeaseRecord } from './lease-record.ts'

/** A taker that went below the floor, or took over from outside the in-sync set, with acceptDataLoss. */
export interface DataLossAccepted {
  holderId: string
  epoch: number
  replicatedLsn: number
  logEndLsn: number
  /** Why it was refused without the flag: its log below the floor, or not in the record's in-sync set. */
  reason: 'log_behind' | 'not_in_sync'
}

/** What a taker's new record starts with. */
export interface TakenFloor {
  replicatedLsn: number
  dataLossAccepted: DataLossAccepted | null
  /** The in-sync set carried over (absent: the record had none, or the taker accepted the loss and starts afresh). */
  inSync: LeaseInSyncMember[] | undefined
  /** The holder the new record names as its previous one (wal/lease-in-sync.ts nextPreviousHolder); undefined: none. */
  previousHolder: string | undefined
}

/**
 * The floor a taker of a free lease starts its record with, or LeaseNotInSyncError / LeaseLogBehindError.
 * - A record with an in-sync set refuses a taker that names itself (`nodeId`) and is neither a member nor the record's
 *   holder, nor — while the set is empty — its previous holder (wal/lease-in-sync.ts); a member is held to the floor
 *   and to the LSN it joined at (its log held that much durably then), the holders to the floor.
 * - The floor: the current record's when the taker's log reaches it (or the taker is not judged), else — with
 *   acceptDataLoss — the taker's log end, which is all that is left of the history (a floor above it would refuse every
 *   node that follows this one). A taker that accepted a loss starts without a set: the members hold records it lacks.
 *   The last member taking over starts its record's floor at its own log end instead (see judged).
 * - The set carried on (without the taker): each member's join LSN at most the taker's log end, where the new history
 *   starts; and the record's holder named as the new one's previous holder (kept through its own retake of an empty
 *   set's lease, wal/lease-in-sync.ts nextPreviousHolder).
 */
export function logFloor(current: LeaseRecord | null, options: LeaseOptions): TakenFloor {
  if (current === null) return { replicatedLsn: 0, dataLossAccepted: null, inSync: undefined, previousHolder: undefined }
  return { ...judged(current, options), previousHolder: nextPreviousHolder(current, options.nodeId) }
}

/** Everything of logFloor's but the previous holder: the taker judged, and the floor and set it carries. */
function judged(current: LeaseRecord, options: LeaseOptions): Omit<TakenFloor, 'previousHolder'> {
  const replicatedLsn = current.replicatedLsn ?? 0
  const superseded = { holderId: current.holderId, epoch: current.epoch, replicatedLsn }
  let floor = replicatedLsn
  let lastMember = false
  if (current.inSync !== undefined && options.nodeId !== undefined) {
    const membership = membershipOf({ ...current, inSync: current.inSync }, options.nodeId)
    if (membership.kind === 'outside') {
      const logEndLsn = options.logEndLsn?.() ?? null
      if (options.acceptDataLoss !== true) {
        throw new LeaseNotInSyncError({ ...superseded, inSync: current.inSync.map((member) => member.nodeId) }, options.nodeId, logEndLsn)
      }
      const end = logEndLsn ?? 0
      return { replicatedLsn: end, dataLossAccepted: { ...superseded, logEndLsn: end, reason: 'not_in_sync' }, inSync: undefined }
    }
    if (membership.kind === 'member') floor = Math.max(floor, membership.joinedLsn)
    lastMember = membership.kind === 'member' && current.inSync.every((member) => member.nodeId === options.nodeId)
  }
  const carried = carriedInSync(current.inSync, options.nodeId)
  if (options.logEndLsn === undefined || (floor === 0 && !lastMember && (carried === undefined || carried.length === 0))) return { replicatedLsn, dataLossAccepted: null, inSync: carried }
  const logEndLsn = options.logEndLsn()
  // The last member taking over leaves the set empty, and the previous holder may then follow it judged by the floor
  // alone (wal/lease-in-sync.ts). The floor is at most one renewal old: answers of the old term above it were held by
  // this member, up to its log end, yet the previous holder's log may no longer reach them (set aside whole after a
  // divergence and re-synced from scratch, an old copy). Its floor is this log end, where the new history begins: a
  // log that reaches it holds every answer of the old term, and a term with no member answers none beyond it.
  if (lastMember && logEndLsn >= floor) return { replicatedLsn: Math.max(replicatedLsn, logEndLsn), dataLossAccepted: null, inSync: carried }
  // A join LSN is of the log the member joined in; this taker's history goes on from its own log end (every answer up
  // to then waited for every member, so none lies beyond it). Carried above it, it held the member to records this
  // history may never reach (LEASE_LOG_BEHIND for the node that holds everything acknowledged).
  const inSync = carried?.map((member) => ({ nodeId: member.nodeId, joinedLsn: Math.min(member.joinedLsn, logEndLsn) }))
  if (logEndLsn >= floor) return { replicatedLsn, dataLossAccepted: null, inSync }
  if (options.acceptDataLoss !== true) throw new LeaseLogBehindError({ ...superseded, replicatedLsn: floor }, logEndLsn)
  return { replicatedLsn: logEndLsn, dataLossAccepted: { ...superseded, replicatedLsn: floor, logEndLsn, reason: 'log_behind' }, inSync: undefined }
}
