/**
 * Cutting a long walk on the event loop (a reconcile's pass over every order the ledger holds) into slices of bounded
 * time, with a pause between two slices, so the walk never holds the loop much longer than `sliceMs`.
 *
 * Why: such a walk grows with what is held, not with what changed. The reconcile's venue checks walked every held
 * order of an account in one synchronous stretch per check, at about 0.5 µs per order and walk (building the
 * client-id Maps of 32k orders took 17 ms). probe:reconcile (scripts/probe-reconcile-stalls.ts), 40k held orders over
 * 16 accounts: the longest stall fell from 7.9 to 5.0 ms and stalls over 5 ms from 10 to 1 per run (medians of 3). An
 * account holding what the README's sizing holds (100 orders/s for an hour, 360k) would have stalled ~0.2 s per walk.
 * Slicing does not bound the collector: with 160k held orders its pauses were 10–25 ms in either mode.
 *
 * The caller counts items and awaits `rest()` when `spent()` says so, rather than awaiting per item: an await per
 * order would cost more than the work. The clock is read once per `itemsPerClockCheck` items.
 */

/** How long one slice may hold the loop, and how many items pass between two looks at the clock. */
export const WORK_SLICE_DEFAULTS = { sliceMs: 2, itemsPerClockCheck: 64 } as const

export interface WorkSliceOptions {
  /** The longest a slice may run before the walk pauses (checked every `itemsPerClockCheck` items). */
  sliceMs: number
  /** Awaited between two slices (an event-loop turn, or a pause paced to a share of the loop). */
  pause: () => Promise<void>
  itemsPerClockCheck?: number
  /** The clock slices are timed by (default performance.now). */
  nowMs?: () => number
}

export class WorkSlices {
  readonly #sliceMs: number
  readonly #pause: () => Promise<void>
  readonly #itemsPerClockCheck: number
  readonly #nowMs: () => number
  #sliceStartMs: number
  #sinceClockCheck = 0

  constructor(options: WorkSliceOptions) {
    if (!(options.sliceMs > 0)) throw new RangeError(`sliceMs must be > 0, got ${options.sliceMs}`)
    const itemsPerClockCheck = options.itemsPerClockCheck ?? WORK_SLICE_DEFAULTS.itemsPerClockCheck
    if (!(Number.isSafeInteger(itemsPerClockCheck) && itemsPerClockCheck >= 1)) throw new RangeError(`itemsPerClockCheck must be a positive integer, got ${itemsPerClockCheck}`)
    this.#sliceMs = options.sliceMs
    this.#pause = options.pause
    this.#itemsPerClockCheck = itemsPerClockCheck
    this.#nowMs = options.nowMs ?? (() => performance.now())
    this.#sliceStartMs = this.#nowMs()
  }

  /** Counts one item done; true when the slice is used up and the caller is to `await rest()` before the next. */
  spent(): boolean {
    if (++this.#sinceClockCheck < this.#itemsPerClockCheck) return false
    this.#sinceClockCheck = 0
    return this.#nowMs() - this.#sliceStartMs >= this.#sliceMs
  }

  /** Pauses, then starts a new slice. Also for a caller about to await something else (a venue's answer). */
  async rest(): Promise<void> {
    await this.#pause()
    this.restarted()
  }

  /** Starts a new slice without pausing: the caller has just awaited (a venue's answer), so the loop has turned. */
  restarted(): void {
    this.#sliceStartMs = this.#nowMs()
    this.#sinceClockCheck = 0
  }
}

/** Slices that never pause: for callers (tests, offline tools) that want the walk in one stretch. */
export function unslicedWork(): WorkSlices {
  return new WorkSlices({ sliceMs: Number.POSITIVE_INFINITY, pause: async () => undefined, itemsPerClockCheck: Number.MAX_SAFE_INTEGER })
}
