/**
 * Answers waiting for the log: the callers of decisions that wrote nothing (an idempotent repeat, a conflict, a
 * cancel already requested), each held until every record queued before it is durable (Engine.commit). Such a
 * decision was made from memory, which runs ahead of the log by the batch being written, and its answer may rest on
 * that batch — a repeat answers 202 for an order only once the order is in the log.
 *
 * Kept in LSN order (decisions are made in order), so releasing is a walk from the front. Bounded: past `max`, a new
 * waiter is refused and its caller sheds load (no-op cancels pass the HTTP shedder; on a stalled disk each would
 * otherwise hold a waiter until the log moved).
 */

/** The default bound: as many answers as the log's queue holds records by default. */
export const DURABILITY_WAITERS_MAX = 65_536

/**
 * The bound of reads waiting for the log (Engine.appliedDurable, HTTP GET of orders), kept apart from the answers':
 * a flood of reads on a stalled disk must not take the bound a repeated cancel (Lane0) waits under. Past it a read is
 * refused (HTTP 429) until the log moves.
 */
export const READ_WAITERS_MAX = 4_096

interface Waiter {
  lsn: number
  resolve: () => void
  reject: (error: unknown) => void
}

export class DurabilityWaiters {
  max = DURABILITY_WAITERS_MAX
  readonly #waiters: Waiter[] = []

  get size(): number {
    return this.#waiters.length
  }

  get full(): boolean {
    return this.#waiters.length >= this.max
  }

  /** Resolves with `value` once release() is called with a durable LSN at or past `lsn`. The caller checks `full`. */
  wait<T>(lsn: number, value: T): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>()
    this.#waiters.push({ lsn, resolve: () => resolve(value), reject })
    return promise
  }

  /** Answers every waiter whose LSN is durable now; with `fatal` (the log died), rejects the rest with it. */
  release(durableLsn: number, fatal: Error | null): void {
    const waiters = this.#waiters
    if (waiters.length === 0) return
    let released = 0
    while (released < waiters.length && (waiters[released] as Waiter).lsn <= durableLsn) (waiters[released++] as Waiter).resolve()
    waiters.splice(0, released)
    if (fatal !== null) for (const waiter of waiters.splice(0)) waiter.reject(fatal)
  }
}
