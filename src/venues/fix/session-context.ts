/**
 * What the parts of a FixSession share: its resolved options, its handler, its sequence numbers, and the few
 * session-wide actions that change its lifecycle (state, disconnect and reconnect, store failure). FixSession builds
 * one and hands it to the parts — handshake, sequence, timers, inbound, outbound — which are plain functions over it,
 * so each concept sits in its own file without reaching into the class's private fields.
 */

import type { FixLogLevel } from './log.ts'
import type { FixMessage } from './message.ts'
import type { DurableSeqNums } from './seq-nums.ts'
import type { Connection } from './session-connection.ts'
import type { ResolvedFixSessionOptions } from './session-options.ts'
import type { FixSessionHandler, FixSessionState } from './session-types.ts'

export interface SessionContext {
  /** "FIX.4.4:SENDER->TARGET", as log records name the session. */
  readonly id: string
  readonly options: ResolvedFixSessionOptions
  readonly handler: FixSessionHandler
  /**
   * The counterparty asked for a reset that is ours to make at the next Logon (a Logout with ResetSeqNumFlag=Y, or
   * its reset Logon while we were logging out): that Logon carries ResetSeqNumFlag=Y. Cleared once it is answered.
   * Held in memory only: a restart in between logs on with the saved numbers (README, "Inbound rules").
   */
  resetAtNextLogon: boolean
  /** The loaded sequence numbers; they are loaded before any connection exists. */
  seqNums(): DurableSeqNums
  setState(state: FixSessionState, detail: string): void
  /** Closes the connection (after its queued writes) and reconnects unless the session is stopping or failed. */
  disconnect(connection: Connection, reason: string, level: FixLogLevel): void
  /** The store failed to save: the session stops (`failed`). */
  failStore(error: unknown): void
  /** Processes one in-sequence message; the gap queue calls it as it drains. */
  process(connection: Connection, message: FixMessage): void
  log(level: FixLogLevel, event: string, message: string, extra?: Record<string, unknown>): void
}
