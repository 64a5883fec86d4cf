/**
 * One send the executor decided (executor.ts), from its decision to its venue call: the engine's sink for the send
 * decision (Engine.submitTo), so a send makes no promise, resolvers or closures to learn its decision's fate. Places
 * and amends wait in their venue×symbol's queue (`queue`, dispatch-queues.ts) until their turn; a cancel (`queue` null)
 * goes as soon as it is durable.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { WorkItem } from '../kernel/index.ts'
import type { CommandSink, Committed } from './engine-types.ts'
import type { Dispatch } from './executor-options.ts'

/** The executor's side: one object for all its sends. */
export interface SendOwner {
  /** The send's decision is durable (its events set) or failed (`failed`): its call may go. */
  decided(dispatch: SendDispatch): void
  /** The log refused the send's decision. */
  onError(error: unknown, dispatch: SendDispatch): void
}

export class SendDispatch implements Dispatch, CommandSink {
  events: DomainEvent[] | null = null
  failed = false
  held: { reason: string; retryAfterMs: number } | null = null
  readonly item: WorkItem
  /** The venue×symbol queue it waits in (dispatch-queues.ts), null for a cancel. */
  readonly queue: Dispatch[] | null
  private readonly owner: SendOwner

  constructor(owner: SendOwner, item: WorkItem, queue: Dispatch[] | null) {
    this.owner = owner
    this.item = item
    this.queue = queue
  }

  resolve(committed: Committed): void {
    this.events = committed.decision.events
    this.held = committed.sendHeld ?? null
    this.owner.decided(this)
  }

  /**
   * The dispatch is told decided whatever the error report does: left undecided, it would stay at the head of its
   * venue×symbol queue and hold every place behind it until a restart. A report that throws still escapes (the engine
   * rethrows a sink's throw on a later turn, as uncaught).
   */
  reject(error: unknown): void {
    this.failed = true
    try {
      this.owner.onError(error, this)
    } finally {
      this.owner.decided(this)
    }
  }
}
