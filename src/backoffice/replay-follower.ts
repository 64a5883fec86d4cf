/**
 * Keeps the replay ledger (replay-ledger.ts) close to the log's head between reconcile runs, and is the one place it
 * is folded asynchronously.
 *
 * Folding only when reconcile runs made each run a burst: everything logged in the last interval (≈ 3 µs a record:
 * read, CRC, decode, apply), or the whole log on the first run — 300 ms of CPU at the bench's half load, in 2 ms
 * slices one loop turn apart, which took the loop from intake for as long and set the p99. Following the log every
 * `intervalMs` spreads the same work evenly, and each slice is paced to a bounded share of the loop
 * (src/runtime/loop-share.ts), so a long catch-up (a start on a long log) never crowds intake out either. A
 * reconcile then folds only what the follower has not reached yet, paced the same way (backoffice.ts pacedPause).
 *
 * Folds never overlap: a fold started while another is suspended between slices would read from a stale position.
 * `catchUp` queues behind the fold under way; the background tick does nothing while `held()` (a reconcile, whose
 * synchronous final fold must not meet a fold suspended mid-way) and never starts a second fold.
 */

import type { Clock } from '../domain/clock.ts'
import type { Wal } from '../../wal/index.ts'
import { loopSharePause } from '../runtime/loop-share.ts'
import type { FoldOutcome, ReplayBase, ReplayLedger } from './replay-ledger.ts'

/** The back office's defaults: follow every 100 ms, hold at most a quarter of the loop, wait at most 50 ms a slice. */
export const REPLAY_FOLLOW_DEFAULTS = { intervalMs: 100, loopShareMax: 0.25, waitMsMax: 50 } as const

/** A fresh pause paced to the follower's share of the loop (src/runtime/loop-share.ts): its default between slices. */
export function followerPause(): () => Promise<void> {
  return loopSharePause({ shareMax: REPLAY_FOLLOW_DEFAULTS.loopShareMax, waitMsMax: REPLAY_FOLLOW_DEFAULTS.waitMsMax })
}

export interface ReplayFollowerOptions {
  wal: Wal
  replay: ReplayLedger
  /** Where the replay starts over when it cannot go on (genesis, or a snapshot section the log continues); null: none. */
  base: () => ReplayBase | null
  /** A fresh pause between slices for each fold (default: paced to REPLAY_FOLLOW_DEFAULTS.loopShareMax). */
  pause?: () => () => Promise<void>
}

export class ReplayFollower {
  private readonly options: ReplayFollowerOptions
  private readonly pauseFor: () => () => Promise<void>
  /** The fold under way (or the last one, settled): each fold starts after the one before it. */
  private tail: Promise<unknown> = Promise.resolve()
  private foldsPending = 0
  private timerCancel: (() => void) | null = null
  private stopped = false

  constructor(options: ReplayFollowerOptions) {
    this.options = options
    this.pauseFor = options.pause ?? followerPause
  }

  /**
   * Whether the replay can go on: it continues where it stopped while the log still holds what follows, else starts
   * over from the base (false when there is none). Never while a fold is under way (it would start over under it).
   */
  ready(): boolean {
    const { replay, wal } = this.options
    if (replay.continuesIn(wal)) return true
    if (this.foldsPending > 0) return false
    const base = this.options.base()
    if (base === null) return false
    replay.start(base)
    return true
  }

  /**
   * Folds up to `toLsn` after any fold under way, paced (or with `pause` between slices: a reconcile passes its own).
   * 'gap': see FoldOutcome.
   */
  catchUp(toLsn: number, options: { pause?: () => Promise<void> } = {}): Promise<FoldOutcome> {
    this.foldsPending++
    const fold = this.tail.then(() => this.options.replay.advance(this.options.wal, toLsn, options.pause ?? this.pauseFor()))
    this.tail = fold.catch(() => undefined)
    return fold.finally(() => this.foldsPending--)
  }

  /**
   * Every `intervalMs` on `clock`, folds up to `target()` unless `held()` or a fold is under way. A fold that fails
   * (a record it cannot decode) is left to the next reconcile, which folds the same records and reports the error.
   */
  follow(options: { clock: Clock; intervalMs: number; target: () => number; held: () => boolean }): void {
    if (this.stopped || this.timerCancel !== null) return
    const tick = (): void => {
      this.timerCancel = null
      if (this.stopped) return
      const toLsn = options.target()
      if (options.held() || this.foldsPending > 0 || toLsn <= this.options.replay.foldedLsn || !this.ready()) return arm()
      this.catchUp(toLsn)
        .catch(() => undefined)
        .finally(arm)
    }
    const arm = (): void => {
      if (!this.stopped) this.timerCancel = options.clock.schedule(options.intervalMs, tick)
    }
    arm()
  }

  /** Resolves when no fold is under way (a fold queued meanwhile is waited for too). */
  async idle(): Promise<void> {
    while (this.foldsPending > 0) await this.tail
  }

  /** Stops following and waits for the fold under way. */
  async stop(): Promise<void> {
    this.stopped = true
    this.timerCancel?.()
    this.timerCancel = null
    await this.idle()
  }
}
