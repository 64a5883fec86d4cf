/**
 * Which orders' reconcile items the executor's pick passes over (executor.ts): those with a read-back in flight, and
 * those whose venue did not answer one, until their backoff ends. Only the reconcile item is held, never a cancel.
 */

import { noteHoldChanged } from '../kernel/index.ts'
import { MinHeap } from '../kernel/min-heap.ts'
import type { ExecutorOptions } from './executor-options.ts'
import { READ_BACK_RETRY_AFTER_MS_MAX } from './read-back.ts'

/** Stale back-off ends kept beyond the live ones' number before a compaction (ReconcileHolds.backOff). */
const STALE_SLACK = 64

export class ReconcileHolds {
  /** Orders with a reconcile query in flight: only their reconcile item is held back, never their cancel. */
  readonly reconciling = new Set<string>()
  /** Orders whose venue did not answer a reconcile query: not asked again before the time stored here. */
  private readonly reconcileBackoff = new Map<string, number>()
  /**
   * The backoffs by their end, so a pump looks only at those that ended (a walk of every one per pump cost ~70 us with
   * 5,000 backing off, a venue unreachable). An entry whose time is no longer its order's in reconcileBackoff (set again
   * since) is stale: dropped when it reaches the top, or when they outnumber the live ones (compact). The top is always
   * live, so it is the first backoff's end.
   */
  private readonly backoffEnds = new MinHeap<string>()
  /** The time of the pick under way (`held` compares backoffs with it). */
  private pickNowMs = 0
  /** Reconcile items not to pick: a query in flight, or backing off until after the pick's time. */
  readonly held: Pick<ReadonlySet<string>, 'has'> = {
    has: (orderId) => {
      if (this.reconciling.has(orderId)) return true
      const dueMs = this.reconcileBackoff.get(orderId)
      return dueMs !== undefined && dueMs > this.pickNowMs
    },
  }
  /**
   * When the order's back-off ends (0: none): the pick sets its read-back aside until then (NextWorkOptions
   * reconcileHeldUntilMs) instead of looking at it again at every pick.
   */
  readonly heldUntilMs = (orderId: string): number => this.reconcileBackoff.get(orderId) ?? 0
  /** The executor's options: read at each use, as the executor read them. `engine`: whose work index a back-off tells. */
  private readonly options: Pick<ExecutorOptions, 'clock' | 'reconcileRetryMs'> & Partial<Pick<ExecutorOptions, 'engine'>>

  constructor(options: Pick<ExecutorOptions, 'clock' | 'reconcileRetryMs'> & Partial<Pick<ExecutorOptions, 'engine'>>) {
    this.options = options
  }

  /** Sets the time of the pick about to be made, and returns it. */
  pickAt(nowMs: number): number {
    this.pickNowMs = nowMs
    return nowMs
  }

  /**
   * Drops the backoffs that have ended, once per pump: `held` reads the pick's time itself, so one expiring between
   * two picks of a pump is released at once, as before (no set is copied per pick).
   */
  dropExpired(): void {
    if (this.reconcileBackoff.size === 0) return
    const nowMs = this.options.clock.nowMs()
    const ends = this.backoffEnds
    while (ends.peekKey() <= nowMs) {
      const dueMs = ends.peekKey()
      const orderId = ends.pop() as string
      if (this.reconcileBackoff.get(orderId) === dueMs) this.reconcileBackoff.delete(orderId)
    }
    this.dropStaleTop()
  }

  /** The earlier of `dueMs` and the time the first backoff ends. */
  dueMsBefore(dueMs: number): number {
    return Math.min(dueMs, this.backoffEnds.peekKey())
  }

  /**
   * The order's reconcile item is not picked again before reconcileRetryMs from now, or the venue's Retry-After when it
   * gave a longer one (a throttled query: asked sooner, it would only be throttled again), up to
   * READ_BACK_RETRY_AFTER_MS_MAX. Never sooner than reconcileRetryMs: a Retry-After of 0 would loop at the venue's speed.
   */
  backOff(orderId: string, retryAfterMs: number | null = null): void {
    const { reconcileRetryMs } = this.options
    const waitMs = retryAfterMs === null ? reconcileRetryMs : Math.max(reconcileRetryMs, Math.min(Math.ceil(retryAfterMs), READ_BACK_RETRY_AFTER_MS_MAX))
    const dueMs = this.options.clock.nowMs() + waitMs
    if (this.reconcileBackoff.get(orderId) !== dueMs) {
      this.reconcileBackoff.set(orderId, dueMs)
      this.backoffEnds.push(dueMs, orderId)
      this.dropStaleTop()
      // Each backoff set again leaves a stale entry: dropped in one pass once they outnumber the live ones.
      if (this.backoffEnds.size > 2 * this.reconcileBackoff.size + STALE_SLACK) this.backoffEnds.retain((id, endMs) => this.reconcileBackoff.get(id) === endMs)
    }
    // A read-back set aside until an earlier back-off's end (a longer Retry-After) is looked at again for this one.
    if (this.options.engine !== undefined) noteHoldChanged(this.options.engine.state, orderId)
  }

  /** Pops the stale entries at the top, so the top is a live backoff's end (or there is none). */
  private dropStaleTop(): void {
    const ends = this.backoffEnds
    while (ends.size > 0 && this.reconcileBackoff.get(ends.peek() as string) !== ends.peekKey()) ends.pop()
  }
}
