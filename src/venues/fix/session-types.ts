/**
 * The public types of a FixSession: the states it goes through, the handler it reports to, and the ticket `send`
 * returns. Kept apart from session.ts so the session's parts (handshake, sequence, timers, inbound, outbound) can
 * name them without importing the class; session.ts re-exports them, so importers are unaffected.
 */

import type { FixMessage } from './message.ts'

export type FixSessionState =
  | 'stopped'
  | 'waiting_schedule'
  | 'connecting'
  | 'logon_sent'
  | 'active'
  | 'logout_sent'
  | 'reconnect_wait'
  /** The store failed to save: durability cannot be promised, so the session stays down until restarted. */
  | 'failed'

export interface FixSessionHandler {
  /** An application message, in sequence (PossDupFlag=Y copies included: the caller dedupes by ExecID). */
  onApplicationMessage(message: FixMessage): void
  /**
   * A message of the counterparty's that broke a field rule (FixMessage.defect) was refused with a session Reject and
   * its number consumed: it is not delivered, and the venue will not send it again.
   */
  onMessageRefused(message: FixMessage): void
  /** The counterparty refused one of our messages at session level (35=3). */
  onSessionReject(reject: { refSeqNum: number; reason: string; message: FixMessage }): void
  /**
   * Our messages with these numbers will never be processed by the counterparty: `not_written` (the connection ended
   * before the bytes reached the socket) or `gap_filled` (the venue asked for them again and egress gap-filled).
   */
  onMessagesAbandoned(range: { beginSeqNum: number; endSeqNum: number; cause: 'not_written' | 'gap_filled' }): void
  /**
   * The counterparty's messages with these numbers were skipped without their content: a SequenceReset-Reset moved the
   * expected number (`reset`), or a SequenceReset-GapFill answered our ResendRequest (`gap_fill`). What they said —
   * fills, say — is not coming, so the application reads back what it cannot see.
   */
  onInboundSkipped(range: { fromSeqNum: number; toSeqNum: number; how: 'reset' | 'gap_fill' }): void
  onStateChange(state: FixSessionState, detail: string): void
}

export type FixSendTicket =
  /** `written` resolves true once the bytes are handed to the socket, false if the connection ended first. */
  | { kind: 'queued'; seqNum: number; written: Promise<boolean> }
  | { kind: 'not_logged_on'; reason: string }
