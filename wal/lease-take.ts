/**
 * Taking a lease (Lease.acquire, wal/lease.ts): the options' defaults and bounds, and the take itself — the current
 * record read, refused while it is live, the floor judged (lease-floor.ts), and the next epoch linked. The file comment
 * of wal/lease.ts says what an epoch fences and why the epochs a taker's log holds are passed first.
 */

import { makeDirDurable } from './durable-dir.ts'
import { LeaseError } from './errors.ts'
import { nodeIo } from './io.ts'
import { linkEpochFile } from './lease-epoch-files.ts'
import { logFloor, type TakenFloor } from './lease-floor.ts'
import type { LeaseOptions } from './lease-options.ts'
import { highestEpoch, LEASE_EPOCH_MAX, LEASE_TTL_MS_MAX, readCurrentLease, sameLeaseRecord, type LeaseRecord } from './lease-record.ts'

/** A lease just taken: its epoch, its expiry by the wall clock and by the monotonic one, and its floor. */
export interface TakenEpoch extends TakenFloor {
  epoch: number
  expiresAtMs: number
  deadlineMonotonicMs: number
}

/** `partial` with the defaults (ttl 5 s, skew 500 ms, the node's io and clocks); a ttl out of bounds is a RangeError. */
export function leaseOptionsOf(partial: Partial<LeaseOptions> & { dir: string; holderId: string }): LeaseOptions {
  const options: LeaseOptions = {
    ttlMs: 5000, clockSkewMsMax: 500, io: nodeIo, nowMs: Date.now, monotonicNowMs: partial.nowMs ?? (() => performance.now()), ...partial,
  }
  // A record with a longer lease is refused when read (lease-record.ts): never written.
  if (!Number.isSafeInteger(options.ttlMs) || options.ttlMs < 1 || options.ttlMs > LEASE_TTL_MS_MAX) {
    throw new RangeError(`ttlMs must be a whole number of milliseconds in 1..${LEASE_TTL_MS_MAX}, got ${options.ttlMs}`)
  }
  return options
}

/**
 * Takes the lease with epoch = current + 1 (or the taker's log's last epoch + 1 when that is higher: `logEpoch`) if
 * there is none or the current one has expired (past its expiry plus the skew bound). Throws LeaseError('LEASE_HELD')
 * if it is live, 'LEASE_RACE_LOST' if another process took the same epoch (or one passed on the way) first,
 * LeaseLogBehindError ('LEASE_LOG_BEHIND') if the taker's log ends below the current record's floor,
 * LeaseNotInSyncError ('LEASE_NOT_IN_SYNC') if the record's in-sync set does not name it (either unless
 * acceptDataLoss).
 */
export function takeEpoch(options: LeaseOptions): TakenEpoch {
  const { io, dir } = options
  makeDirDurable(io, dir)
  const current = readCurrentLease(dir, io)
  // Both clocks are read before the record is written: the deadline counts from no later than the record's expiry.
  const monotonicNow = options.monotonicNowMs()
  const now = options.nowMs()
  const stalled = current !== null && options.stalled !== undefined && sameLeaseRecord(current, options.stalled)
  if (current !== null && current.expiresAtMs + options.clockSkewMsMax > now && !stalled) {
    throw new LeaseError('LEASE_HELD', `epoch ${current.epoch} is held by ${current.holderId} until ${new Date(current.expiresAtMs).toISOString()}`)
  }
  const floor = logFloor(current, options)
  const currentEpoch = current?.epoch ?? 0
  const epoch = Math.max(currentEpoch, options.logEpoch?.() ?? 0) + 1
  if (epoch > LEASE_EPOCH_MAX) throw new LeaseError('LEASE_FILE_INVALID', `epoch ${epoch - 1} is the highest a log frame carries: no epoch is left to take over with`)
  const expiresAtMs = now + options.ttlMs
  const record: LeaseRecord = {
    holderId: options.holderId, epoch, expiresAtMs, renewedAtMs: now, replicatedLsn: floor.replicatedLsn, ...(floor.inSync === undefined ? {} : { inSync: floor.inSync }),
    ...(floor.previousHolder === undefined ? {} : { previousHolder: floor.previousHolder }),
  }
  // The epochs the taker's log holds above the current record's are each linked first, in turn, as released
  // records (see wal/lease.ts's file comment): every link a race point, as any take's.
  for (let passed = currentEpoch + 1; passed < epoch; passed++) linkEpochFile(io, dir, { ...record, epoch: passed, expiresAtMs: 0 })
  linkEpochFile(io, dir, record)
  io.fsyncDirectory(dir)
  // A taker paused between reading the current epoch and the link (in the normal run a few microseconds) while
  // later takers took this epoch and more, and tidied it away, re-created it: the link succeeded on a name already
  // used. Only a listing tells (its own file is there now): a newer epoch means this one was lost long ago.
  const newest = highestEpoch(dir, io)
  if (newest > epoch) throw new LeaseError('LEASE_RACE_LOST', `epoch ${epoch} was taken and tidied away before this taker linked it (epoch ${newest} exists)`)
  return { epoch, expiresAtMs, deadlineMonotonicMs: monotonicNow + options.ttlMs, ...floor }
}
