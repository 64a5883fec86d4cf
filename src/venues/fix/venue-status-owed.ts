/**
 * Status queries whose answers name only the order, one per order at most, each owed an answer for a bounded time.
 *
 * FIX 4.2's OrderStatusRequest (35=H) carries no id of its own (OrdStatusReqID, 790, is FIX 4.4 on), and its answer
 * (an ExecutionReport with ExecTransType=3) names only the order; so does a FIX 4.4 answer from a venue configured as
 * not echoing 790. With two queries about one order out, an answer could be either's: the late answer to a query that
 * timed out would complete the newer one with older news. Hence at most one such query per order is out at the venue:
 * a query is owed an answer from the moment it is sent until its answer comes (the caller may have stopped waiting: a
 * timeout ends the wait, not the debt), until something proves none will come — a Reject or BusinessMessageReject of
 * its MsgSeqNum, its number gap-filled or never written, or the numbering restarted at Logon (the venue's old messages
 * are never resent then) — or until it is written off, `writeOffMs` after it was sent.
 *
 * The write-off is the one assumption here: a venue that has not answered a status query within `writeOffMs` never
 * will. Nothing in a 4.2 answer tells a late answer to a written-off query from the answer to the next query about the
 * same order, and no rule that keeps both answerable can ever settle the next one (every answer stays ambiguous while
 * the old query might still be answered, and a query the venue dropped never is), so a debt nothing else ends would
 * leave the order's status unknown until a sequence reset. `writeOffMs` is therefore long next to the status timeout
 * (12 times it by default), and the one proof a venue may give is used against a late answer: an answer whose
 * LastMsgSeqNumProcessed (369) is more than one below the owed query's MsgSeqNum was sent before the venue received
 * that query, so it is not its answer (venue-inbound.ts says why one below is still taken).
 */

import type { Clock } from '../../domain/clock.ts'

/** Queries owed an answer at most; past it a new query is not sent (answers `unknown`) until debts end or expire. */
export const STATUS_QUERIES_OWED_MAX = 10_000

export interface StatusQueryOwed {
  readonly clientOrderId: string
  readonly seqNum: number
  readonly sentAtMs: number
  /** The OrdStatusReqID the query carried (FIX 4.4 venues that do not echo it), so an answer echoing it still counts. */
  readonly requestId: string | undefined
}

export interface StatusQueriesOwedOptions {
  clock: Clock
  /** A query still unanswered this long after it was sent is written off: the order's next query may go. */
  writeOffMs: number
  /** Told of each query written off (the venue never answered it in time): worth a warning. */
  onWrittenOff: (query: StatusQueryOwed) => void
}

export class StatusQueriesOwed {
  readonly #options: StatusQueriesOwedOptions
  /** ClOrdID → the query about it still owed an answer. */
  readonly #byClientOrderId = new Map<string, StatusQueryOwed>()
  /** The same by MsgSeqNum, in sending order: a Reject names only the number, and the oldest are written off first. */
  readonly #bySeqNum = new Map<number, StatusQueryOwed>()

  constructor(options: StatusQueriesOwedOptions) {
    this.#options = options
  }

  get size(): number {
    this.#writeOffExpired()
    return this.#bySeqNum.size
  }

  get full(): boolean {
    return this.size >= STATUS_QUERIES_OWED_MAX
  }

  /** The query about `clientOrderId` still owed an answer, if one is (one past its write-off is not). */
  owedFor(clientOrderId: string): StatusQueryOwed | undefined {
    const query = this.#byClientOrderId.get(clientOrderId)
    if (query === undefined || !this.#expired(query)) return query
    this.#remove(query)
    this.#options.onWrittenOff(query)
    return undefined
  }

  sent(clientOrderId: string, seqNum: number, requestId: string | undefined): void {
    this.answered(clientOrderId)
    const query: StatusQueryOwed = { clientOrderId, seqNum, sentAtMs: this.#options.clock.nowMs(), requestId }
    this.#byClientOrderId.set(clientOrderId, query)
    this.#bySeqNum.set(seqNum, query)
  }

  /** A status answer about `clientOrderId` came: whatever query about it was out is answered. */
  answered(clientOrderId: string): void {
    const query = this.#byClientOrderId.get(clientOrderId)
    if (query !== undefined) this.#remove(query)
  }

  /** The venue refused the message numbered `seqNum` (Reject, BusinessMessageReject): no answer will follow it. */
  refused(seqNum: number): void {
    const query = this.#bySeqNum.get(seqNum)
    if (query !== undefined) this.#remove(query)
  }

  /** The numbers `beginSeqNum..endSeqNum` were gap-filled or never written: the venue never acts on what they carried. */
  abandoned(beginSeqNum: number, endSeqNum: number): void {
    for (const [seqNum, query] of this.#bySeqNum) if (seqNum >= beginSeqNum && seqNum <= endSeqNum) this.#remove(query)
  }

  /** Numbering restarted: messages sent before are never answered (nor resent) now. */
  clear(): void {
    this.#byClientOrderId.clear()
    this.#bySeqNum.clear()
  }

  #expired(query: StatusQueryOwed): boolean {
    return this.#options.clock.nowMs() - query.sentAtMs >= this.#options.writeOffMs
  }

  /** Oldest first, so the bound frees up as time passes; stops at the first query still owed. */
  #writeOffExpired(): void {
    for (const query of this.#bySeqNum.values()) {
      if (!this.#expired(query)) return
      this.#remove(query)
      this.#options.onWrittenOff(query)
    }
  }

  #remove(query: StatusQueryOwed): void {
    if (this.#byClientOrderId.get(query.clientOrderId) === query) this.#byClientOrderId.delete(query.clientOrderId)
    this.#bySeqNum.delete(query.seqNum)
  }
}
