/**
 * Replays take turns on the event loop. A replay reads the log synchronously and decodes every record it passes (an
 * order's acceptance, with its decision record, costs ~40 µs), so a resume over a long log is long work: it ran as one
 * stretch of microtasks, each step of 512 records awaiting a room check that was already answered, and held the loop
 * until it reached the log's end — 175 ms for a 4,756-record log, seconds for a large one — with intake, the log's
 * acknowledgements and every other stream's heartbeats waiting behind it. Any reader could start one (an order
 * stream with `Last-Event-ID: 0` reads the whole retained log to find one order's events), 64 at a time.
 *
 * Now each step is bounded in time (`sliceMs`, checked as it reads) as well as in records, the steps of every replay
 * go one after another, and after each the turns pause so that replays together hold at most `shareMax` of the loop
 * (src/runtime/loop-share.ts). A replay waiting for its client's room has no step waiting.
 *
 * Turns go to callers, not to streams: the callers with a step waiting take one step each in turn (round robin), and
 * a caller's own streams take its turns in the order they asked. (In one queue of streams, a caller with 64 streams
 * replaying took 64 steps for every one of a caller with one, and so most of the replays' share.)
 */

import { checkLoopShare, pauseAfterSlice, type LoopShareOptions } from '../../runtime/loop-share.ts'

/** Replays' share of the loop: intake keeps at least half, and no replay step holds the loop past its slice. */
export const REPLAY_LOOP_SHARE: LoopShareOptions = { shareMax: 0.5, waitMsMax: 50 }

export interface ReplayTurnsOptions extends LoopShareOptions {
  /** The clock steps are timed by (default performance.now). */
  nowMs?: () => number
}

interface WaitingStep {
  step: () => void
  resolve: () => void
  reject: (error: unknown) => void
}

export class ReplayTurns {
  /** Callers with steps waiting, in turn order (the next to go first), each with its steps oldest first. */
  readonly #waiting = new Map<unknown, WaitingStep[]>()
  #running = false
  readonly #options: LoopShareOptions
  readonly #nowMs: () => number

  constructor(options: ReplayTurnsOptions = REPLAY_LOOP_SHARE) {
    checkLoopShare(options)
    this.#options = { shareMax: options.shareMax, waitMsMax: options.waitMsMax }
    this.#nowMs = options.nowMs ?? (() => performance.now())
  }

  /**
   * Runs `step` at `caller`'s turn (compared by identity; by default a caller of its own), never before a later
   * microtask; resolves when `step` has run (rejects as it threw). The next step waits for the pause after this one.
   */
  take(step: () => void, caller: unknown = step): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const steps = this.#waiting.get(caller)
      if (steps === undefined) this.#waiting.set(caller, [{ step, resolve, reject }])
      else steps.push({ step, resolve, reject })
      if (this.#running) return
      this.#running = true
      queueMicrotask(() => void this.run())
    })
  }

  /** Steps while any wait: the first caller in turn order runs its oldest, goes to the back, then the pause. */
  private async run(): Promise<void> {
    for (let next = this.#waiting.entries().next(); !next.done; next = this.#waiting.entries().next()) {
      const [caller, steps] = next.value
      const waiting = steps.shift() as WaitingStep
      this.#waiting.delete(caller)
      if (steps.length > 0) this.#waiting.set(caller, steps)
      const startedMs = this.#nowMs()
      try {
        waiting.step()
        waiting.resolve()
      } catch (error) {
        waiting.reject(error)
      }
      await pauseAfterSlice(this.#nowMs() - startedMs, this.#options)
    }
    this.#running = false
  }
}
