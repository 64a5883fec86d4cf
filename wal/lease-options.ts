/**
 * What a lease is taken with (Lease.acquire, wal/lease.ts): its directory and holder, what the taker says of its own
 * log and node (judged against the current record's floor and in-sync set, wal/lease-floor.ts), its ttl and clocks.
 */

import type { WalIo } from './io.ts'
import type { LeaseRecord } from './lease-record.ts'

export interface LeaseOptions {
  dir: string
  holderId: string
  /**
   * Where the taker's durable log ends (its last LSN), read only when the lease is free and its record carries a log
   * floor or an in-sync set (so a caller may scan a closed log for it; a carried member's join LSN is capped at it,
   * wal/lease-floor.ts). Unset: the taker is not judged (LEASE_LOG_BEHIND never thrown).
   */
  logEndLsn?: () => number
  /**
   * The highest epoch of any frame in the taker's log (0: none), read only when the lease is free: the lease is taken
   * above it (see wal/lease.ts, "Epochs the log holds"). Unset: taken at the current record's epoch + 1.
   */
  logEpoch?: () => number
  /**
   * The taker's node id, judged against the record's in-sync set (see wal/lease.ts). Unset: not judged
   * (LEASE_NOT_IN_SYNC never thrown; wal callers outside HA).
   */
  nodeId?: string
  /** Take the lease even with a log below the record's floor, or from outside its in-sync set (see wal/lease.ts); the Lease says so (dataLossAccepted). */
  acceptDataLoss?: boolean
  ttlMs: number
  clockSkewMsMax: number
  io: WalIo
  /** Wall clock: the expiry written in the record, which other hosts compare with theirs. */
  nowMs: () => number
  /**
   * A clock that never steps (performance.now), for the holder's own deadline: a wall clock stepped back (NTP) must
   * not keep a lease held past its time. Defaults to `nowMs` when that is given (a simulated clock is both), else to
   * performance.now.
   */
  monotonicNowMs: () => number
  /**
   * A record the caller has seen unchanged for longer than its holder could hold it, on the caller's monotonic clock
   * (src/runtime/ha/lease-watch.ts): taken over like an expired one while it is still the current record, whatever
   * its expiry says. A holder whose wall clock ran ahead (its expiry far in this clock's future) that then died is
   * gone all the same: its own deadline runs on its monotonic clock, ttl after its last renewal began.
   */
  stalled?: LeaseRecord
}
