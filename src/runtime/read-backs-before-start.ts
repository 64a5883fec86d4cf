/**
 * Read-backs asked for before the executor first starts (Executor.reconcileOrder). Venue sessions log on before
 * bootstrap, so a report can come — and be refused or dropped, which asks for its order to be read back — while the
 * executor is not started yet. Bootstrap reads back only the orders open at the venue as egress holds them, so a
 * request about any other order (one egress holds as ended, say) would be lost if dropped: it waits here instead, and
 * the start runs the waiting ones one at a time, oldest first. Bounded: past READ_BACKS_BEFORE_START_MAX a request is
 * refused (false), said once through `onRefused`.
 */

/** Read-backs that may wait for the executor's start at most. */
export const READ_BACKS_BEFORE_START_MAX = 10_000

export class ReadBacksBeforeStart {
  /** Order id → the callers waiting to learn whether it was read back. */
  readonly #waiting = new Map<string, Array<(asked: boolean) => void>>()
  readonly #onRefused: (orderId: string) => void
  #refusedSaid = false

  constructor(onRefused: (orderId: string) => void) {
    this.#onRefused = onRefused
  }

  get size(): number {
    return this.#waiting.size
  }

  /** Waits for the start's read-back of `orderId`: true when the venue was asked (Executor.reconcileOrder's answer). */
  wait(orderId: string): Promise<boolean> {
    const callers = this.#waiting.get(orderId)
    if (callers === undefined && this.#waiting.size >= READ_BACKS_BEFORE_START_MAX) {
      if (!this.#refusedSaid) this.#onRefused(orderId)
      this.#refusedSaid = true
      return Promise.resolve(false)
    }
    return new Promise((resolve) => {
      if (callers === undefined) this.#waiting.set(orderId, [resolve])
      else callers.push(resolve)
    })
  }

  /** Runs every waiting read-back through `readBack`, one at a time in the order asked; requests made meanwhile go too. */
  async release(readBack: (orderId: string) => Promise<boolean>): Promise<void> {
    for (const [orderId, callers] of this.#waiting) {
      this.#waiting.delete(orderId)
      let asked = false
      try {
        asked = await readBack(orderId)
      } finally {
        for (const resolve of callers) resolve(asked)
      }
    }
  }

  /** The executor stopped before it ever started: nothing waiting will be read back. */
  drop(): void {
    for (const callers of this.#waiting.values()) for (const resolve of callers) resolve(false)
    this.#waiting.clear()
  }
}
