/**
 * A follower's watch on the current lease record, for a lease whose expiry lies ahead of this node's clock.
 *
 * A taker judges expiry by its own wall clock (wal/lease.ts), so a record written by a holder whose wall clock ran
 * ahead — NTP gone wrong, a clock set by hand — reads as held until this clock reaches it: a holder that then died
 * left the pair without a leader for as long as its clock was ahead (an hour, a year), saying nothing. The watch needs
 * no clock of another host: a record this node has seen unchanged for longer than its holder could hold it — the
 * longer of this node's TTL and the record's own (expiry less renewal), plus the skew bound — on this node's monotonic
 * clock belongs to a holder that stopped renewing (it renews every TTL/4), and whose own deadline has passed: it runs
 * on the holder's monotonic clock, TTL after its last renewal began, which was before this node first saw the record.
 * Such a record is taken over as an expired one is (Lease.acquire `stalled`).
 *
 * A record is new when any of its fields changed (a renewal changes its times); a node that restarts watches afresh.
 *
 * The watch also keeps the highest epoch it has seen in a record (`epochSeenMax`), and a take is made above it as above
 * the log's last epoch (wal/lease.ts, "Epochs the log holds"). The lease directory emptied (by hand, a damaged disk)
 * under a leader of epoch n, a standby whose log holds no frame of n (replication behind, or nothing written at n yet)
 * took epoch n again — its log's last epoch + 1, the name free — and two leaders wrote at one epoch until the old
 * one's fencing check found the standby's file (its next batch; before, its next renewal). Taken above the epoch it
 * watched, the standby links n + 1, which fences the old leader at its next check, and no epoch is written by two.
 * Kept in memory only: a node that restarts, or never saw the record (taken and lost between two ticks), takes n again
 * as before.
 */

import { readCurrentLease, sameLeaseRecord, type Lease, type LeaseRecord } from '../../../wal/index.ts'
import { acquireIfFree, type LeaseDirAccess } from './lease-dir.ts'
import type { LeaseTrouble } from './lease-trouble.ts'
import type { TakeoverGuard } from './takeover-guard.ts'

export interface LeaseWatchLimits {
  leaseTtlMs: number
  clockSkewMsMax: number
}

export class LeaseWatch {
  private seen: { record: LeaseRecord; firstSeenMs: number } | null = null
  private epochSeenMaxNoted = 0

  constructor(private readonly monotonicNowMs: () => number = () => performance.now()) {}

  /** The highest epoch of a record this watch has seen (0: none), above which this node takes the lease. */
  get epochSeenMax(): number {
    return this.epochSeenMaxNoted
  }

  /** `current` if it is the record seen before and has not changed for longer than it could be held, else undefined. */
  stalled(current: LeaseRecord | null, limits: LeaseWatchLimits): LeaseRecord | undefined {
    const nowMs = this.monotonicNowMs()
    if (current !== null && current.epoch > this.epochSeenMaxNoted) this.epochSeenMaxNoted = current.epoch
    if (current === null || this.seen === null || !sameLeaseRecord(this.seen.record, current)) {
      this.seen = current === null ? null : { record: current, firstSeenMs: nowMs }
      return undefined
    }
    const holdMsMax = Math.max(limits.leaseTtlMs, current.expiresAtMs - current.renewedAtMs) + limits.clockSkewMsMax
    return nowMs - this.seen.firstSeenMs > holdMsMax ? current : undefined
  }
}

/** What takeLeaseIfGone reports to: the watch on the record, the lease directory's trouble, the node's log. */
export interface LeaseLooks {
  watch: LeaseWatch
  trouble: LeaseTrouble
  log: (line: string) => void
  /** This node's log against the lease record's floor (takeover-guard.ts). */
  guard: TakeoverGuard
}

/**
 * acquireIfFree, also taking a record `watch` finds stalled; says so when that record's expiry was still ahead of this
 * clock (its holder's clock is ahead of this one by more than the skew bound: something for the operator to fix).
 * A lease directory that cannot be read or written (LEASE_FILE_INVALID, an I/O error) takes nothing: null, told to
 * `trouble` (lease-trouble.ts), which says so once rather than at every tick.
 */
export function takeLeaseIfGone(access: LeaseDirAccess, holderId: string, looks: LeaseLooks): Lease | null {
  const { watch, trouble, log, guard } = looks
  let current: LeaseRecord | null
  try {
    current = readCurrentLease(access.leaseDir)
  } catch {
    current = null // unreadable: acquireIfFree throws its LEASE_FILE_INVALID, as before
  }
  const stalled = watch.stalled(current, access)
  // Above the epochs this node saw in use too, not only its log's (see the file comment).
  const aboveSeen: TakeoverGuard = { ...guard, logEpoch: () => Math.max(guard.logEpoch(), watch.epochSeenMax) }
  let lease: Lease | null
  try {
    lease = acquireIfFree(access, holderId, aboveSeen, stalled)
  } catch (error) {
    trouble.failed(error)
    return null
  }
  trouble.cleared()
  const aheadMs = stalled === undefined ? 0 : stalled.expiresAtMs - Date.now()
  if (lease !== null && stalled !== undefined && aheadMs + access.clockSkewMsMax > 0) {
    log(
      `lease epoch ${stalled.epoch} of ${stalled.holderId} taken over though it expires ${aheadMs} ms from now by this clock: it has not changed ` +
        `for longer than it could be held, so its holder's clock is ahead of this one by more than --clock-skew-ms (check the hosts' time sync)`,
    )
  }
  return lease
}
