/**
 * The session's sequence numbers in memory, with ordered, coalesced saves to the FixSessionStore. `flush` resolves
 * once the numbers as they were when it was called (or later ones) are durable; several flushes while a save is in
 * flight collapse into one follow-up save, so a burst of sends costs one durable write, not one each.
 */

import type { FixSeqNums, FixSessionStore } from './store.ts'

export class DurableSeqNums {
  readonly #store: FixSessionStore
  #current: FixSeqNums
  #durable: FixSeqNums
  #tail: Promise<void> = Promise.resolve()
  /** The save running (or about to), and the one flushes made meanwhile share (flush). */
  #underWay: Promise<void> | null = null
  #queued: Promise<void> | null = null
  #failure: unknown = null
  #numbering = 0

  constructor(store: FixSessionStore, loaded: FixSeqNums) {
    this.#store = store
    this.#current = { ...loaded }
    this.#durable = { ...loaded }
  }

  get nextSender(): number {
    return this.#current.nextSenderSeqNum
  }

  get nextTarget(): number {
    return this.#current.nextTargetSeqNum
  }

  /** Counts the restarts (`reset`): a number taken under one means nothing under the next. */
  get numbering(): number {
    return this.#numbering
  }

  /** A save failed: the session must stop. */
  get failed(): boolean {
    return this.#failure !== null
  }

  /** Takes the next outgoing number. */
  takeSender(): number {
    const seqNum = this.#current.nextSenderSeqNum
    this.#current = { ...this.#current, nextSenderSeqNum: seqNum + 1 }
    return seqNum
  }

  setTarget(nextTargetSeqNum: number): void {
    this.#current = { ...this.#current, nextTargetSeqNum }
  }

  reset(): void {
    this.#numbering++
    this.#current = { nextSenderSeqNum: 1, nextTargetSeqNum: 1 }
  }

  /**
   * Resolves when the current numbers are durable; rejects if a save fails (and every later flush rejects too). Saves
   * run one at a time; flushes while one is under way share the one save queued behind it, which saves the numbers as
   * they are when it starts. Each flush queued a save of its own: every inbound message flushes (advance), and with
   * messages coming during every save each queued save found the numbers moved and saved again, so the queue grew by
   * the venue's rate less the store's, without bound, and a flush waited for every save queued before it.
   */
  flush(): Promise<void> {
    if (this.#underWay === null) return this.#start()
    this.#queued ??= this.#underWay.catch(() => undefined).then(() => {
      this.#queued = null
      return this.#start()
    })
    return this.#queued
  }

  #start(): Promise<void> {
    const run: Promise<void> = this.#tail.then(() => this.#saveIfChanged()).finally(() => {
      if (this.#underWay === run) this.#underWay = null
    })
    this.#underWay = run
    // Keep the chain alive after a failure so later flushes report it instead of hanging.
    this.#tail = run.catch(() => undefined)
    return run
  }

  async #saveIfChanged(): Promise<void> {
    if (this.#failure !== null) throw this.#failure
    const snapshot = this.#current
    if (snapshot.nextSenderSeqNum === this.#durable.nextSenderSeqNum && snapshot.nextTargetSeqNum === this.#durable.nextTargetSeqNum) {
      return
    }
    try {
      await this.#store.save(snapshot)
    } catch (error: unknown) {
      this.#failure = error
      throw error
    }
    this.#durable = snapshot
  }
}
