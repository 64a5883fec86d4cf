/**
 * The chain heads of the most recent LSNs, in a fixed ring. A seal signs the head at an LSN a little before its own
 * record (appends queued while it was being signed land in between), so checking it needs recent heads; the ring is
 * bounded at more than the writer's append-queue bound, which bounds how far behind its record a seal can be.
 */

import { assert } from '../domain/assert.ts'
import { HASH_BYTES } from './layout.ts'

/** More than the WAL's default queueRecordsMax (65,536): a seal cannot lag its record by more. */
export const HEAD_HISTORY_LSNS_DEFAULT = 131_072

export class HeadHistory {
  private readonly ring: Uint8Array
  private readonly capacity: number
  private lastLsn = 0
  private count = 0

  constructor(capacity = HEAD_HISTORY_LSNS_DEFAULT) {
    assert(Number.isInteger(capacity) && capacity > 0, 'head history capacity is a positive integer')
    this.capacity = capacity
    this.ring = new Uint8Array(capacity * HASH_BYTES)
  }

  /** Records the head at `lsn`; LSNs must be dense. */
  push(lsn: number, hash: Uint8Array): void {
    assert(this.count === 0 || lsn === this.lastLsn + 1, 'head history LSNs are dense')
    this.ring.set(hash, (lsn % this.capacity) * HASH_BYTES)
    this.lastLsn = lsn
    this.count = Math.min(this.count + 1, this.capacity)
  }

  /** The head at `lsn`, or null if it is not (or no longer) held. A view: copy it to keep it. */
  at(lsn: number): Uint8Array | null {
    if (this.count === 0 || lsn > this.lastLsn || lsn <= this.lastLsn - this.count) return null
    const start = (lsn % this.capacity) * HASH_BYTES
    return this.ring.subarray(start, start + HASH_BYTES)
  }
}
