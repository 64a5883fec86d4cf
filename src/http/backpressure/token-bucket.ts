/**
 * A token bucket: `burst` tokens, refilled at `ratePerSec`. Integer-free arithmetic on a monotonic millisecond clock;
 * tokens are request counts, not money, so floating point is fine here.
 */

export interface BucketLimits {
  ratePerSec: number
  burst: number
}

/** A token taken: the one answer for every bucket (take runs several times per order). */
const TAKEN: { ok: true } = Object.freeze({ ok: true })

export class TokenBucket {
  private tokens: number
  private updatedMs: number
  private readonly limits: BucketLimits

  constructor(limits: BucketLimits, nowMs: number) {
    this.limits = limits
    this.tokens = limits.burst
    this.updatedMs = nowMs
  }

  /** Takes one token if there is one; otherwise returns how long until there will be (ms). */
  take(nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    this.refill(nowMs)
    if (this.tokens >= 1) {
      this.tokens -= 1
      return TAKEN
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.tokens) * 1000) / this.limits.ratePerSec) }
  }

  /** Gives a token back (the request it was taken for was refused further on, so it did no work). */
  refund(): void {
    this.tokens = Math.min(this.limits.burst, this.tokens + 1)
  }

  /** True when the bucket is full: forgetting it loses nothing. */
  full(nowMs: number): boolean {
    return this.untilFullMs(nowMs) === 0
  }

  /** How long until the bucket is full (ms), 0 when it is. */
  untilFullMs(nowMs: number): number {
    this.refill(nowMs)
    if (this.tokens >= this.limits.burst) return 0
    return Math.ceil(((this.limits.burst - this.tokens) * 1000) / this.limits.ratePerSec)
  }

  private refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.updatedMs)
    this.updatedMs = nowMs
    this.tokens = Math.min(this.limits.burst, this.tokens + (elapsedMs * this.limits.ratePerSec) / 1000)
  }
}
