/**
 * The engine's side of one command's log append (see Engine.commit): the log's queue entry and waiter, and what the
 * command's caller is answered with once the engine has told its listeners.
 */

import type { Decision, KernelCommand } from '../kernel/index.ts'
import type { PendingAppend, RecordInput } from '../../wal/index.ts'
import type { AppliedEvent, CommandSink, Committed } from './engine-types.ts'
import { lsnMismatch } from './landed-answers.ts'

/**
 * Where an answered append goes (the engine's LandedAnswers, landed-answers.ts): its caller is answered from a
 * microtask, with the rest of the log batch.
 */
export interface LandedSink {
  noteLanded(append: CommandAppend): void
}

/**
 * One command's append, as the log's queue entry (Wal.appendOwn: the log calls durable or failed once, in LSN order
 * with the rest of its batch) and as its caller's answer (Committed). One object per command where a promise, its
 * resolvers and a closure took the log's answer, a queue entry and an LSN array were the log's, and an answer object
 * the caller's.
 */
export class CommandAppend implements PendingAppend, Committed {
  readonly decision: Decision
  /** What the log writes: the command record first when there is one, then the events' records. */
  readonly records: RecordInput[]
  /** The decision's events at their LSNs, as the durable listeners are told them. */
  readonly applied: AppliedEvent[]
  /** Set by the log (Wal.appendOwn): the records' frame bytes. */
  bytes = 0
  readonly raw = null
  readonly firstLsn: number
  /** Records before the events (the command record): their LSNs are not the caller's. */
  readonly skipped: number
  /** The caller's answer: its promise's resolvers (Engine.submit), or the caller's own sink (Engine.submitTo). */
  readonly answer: CommandSink
  /** A sink of the caller's own: answered after the batch's promises (landed-answers.ts says why). */
  readonly ownSink: boolean
  /** The command as submitted: handed to the sink with the answer (CommandSink). */
  readonly command: KernelCommand
  /** Set by failed (the log failed it), or by the engine (LSNs not as predicted, a listener failed without a handler). */
  failure: { error: unknown } | null = null
  /** Committed.sendHeld: set when the send gate held the decision's venue call. */
  sendHeld: { reason: string; retryAfterMs: number } | undefined = undefined
  private readonly sink: LandedSink
  /** The events' LSNs, made when first asked for (most callers never read them). */
  private eventLsns: number[] | null = null

  /** Positional, not a fields object: one object fewer per command. */
  constructor(
    sink: LandedSink,
    decision: Decision,
    records: RecordInput[],
    applied: AppliedEvent[],
    firstLsn: number,
    skipped: number,
    answer: CommandSink,
    ownSink: boolean,
    command: KernelCommand,
  ) {
    this.sink = sink
    this.decision = decision
    this.records = records
    this.applied = applied
    this.firstLsn = firstLsn
    this.skipped = skipped
    this.answer = answer
    this.ownSink = ownSink
    this.command = command
  }

  /** Committed.lsns: the LSN of each event, in order (the command record's excluded). */
  get lsns(): number[] {
    if (this.eventLsns === null) {
      const lsns = new Array<number>(this.records.length - this.skipped)
      for (let index = 0; index < lsns.length; index++) lsns[index] = this.firstLsn + this.skipped + index
      this.eventLsns = lsns
    }
    return this.eventLsns
  }

  /** The last record's LSN. */
  get lastLsn(): number {
    return this.firstLsn + this.records.length - 1
  }

  /** A durable append whose LSNs are not the predicted ones fails (another writer?). */
  durable(firstLsn: number): void {
    if (firstLsn !== this.firstLsn) this.failure = { error: lsnMismatch(this.firstLsn, firstLsn) }
    this.sink.noteLanded(this)
  }

  failed(error: Error): void {
    this.failure = { error }
    this.sink.noteLanded(this)
  }
}
