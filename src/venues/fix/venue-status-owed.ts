/**
 * FIX 4.2 status queries still owed an answer, one per order at most.
 *
 * FIX 4.2's OrderStatusRequest (35=H) carries no id of its own (OrdStatusReqID, 790, is FIX 4.4 on), and its answer
 * (an ExecutionReport with ExecTransType=3) names only the order. So with two queries about one order out, an answer
 * could be either's: the late answer to a query that timed out would complete the newer one with older news. Hence at
 * most one query per order is out at the venue: a query is owed an answer from the moment it is sent until its answer
 * comes (the caller may have stopped waiting: a timeout ends the wait, not the debt), or until something proves none
 * will come — a Reject or BusinessMessageReject of its MsgSeqNum, its number gap-filled or never written, or the
 * numbering restarted at Logon (the venue's old messages are never resent then). FIX delivers the venue's messages in
 * order and the venue answers each OrderStatusRequest once, so the answer that comes is the one owed to the query out.
 *
 * Nothing proves an answer will never come otherwise, so none is written off by time: a venue that never answers a
 * query leaves the order's later status queries answering `unknown` (never a guess), said in the reason.
 */

/** Queries owed an answer at most; past it a new query is not sent (answers `unknown`) rather than any debt forgotten. */
export const STATUS_QUERIES_OWED_MAX = 10_000

export class StatusQueriesOwed {
  /** ClOrdID → the MsgSeqNum of the query about it still owed an answer. */
  readonly #byClientOrderId = new Map<string, number>()
  /** The same, the other way: a Reject names only the MsgSeqNum, and rejects of other messages are common. */
  readonly #bySeqNum = new Map<number, string>()

  get size(): number {
    return this.#byClientOrderId.size
  }

  /** The MsgSeqNum of the query about `clientOrderId` still owed an answer, if one is. */
  owedFor(clientOrderId: string): number | undefined {
    return this.#byClientOrderId.get(clientOrderId)
  }

  get full(): boolean {
    return this.#byClientOrderId.size >= STATUS_QUERIES_OWED_MAX
  }

  sent(clientOrderId: string, seqNum: number): void {
    this.answered(clientOrderId)
    this.#byClientOrderId.set(clientOrderId, seqNum)
    this.#bySeqNum.set(seqNum, clientOrderId)
  }

  /** A status answer about `clientOrderId` came: whatever query about it was out is answered. */
  answered(clientOrderId: string): void {
    const seqNum = this.#byClientOrderId.get(clientOrderId)
    if (seqNum === undefined) return
    this.#byClientOrderId.delete(clientOrderId)
    this.#bySeqNum.delete(seqNum)
  }

  /** The venue refused the message numbered `seqNum` (Reject, BusinessMessageReject): no answer will follow it. */
  refused(seqNum: number): void {
    const clientOrderId = this.#bySeqNum.get(seqNum)
    if (clientOrderId !== undefined) this.answered(clientOrderId)
  }

  /** The numbers `beginSeqNum..endSeqNum` were gap-filled or never written: the venue never acts on what they carried. */
  abandoned(beginSeqNum: number, endSeqNum: number): void {
    for (const [clientOrderId, seqNum] of this.#byClientOrderId) if (seqNum >= beginSeqNum && seqNum <= endSeqNum) this.answered(clientOrderId)
  }

  /** Numbering restarted: messages sent before are never answered (nor resent) now. */
  clear(): void {
    this.#byClientOrderId.clear()
    this.#bySeqNum.clear()
  }
}
