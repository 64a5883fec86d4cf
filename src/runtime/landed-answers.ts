/**
 * How the engine (engine.ts) answers the commands whose appends the log answered (command-append.ts): the durable
 * listeners first, then the callers, in LSN order, from one microtask per log batch; a decision that requests a gated
 * venue send once the send gate has answered too (place-send-gate.ts).
 */

import { AssertionError } from '../../wal/index.ts'
import type { CommandAppend, LandedSink } from './command-append.ts'
import type { AppliedEvent, Committed } from './engine-types.ts'
import { answerAfterSendGate, requestsGatedSend, type PlaceSendGate } from './place-send-gate.ts'

/** What answering needs of the engine, read at each answer (the engine's fields may change between batches). */
export interface LandingHooks {
  /** Engine.onListenerError: with a handler, one batch's commands are told to the listeners in one call. */
  listenerErrorHandler(): ((error: unknown) => void) | null
  /** Engine.placeSendGate. */
  placeSendGate(): PlaceSendGate | null
  /** Calls every durable listener with `applied` (Engine.tellListeners: throws a failure when there is no handler). */
  tellListeners(applied: AppliedEvent[]): void
  /** Counts one command settled (Engine.settled). */
  settleOne(): void
  /** Answers the waiters whose records are now durable (QueuedDurability.release). */
  releaseQueued(): void
}

export class LandedAnswers implements LandedSink {
  /**
   * Commands whose appends the log answered (durable or failed) and whose callers are not answered yet: a log batch
   * answers its appends one after the other, in LSN order, and the first queues the microtask that answers them all
   * (answerLanded), so the listeners hear of the batch before any caller resumes.
   */
  private landed: CommandAppend[] = []
  private landedQueued = false
  private readonly hooks: LandingHooks

  constructor(hooks: LandingHooks) {
    this.hooks = hooks
  }

  /** Whether answerLanded is queued: a batch holding commands releases the durability waiters from there. */
  get queued(): boolean {
    return this.landedQueued
  }

  /**
   * The log answered `append` (CommandAppend.resolve/reject): its caller is answered from a microtask, with the
   * batch's. For CommandAppend only.
   */
  noteLanded(append: CommandAppend): void {
    this.landed.push(append)
    if (this.landedQueued) return
    this.landedQueued = true
    queueMicrotask(this.answerLanded)
  }

  /**
   * Answers the commands the log answered since the last call, in LSN order: the listeners are told of the durable
   * ones first, so every projection is updated before any caller resumes (callers' continuations are queued as each
   * is answered). With an error handler, one call tells the listeners of all of them (every listener once per log
   * batch); without one, each command is told alone, so that a listener's failure rejects the command it was given.
   */
  private readonly answerLanded = (): void => {
    this.landedQueued = false
    const landed = this.landed
    this.landed = []
    if (this.hooks.listenerErrorHandler() !== null) {
      const told: AppliedEvent[] = []
      for (const append of landed) if (append.failure === null) for (const applied of append.applied) told.push(applied)
      // Only the handler itself can throw here: rethrown on a later turn, as uncaught, once every caller is answered.
      if (told.length > 0) {
        try {
          this.hooks.tellListeners(told)
        } catch (error) {
          queueMicrotask(() => {
            throw error
          })
        }
      }
    } else {
      for (const append of landed) {
        if (append.failure !== null) continue
        try {
          this.hooks.tellListeners(append.applied)
        } catch (error) {
          append.failure = { error }
        }
      }
    }
    let ownSinks = false
    for (const append of landed) {
      if (append.ownSink) ownSinks = true
      else this.answer(append)
    }
    this.hooks.releaseQueued()
    // A caller's own sink (Engine.submitTo) runs its code at once, where a promise's caller resumes on a later
    // microtask: answered last, it still runs after every caller of the batch is answered and the waiters released.
    if (ownSinks) for (const append of landed) if (append.ownSink) this.answer(append)
  }

  /**
   * Resolves or rejects the caller's promise, then counts the command settled: callers' own continuations run before
   * those of settled() waiters, as when the count was a reaction registered on the caller's promise ahead of them. The
   * append itself is the caller's Committed (one object fewer per command).
   */
  private answer(append: CommandAppend): void {
    if (append.failure !== null) return this.settle(append, false, append.failure.error)
    const gate = this.hooks.placeSendGate()
    if (gate === null || !requestsGatedSend(append.decision.events)) return this.settle(append, true, append)
    answerAfterSendGate(gate, append.lastLsn, append, {
      resolve: (gated) => this.settle(append, true, gated),
      reject: (error) => this.settle(append, false, error),
    })
  }

  private settle(append: CommandAppend, resolved: boolean, value: unknown): void {
    try {
      if (resolved) append.answer.resolve(value as Committed, append.command)
      else append.answer.reject(value, append.command)
    } catch (error) {
      // Only a caller's own sink can throw (a promise's resolvers do not): rethrown on a later turn, as uncaught, like
      // a reaction to the promise that threw; the command still counts as settled.
      queueMicrotask(() => {
        throw error
      })
    }
    this.hooks.settleOne()
  }
}

/** Throws when the log assigned other LSNs than the engine predicted from `firstLsn` (another writer?). */
export function checkLsns(actual: number[], firstLsn: number): void {
  for (let index = 0; index < actual.length; index++) {
    if (actual[index] !== firstLsn + index) {
      throw lsnMismatch(firstLsn + index, actual[index] as number)
    }
  }
}

/** The error of an append the log gave other LSNs than the engine predicted (checkLsns, CommandAppend.durable). */
export function lsnMismatch(predicted: number, assigned: number): AssertionError {
  return new AssertionError(`engine predicted LSN ${predicted}, log assigned ${assigned}: another writer?`)
}
