/** Options of a writable log, with their bounds. Every queue and batch has a named limit (STYLE: limit everything). */

import type { WalIo } from './io.ts'
import type { TailCutGuard } from './tail-cut.ts'

export type Durability = 'fsync' | 'none'

/** What the writer checks before acknowledging each batch; see lease.ts. */
export interface LeaseGuard {
  readonly epoch: number
  /** Throws LeaseError if this process no longer holds the lease. */
  assertHeld(): void
}

/** Does a log's writer still hold its lease (always, for a log written without one)? */
export function leaseStillHeld(lease: LeaseGuard | null): boolean {
  if (lease === null) return true
  try {
    lease.assertHeld()
    return true
  } catch {
    return false
  }
}

export interface WalOptions {
  /** `fsync` (default): a batch is acknowledged after fdatasync. `none`: tests and paper mode only. */
  durability: Durability
  segmentBytesMax: number
  batchRecordsMax: number
  batchBytesMax: number
  queueRecordsMax: number
  queueBytesMax: number
  /** The epoch stamped on every frame. With a lease, the lease's epoch. */
  epoch: number
  lease: LeaseGuard | null
  io: WalIo
  indexStrideFrames: number
  verifyChainOnOpen: boolean
  /**
   * 0 (default): open checks the CRC and chain of every frame. n > 0: a restart from a snapshot at LSN n — the frame
   * n's stored hash is taken as the chain head (the snapshot's own head is compared with it when it loads), sealed
   * segments wholly below n are not read, and the chain is verified from n on. `Wal.verifyChainBelowAnchor()` checks
   * the skipped part when needed (falling back to an older snapshot or genesis); offline verifiers check everything.
   */
  chainAnchorLsn: number
  /**
   * The writer zero-fills the current segment this far ahead of its end. Overwriting preallocated blocks lets
   * fdatasync skip the file-size metadata update that every extending append would otherwise force through the
   * filesystem journal (measured by scripts/bench-wal.ts). 0 disables it.
   */
  preallocateBytes: number
  /**
   * How a flush is scheduled after an append. setImmediate (default) lets every append made while I/O callbacks run
   * join the batch; deterministic simulations pass queueMicrotask so flushes happen at a reproducible point.
   */
  scheduleFlush: (flush: () => void) => void
  /** What a writable open checks and sets aside before it cuts a torn tail (tail-cut.ts); none: it only cuts. */
  tailCut?: TailCutGuard
}

export const MIB = 1024 * 1024

export const defaultWalOptions = {
  durability: 'fsync',
  segmentBytesMax: 64 * MIB,
  batchRecordsMax: 4096,
  batchBytesMax: 4 * MIB,
  queueRecordsMax: 65_536,
  queueBytesMax: 64 * MIB,
  epoch: 1,
  lease: null,
  indexStrideFrames: 256,
  verifyChainOnOpen: true,
  chainAnchorLsn: 0,
  preallocateBytes: 4 * MIB,
  scheduleFlush: (flush: () => void): void => void setImmediate(flush),
} as const satisfies Omit<WalOptions, 'io'>

export function optionsProblem(options: WalOptions): string | null {
  if (options.durability !== 'fsync' && options.durability !== 'none') {
    return `durability must be "fsync" or "none", got ${String(options.durability)}`
  }
  if (!Number.isInteger(options.segmentBytesMax) || options.segmentBytesMax < 4096) {
    return `segmentBytesMax must be an integer ≥ 4096, got ${options.segmentBytesMax}`
  }
  if (!Number.isInteger(options.preallocateBytes) || options.preallocateBytes < 0) {
    return `preallocateBytes must be an integer ≥ 0, got ${options.preallocateBytes}`
  }
  if (!Number.isSafeInteger(options.chainAnchorLsn) || options.chainAnchorLsn < 0) {
    return `chainAnchorLsn must be an integer ≥ 0, got ${options.chainAnchorLsn}`
  }
  for (const key of ['batchRecordsMax', 'batchBytesMax', 'queueRecordsMax', 'queueBytesMax', 'indexStrideFrames'] as const) {
    if (!Number.isInteger(options[key]) || options[key] < 1) return `${key} must be a positive integer, got ${options[key]}`
  }
  if (!Number.isInteger(options.epoch) || options.epoch < 1 || options.epoch > 0xffff_ffff) {
    return `epoch must be an integer 1..2^32-1, got ${options.epoch}`
  }
  if (options.lease !== null && options.lease.epoch !== options.epoch) {
    return `epoch ${options.epoch} differs from the lease epoch ${options.lease.epoch}`
  }
  return null
}
