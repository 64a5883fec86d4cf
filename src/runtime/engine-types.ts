/**
 * What the engine (engine.ts) hands its callers and listeners: a committed decision with its LSNs, the events applied
 * at their LSNs, the send gate's verdict, and the overload refusal.
 */

import type { DomainEvent } from '../domain/events/index.ts'
import type { Decision, KernelCommand } from '../kernel/index.ts'

export interface Committed {
  decision: Decision
  /** LSN of each event, in order. */
  lsns: number[]
  /**
   * Set when the send gate (Engine.placeSendGate) held this decision's venue place/amend call: the call must not be
   * made now; the executor records it as a send retry (order.send_retry) due in `retryAfterMs`.
   */
  sendHeld?: { reason: string; retryAfterMs: number } | undefined
}

/**
 * Who is told how a submitted command ended, as methods of one object (Engine.submitTo, submitIfRoomTo): `resolve`
 * once its records are durable and the listeners told, or `reject`; exactly one of them, once, never from inside the
 * submit call. A caller that keeps an object per command anyway (the executor's send) is its own sink: no promise,
 * resolvers or closures per command.
 */
export interface CommandSink {
  /** `command` is the one submitted: a sink shared by many commands (the report intake's) tells them apart by it. */
  resolve(committed: Committed, command: KernelCommand): void
  reject(error: unknown, command: KernelCommand): void
}

/** The send gate's answer (Engine.placeSendGate): make the venue call now, or hold it and retry later. */
export type SendGateVerdict = { send: true } | { send: false; reason: string; retryAfterMs: number }

export interface AppliedEvent {
  event: DomainEvent
  lsn: number
}

/**
 * Called with durable commands' events, in log order (SSE, back office, executor wake-ups): once for all the commands
 * one log batch made durable together, each command's events whole and in order (see Engine.onListenerError).
 */
export type DurableListener = (events: AppliedEvent[]) => void

/** Raised when the log cannot take more records right now: the caller sheds load (429), nothing was decided. */
export class EngineOverloadedError extends Error {
  override readonly name = 'EngineOverloadedError'
  readonly code = 'OVERLOADED'
}
