/**
 * The load shedder's buckets by key (an account or a bot), bounded at `bucketsMax` and kept in least-recently-used
 * order: a Map iterates in insertion order, so a bucket moved to the end on every use leaves the least recently used
 * first, and both the lookup and the eviction are O(1) — a flood of distinct keys costs no scan of the table.
 *
 * Only a full bucket is ever forgotten: it holds no state worth keeping (a new one starts full too), so no client
 * gains tokens by being evicted. When the table is at its bound and the least recently used bucket is not full yet,
 * every bucket in it was used within the last refill time, and the new key is refused (the caller answers 429) until
 * that bucket refills, rather than resetting the limit of a client that is still under it. With the default bound
 * that takes `bucketsMax` distinct keys each sending within one refill time.
 */

import { TokenBucket, type BucketLimits } from './token-bucket.ts'

/** No room for a new key's bucket: every bucket not full, the oldest full again after `retryAfterMs`. */
export interface BucketsFull {
  ok: false
  retryAfterMs: number
}

export class BucketTable {
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly limits: BucketLimits
  private readonly bucketsMax: number

  constructor(limits: BucketLimits, bucketsMax: number) {
    this.limits = limits
    this.bucketsMax = bucketsMax
  }

  get size(): number {
    return this.buckets.size
  }

  /**
   * The bucket for `key`, now the most recently used; a new one if there is room or a full bucket to forget; else why
   * there is none. The bucket itself, not wrapped: this is on the shedder's per-order path.
   */
  bucketOf(key: string, nowMs: number): TokenBucket | BucketsFull {
    const found = this.buckets.get(key)
    if (found !== undefined) {
      this.buckets.delete(key)
      this.buckets.set(key, found)
      return found
    }
    if (this.buckets.size >= this.bucketsMax) {
      const oldest = this.buckets.entries().next()
      if (oldest.done !== true) {
        const [oldestKey, oldestBucket] = oldest.value
        const untilFullMs = oldestBucket.untilFullMs(nowMs)
        if (untilFullMs > 0) return { ok: false, retryAfterMs: untilFullMs }
        this.buckets.delete(oldestKey)
      }
    }
    const bucket = new TokenBucket(this.limits, nowMs)
    this.buckets.set(key, bucket)
    return bucket
  }
}
