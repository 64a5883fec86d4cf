/**
 * The engine's side of one command's log append (see Engine.commit): the waiter the log answers, and what the
 * command's caller is answered from once the engine has told its listeners.
 */

import type { Decision } from '../kernel/index.ts'
import type { AppendWaiter } from '../../wal/index.ts'
import type { AppliedEvent } from './engine.ts'
import type { CommandSink } from './engine-types.ts'

/**
 * Where an answered append goes (the engine's LandedAnswers, landed-answers.ts): its caller is answered from a
 * microtask, with the rest of the log batch.
 */
export interface LandedSink {
  noteLanded(append: CommandAppend): void
}

/**
 * One command's append, as the log's waiter (Wal.appendTo: the log calls resolve or reject once, in LSN order with
 * the rest of its batch) and as what its caller is answered from: one object per command where a promise, its
 * resolvers and a closure took the log's answer, and a promise and a closure more the engine's.
 */
export class CommandAppend implements AppendWaiter {
  readonly decision: Decision
  readonly applied: AppliedEvent[]
  readonly firstLsn: number
  /** Records before the events (the command record): their LSNs are not the caller's. */
  readonly skipped: number
  /** The caller's answer: its promise's resolvers (Engine.submit), or the caller's own sink (Engine.submitTo). */
  readonly answer: CommandSink
  /** A sink of the caller's own: answered after the batch's promises (landed-answers.ts says why). */
  readonly ownSink: boolean
  /** Set by resolve: the LSNs the log gave. */
  lsns: number[] = []
  /** Set by reject (the log failed it), or by the engine (LSNs not as predicted, a listener failed without a handler). */
  failure: { error: unknown } | null = null
  private readonly sink: LandedSink

  /** Positional, not a fields object: one object fewer per command. */
  constructor(sink: LandedSink, decision: Decision, applied: AppliedEvent[], firstLsn: number, skipped: number, answer: CommandSink, ownSink: boolean) {
    this.sink = sink
    this.decision = decision
    this.applied = applied
    this.firstLsn = firstLsn
    this.skipped = skipped
    this.answer = answer
    this.ownSink = ownSink
  }

  resolve(lsns: number[]): void {
    this.lsns = lsns
    this.sink.noteLanded(this)
  }

  reject(error: Error): void {
    this.failure = { error }
    this.sink.noteLanded(this)
  }
}
