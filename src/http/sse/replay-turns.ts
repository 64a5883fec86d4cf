/**
 * Replays take turns on the event loop. A replay reads the log synchronously and decodes every record it passes (an
 * order's acceptance, with its decision record, costs ~40 µs), so a resume over a long log is long work: it ran as one
 * stretch of microtasks, each step of 512 records awaiting a room check that was already answered, and held the loop
 * until it reached the log's end — 175 ms for a 4,756-record log, seconds for a large one — with intake, the log's
 * acknowledgements and every other stream's heartbeats waiting behind it. Any reader could start one (an order
 * stream with `Last-Event-ID: 0` reads the whole retained log to find one order's events), 64 at a time.
 *
 * Now each step is bounded in time (`sliceMs`, checked as it reads) as well as in records, the steps of every replay
 * go one after another through one queue, and after each the queue pauses so that replays together hold at most
 * `shareMax` of the loop (src/runtime/loop-share.ts). A replay waiting for its client's room is not in the queue.
 */

import { checkLoopShare, pauseAfterSlice, type LoopShareOptions } from '../../runtime/loop-share.ts'

/** Replays' share of the loop: intake keeps at least half, and no replay step holds the loop past its slice. */
export const REPLAY_LOOP_SHARE: LoopShareOptions = { shareMax: 0.5, waitMsMax: 50 }

export interface ReplayTurnsOptions extends LoopShareOptions {
  /** The clock steps are timed by (default performance.now). */
  nowMs?: () => number
}

export class ReplayTurns {
  #queue: Promise<void> = Promise.resolve()
  readonly #options: LoopShareOptions
  readonly #nowMs: () => number

  constructor(options: ReplayTurnsOptions = REPLAY_LOOP_SHARE) {
    checkLoopShare(options)
    this.#options = { shareMax: options.shareMax, waitMsMax: options.waitMsMax }
    this.#nowMs = options.nowMs ?? (() => performance.now())
  }

  /**
   * Runs `step` once every step queued before it has run and the pause after it has passed; resolves when `step` has
   * run (rejects as it threw). The next step waits for the pause after this one.
   */
  take(step: () => void): Promise<void> {
    let sliceMs = 0
    const turn = this.#queue.then(() => {
      const startedMs = this.#nowMs()
      try {
        step()
      } finally {
        sliceMs = this.#nowMs() - startedMs
      }
    })
    const pause = (): Promise<void> => pauseAfterSlice(sliceMs, this.#options)
    this.#queue = turn.then(pause, pause)
    return turn
  }
}
