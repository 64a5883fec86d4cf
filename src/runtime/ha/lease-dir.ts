/**
 * An HA node's reads and takes of the shared lease directory (wal/lease.ts): taking the lease when it is free, naming
 * the leader from the current lease, whose holder id carries the holder's advertised URL (`<node id> <url>`), and the
 * current epoch, above which no replicated frame is taken (a frame no lease holder wrote).
 */

import { Lease, LeaseError, LeaseLogBehindError, LeaseNotInSyncError, readCurrentLease, type LeaseRecord } from '../../../wal/index.ts'
import { sourceUrlOf } from '../backup/source-url.ts'
import type { TakeoverGuard } from './takeover-guard.ts'

export interface LeaseDirAccess {
  leaseDir: string
  leaseTtlMs: number
  clockSkewMsMax: number
}

/**
 * The lease taken for `holderId`, or null when another holds it (or won the race to take it), or when `guard` refuses
 * this node's log (LEASE_LOG_BEHIND) or finds it outside the record's in-sync set (LEASE_NOT_IN_SYNC; takeover-guard.ts:
 * told to `guard.refusal`). `stalled`: a record watched unchanged
 * for longer than it could be held (lease-watch.ts), taken as if expired while it is still current.
 */
export function acquireIfFree(access: LeaseDirAccess, holderId: string, guard: TakeoverGuard, stalled?: LeaseRecord): Lease | null {
  let lease: Lease
  try {
    lease = Lease.acquire({
      dir: access.leaseDir, holderId, ttlMs: access.leaseTtlMs, clockSkewMsMax: access.clockSkewMsMax, logEndLsn: guard.logEndLsn, logEpoch: guard.logEpoch, acceptDataLoss: guard.acceptDataLoss, nodeId: guard.nodeId,
      ...(stalled === undefined ? {} : { stalled }),
    })
  } catch (error) {
    if (error instanceof LeaseLogBehindError || error instanceof LeaseNotInSyncError) {
      guard.refusal.refused(error)
      return null
    }
    if (error instanceof LeaseError && error.code === 'LEASE_HELD') guard.refusal.cleared()
    if (error instanceof LeaseError && (error.code === 'LEASE_HELD' || error.code === 'LEASE_RACE_LOST')) return null
    throw error
  }
  guard.refusal.taken(lease)
  return lease
}

/**
 * The leader's URL as the current lease names it (null if none, if it has expired, if it cannot be read, or if it is
 * no node's base URL). The lease file comes from another host: its URL is checked as `egress backup` checks a leader
 * a node names (source-url.ts: absolute http(s), no credentials, query or fragment, bounded). Taken as it was, any
 * text was fetched with the replication token attached and handed to clients in NOT_LEADER.
 */
export function leaderUrlIn(access: LeaseDirAccess): string | null {
  let current: LeaseRecord | null
  try {
    current = readCurrentLease(access.leaseDir)
  } catch {
    return null
  }
  if (current === null || current.expiresAtMs + access.clockSkewMsMax < Date.now()) return null
  // The URL is the last word: the node id before it is the operator's and may hold spaces itself.
  const at = current.holderId.lastIndexOf(' ')
  if (at < 0) return null
  const checked = sourceUrlOf(current.holderId.slice(at + 1))
  return 'url' in checked ? checked.url : null
}

/**
 * The lease's current epoch (0 if there has never been one): the highest epoch any leader may have written frames at.
 * A standby refuses frames above it (Wal.appendFrames' `epochCeiling`). Throws LeaseError (LEASE_FILE_INVALID) if the
 * current lease cannot be read: the frames are then refused too, and the pull retried after a backoff.
 */
export function currentLeaseEpoch(access: Pick<LeaseDirAccess, 'leaseDir'>): number {
  return readCurrentLease(access.leaseDir)?.epoch ?? 0
}

/**
 * Whether the lease is free — none, or expired past the skew bound — as Lease.acquire judges it: a leader that renews
 * it no more is gone. False when the lease cannot be read (nothing is concluded from an unreadable file).
 */
export function leaseFree(access: Pick<LeaseDirAccess, 'leaseDir' | 'clockSkewMsMax'>): boolean {
  try {
    const current = readCurrentLease(access.leaseDir)
    return current === null || current.expiresAtMs + access.clockSkewMsMax <= Date.now()
  } catch {
    return false
  }
}
