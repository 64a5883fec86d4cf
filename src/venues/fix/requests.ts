/**
 * Requests waiting for a venue answer. Each is keyed by the ClOrdID it carries and by the MsgSeqNum it went out with
 * (session and business rejects reference the number), has a timeout, and finishes exactly once: answered, rejected,
 * not sent (retryable), or unknown (timeout, disconnect, gap-filled).
 */

import type { Clock } from '../../domain/clock.ts'
import type { FixMessage } from './message.ts'
import { FixReason, withDetail } from './reasons.ts'

export type Finish<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'rejected'; reason: string }
  | { kind: 'retryable'; reason: string }
  | { kind: 'unknown'; reason: string }

/** How a request recognises its answer: a finish, or null when `message` does not (yet) answer it. */
export type Answer<T> = (message: FixMessage) => Finish<T> | null

export type RequestOperation = 'place' | 'cancel' | 'amend' | 'status' | 'mass_status'

/** What a pending request does with an answer; the payload type differs per operation. */
export interface PendingRequest {
  readonly operation: RequestOperation
  /** ClOrdID for place/cancel/amend/status; MassStatusReqID for mass status. */
  readonly key: string
  readonly seqNum: number
  written: boolean
  /** Offered every answer-shaped message for this key; the operation decides whether it completes the request. */
  onAnswer: (message: FixMessage) => void
  reject(reason: string): void
  abandon(kind: 'retryable' | 'unknown', reason: string): void
}

export class PendingRequests {
  readonly #clock: Clock
  readonly #all = new Set<PendingRequest>()
  readonly #byKey = new Map<string, Set<PendingRequest>>()
  /** Requests by the MsgSeqNum they went out with, in the current numbering only (forgetSeqNums). */
  readonly #bySeqNum = new Map<number, PendingRequest>()

  constructor(clock: Clock) {
    this.#clock = clock
  }

  get size(): number {
    return this.#all.size
  }

  /**
   * Registers a request and returns its promise. `finishOk` is how the caller later completes it with an answer
   * (call the returned `complete`); rejects, timeouts and abandonment are handled here.
   */
  open<T>(
    options: { operation: RequestOperation; key: string; seqNum: number; timeoutMs: number },
  ): { promise: Promise<Finish<T>>; request: PendingRequest; complete: (value: T) => void } {
    let resolvePromise: (finish: Finish<T>) => void = () => {}
    const promise = new Promise<Finish<T>>((resolve) => (resolvePromise = resolve))
    let done = false
    const finish = (outcome: Finish<T>): void => {
      if (done) return
      done = true
      cancelTimer()
      this.#remove(request)
      resolvePromise(outcome)
    }
    const request: PendingRequest = {
      operation: options.operation,
      key: options.key,
      seqNum: options.seqNum,
      written: false,
      onAnswer: () => {},
      reject: (reason) => finish({ kind: 'rejected', reason }),
      abandon: (kind, reason) => finish({ kind, reason }),
    }
    const cancelTimer = this.#clock.schedule(options.timeoutMs, () =>
      finish({ kind: 'unknown', reason: withDetail(FixReason.timeout, `no answer in ${options.timeoutMs} ms`) }),
    )
    this.#add(request)
    return { promise, request, complete: (value) => finish({ kind: 'ok', value }) }
  }

  /** Requests carrying this key, of these operations. */
  byKey(key: string, operations: readonly RequestOperation[]): PendingRequest[] {
    return [...(this.#byKey.get(key) ?? [])].filter((request) => operations.includes(request.operation))
  }

  bySeqNum(seqNum: number): PendingRequest | undefined {
    return this.#bySeqNum.get(seqNum)
  }

  /** Every request waiting, whatever numbering it went out in. */
  all(): PendingRequest[] {
    return [...this.#all]
  }

  /** The requests sent under `beginSeqNum..endSeqNum` in the current numbering. */
  inSeqNumRange(beginSeqNum: number, endSeqNum: number): PendingRequest[] {
    return [...this.#bySeqNum.values()].filter((request) => request.seqNum >= beginSeqNum && request.seqNum <= endSeqNum)
  }

  /**
   * The numbering restarted: the numbers the waiting requests went out with now name other messages, so a reject or a
   * gap-fill naming them is not about these requests. They keep waiting for their answers (matched by key) or time out.
   */
  forgetSeqNums(): void {
    this.#bySeqNum.clear()
  }

  #add(request: PendingRequest): void {
    let set = this.#byKey.get(request.key)
    if (set === undefined) this.#byKey.set(request.key, (set = new Set()))
    set.add(request)
    this.#all.add(request)
    this.#bySeqNum.set(request.seqNum, request)
  }

  #remove(request: PendingRequest): void {
    const set = this.#byKey.get(request.key)
    set?.delete(request)
    if (set?.size === 0) this.#byKey.delete(request.key)
    this.#all.delete(request)
    if (this.#bySeqNum.get(request.seqNum) === request) this.#bySeqNum.delete(request.seqNum)
  }
}
