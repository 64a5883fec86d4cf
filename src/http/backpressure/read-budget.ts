/**
 * The read budget: a token bucket per caller (the token's `sub`) for the GET routes under /v1 — orders and their
 * events and explanations, the back office's reads, stats, audit reads, stream opens. Every one of them reads the
 * kernel's memory, the log or the query model and waits for the log to be durable; without a bound one token could
 * keep the gateway busy reading as fast as it could send, with no limit of its own the way new orders have theirs.
 *
 * Writes are not charged here: new orders, amends and idle flattens have the account and bot buckets (load-shedder.ts),
 * and cancels, flattens that act and kill switches must always pass. /health, /metrics and /openapi.json are outside
 * /v1 and never charged: a probe or a scraper must see an overloaded gateway.
 *
 * Bounded like the shedder's: at most `bucketsMax` callers' buckets, least recently used forgotten once full
 * (bucket-table.ts); a new caller when every bucket is in use waits until one refills.
 */

import { BucketTable } from './bucket-table.ts'
import { TokenBucket, type BucketLimits } from './token-bucket.ts'

export interface ReadBudgetOptions {
  limits: BucketLimits
  bucketsMax: number
  nowMs: () => number
}

export type ReadAdmission = { ok: true } | { ok: false; retryAfterSec: number }

export class ReadBudget {
  private readonly callers: BucketTable
  private readonly nowMs: () => number

  constructor(options: ReadBudgetOptions) {
    this.callers = new BucketTable(options.limits, options.bucketsMax)
    this.nowMs = options.nowMs
  }

  /** Callers with a bucket now (at most bucketsMax). */
  get size(): number {
    return this.callers.size
  }

  /** Takes one read for `sub`, or says when to retry (whole seconds, at least 1). */
  take(sub: string): ReadAdmission {
    const nowMs = this.nowMs()
    const bucket = this.callers.bucketOf(sub, nowMs)
    if (!(bucket instanceof TokenBucket)) return { ok: false, retryAfterSec: seconds(bucket.retryAfterMs) }
    const taken = bucket.take(nowMs)
    if (!taken.ok) return { ok: false, retryAfterSec: seconds(taken.retryAfterMs) }
    return { ok: true }
  }
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000))
}
