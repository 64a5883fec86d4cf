/**
 * Waiting for the log without writing to it (Engine): the callers of decisions that wrote nothing and the reads of
 * the state (Engine.appliedDurable) are answered once every record queued before them is durable. Memory runs ahead
 * of the log by the batch being written, and such an answer may rest on that batch — a repeat answers 202 for an order
 * only once the order is in the log, a read shows an order only once a crash cannot lose it. Each kind waits under a
 * bound of its own (durability-waiters.ts).
 */

import type { Wal } from '../../wal/index.ts'
import { DurabilityWaiters, READ_WAITERS_MAX } from './durability-waiters.ts'
import { EngineOverloadedError } from './engine-types.ts'

export class QueuedDurability {
  /** Callers of decisions that wrote nothing, until the records queued before them are durable (bounded: `.max`). */
  readonly answers = new DurabilityWaiters()
  /** Reads waiting for the log (Engine.appliedDurable), under a bound of their own (READ_WAITERS_MAX says why). */
  readonly reads = Object.assign(new DurabilityWaiters(), { max: READ_WAITERS_MAX })
  readonly #wal: Wal

  constructor(wal: Wal) {
    this.#wal = wal
  }

  /**
   * Resolves with `value` once every record up to `queuedLsn` (the last one queued) is durable, waiting among
   * `waiters`: at once when it already is; rejected with the log's error when the log died, and with
   * EngineOverloadedError when `waiters` is full (`what` names them for the message).
   */
  whenDurable<T>(waiters: DurabilityWaiters, queuedLsn: number, value: T, what: string): Promise<T> {
    if (queuedLsn <= this.#wal.lastLsn) return Promise.resolve(value)
    const fatal = this.#wal.fatalError
    if (fatal !== null) return Promise.reject(fatal)
    if (waiters.full) return Promise.reject(new EngineOverloadedError(`${waiters.size} ${what} already wait for the log`))
    return waiters.wait(queuedLsn, value)
  }

  /** Answers the waiters whose records are now durable, or all of them if the log died. */
  release(): void {
    this.answers.release(this.#wal.lastLsn, this.#wal.fatalError)
    this.reads.release(this.#wal.lastLsn, this.#wal.fatalError)
  }
}
