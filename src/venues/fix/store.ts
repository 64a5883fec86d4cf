/**
 * FixSessionStore: what a FIX session must keep across restarts — its two sequence numbers — and nothing else.
 *
 * The gateway's runtime implements it on the write-ahead log, so a session's durability is the gateway's and the
 * numbers agree with the order state after a crash: there is no second store. Outgoing application messages are not
 * stored because egress never replays them at the session level — a venue's ResendRequest is answered with a
 * SequenceReset-GapFill, and an order the venue never saw is re-sent (same ClOrdID) by the kernel after reconciling,
 * through the log and the I-100 gate (see README.md in this folder).
 */

export interface FixSeqNums {
  /** MsgSeqNum egress will put on its next outgoing message. */
  nextSenderSeqNum: number
  /** MsgSeqNum egress expects on the next incoming message. */
  nextTargetSeqNum: number
}

export interface FixSessionStore {
  /** The session's numbers; a session never saved before answers `{ 1, 1 }`. */
  load(): Promise<FixSeqNums>
  /**
   * Records the numbers durably and resolves only then. The session writes a message with MsgSeqNum n to the wire only
   * after a save with nextSenderSeqNum > n has resolved, so a restart never reuses a number the venue has seen. Saves
   * are issued one at a time, in order; a rejected save stops the session (durability can no longer be promised).
   */
  save(seqNums: FixSeqNums): Promise<void>
}

/**
 * The largest sequence number a store must hold (FIX engines count in 32-bit ints; the log's store refuses more). The
 * session refuses a venue's number that would take it past this, since a refused save stops the session for good.
 */
export const FIX_SEQ_NUM_MAX = 2 ** 31 - 1

export const FRESH_SEQ_NUMS: FixSeqNums = Object.freeze({ nextSenderSeqNum: 1, nextTargetSeqNum: 1 })

/** In-memory store for tests and paper mode: "durable" for the life of the object, which may outlive a session. */
export class MemoryFixSessionStore implements FixSessionStore {
  #seqNums: FixSeqNums
  /** Saves so far (a test can check that numbers were persisted). */
  saveCount = 0

  constructor(initial: FixSeqNums = FRESH_SEQ_NUMS) {
    this.#seqNums = { ...initial }
  }

  get current(): FixSeqNums {
    return { ...this.#seqNums }
  }

  load(): Promise<FixSeqNums> {
    return Promise.resolve({ ...this.#seqNums })
  }

  save(seqNums: FixSeqNums): Promise<void> {
    this.#seqNums = { ...seqNums }
    this.saveCount++
    return Promise.resolve()
  }
}
