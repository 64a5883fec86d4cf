/**
 * One transport connection's share of the session state: its phase (connecting → logon_sent → active →
 * logout_sent), the frame reader, heartbeat bookkeeping, the messages queued above a sequence gap, and the write
 * chain. Every (re)connect opens a fresh one, so nothing of a dead connection — queued messages, an outstanding
 * TestRequest, unwritten bytes — carries over to the next; what must survive (the sequence numbers) lives on the
 * session.
 */

import { FixFrameReader, type FixCodecLimits } from './codec.ts'
import type { FixMessage } from './message.ts'
import type { FixTransport } from './transport.ts'

export interface Connection {
  readonly id: number
  transport: FixTransport | null
  readonly reader: FixFrameReader
  phase: 'connecting' | 'logon_sent' | 'active' | 'logout_sent'
  phaseSinceMs: number
  /** When the Logon was answered (null: never logged on). Decides whether the reconnect delay starts over (session.ts). */
  loggedOnAtMs: number | null
  lastSentMs: number
  /**
   * Messages queued on the write chain and not yet handed to the socket (waiting for the store's save). A Heartbeat is
   * not due while one is (session-timers.ts): each tick of a slow save queued another, a burst and a number each.
   */
  unwritten: number
  /** Their bytes: bounded, with the socket's, by writeBufferBytesMax (session-outbound.ts). */
  unwrittenBytes: number
  lastReceivedMs: number
  testRequest: { id: string; sentMs: number } | null
  /** Set while a ResendRequest is outstanding: the highest number seen above the gap. */
  resendUpTo: number | null
  /**
   * While a ResendRequest is outstanding: the expected number when the gap last moved (or was asked about) and when.
   * A gap that has not moved for a heartbeat interval is asked about again (session-sequence.ts askAgainIfStalled).
   */
  resendProgress: { seqNum: number; atMs: number } | null
  readonly queued: Map<number, FixMessage>
  /**
   * This connection's Logon began a new numbering: ours went out as MsgSeqNum 1 (a reset, or a fresh store), or the
   * counterparty's answer reset both numbers, or its Logon with ResetSeqNumFlag=Y did during the session. Old numbers
   * mean nothing then (venue.ts reads every open order back).
   */
  numberingRestarted: boolean
  /** We confirmed a reset of the counterparty's with our Logon (ResetSeqNumFlag=Y) on this connection. */
  resetConfirmed: boolean
  /**
   * The venue's numbers that GapFills answering our ResendRequest skipped, gathered while the gap heals: told once, when
   * it has (or when the connection closes first), not once per GapFill (a resend holds several, one per run of session
   * messages it does not send again).
   */
  skippedUnread: { fromSeqNum: number; toSeqNum: number } | null
  /** The fields of the messages in `queued`: their heap, bounded by queuedFieldsMax (a message of tiny fields is large). */
  queuedFields: number
  /** ResendRequests already answered while they sat above a gap (so dequeuing them does not answer twice). */
  readonly served: WeakSet<FixMessage>
  garbledInRow: number
  /**
   * Our one Logout on this connection (null: none yet) and whether its bytes are written. Only a counterparty Logout
   * taken after they are is the confirmation (session-handshake.ts onLogout).
   */
  logoutSent: { written: Promise<boolean>; done: boolean } | null
  /** The counterparty's Logout was taken on this connection: another is a duplicate, ignored. */
  logoutReceived: boolean
  writeChain: Promise<unknown>
  /**
   * Nothing more is read on this connection (it closes once our Logout is written): the counterparty's numbering went
   * back (session-handshake.ts logoutSeqNumTooLow), so nothing it says now can be taken in sequence.
   */
  inboundStopped: boolean
  closed: boolean
}

/** A connection about to connect: no transport yet (the caller attaches it), nothing sent, received or queued. */
export function openConnection(id: number, options: { nowMs: number; limits: FixCodecLimits }): Connection {
  return {
    id,
    transport: null,
    reader: new FixFrameReader(options.limits),
    phase: 'connecting',
    phaseSinceMs: options.nowMs,
    loggedOnAtMs: null,
    lastSentMs: options.nowMs,
    unwritten: 0,
    unwrittenBytes: 0,
    lastReceivedMs: options.nowMs,
    testRequest: null,
    resendUpTo: null,
    resendProgress: null,
    queued: new Map(),
    numberingRestarted: false,
    resetConfirmed: false,
    skippedUnread: null,
    queuedFields: 0,
    served: new WeakSet(),
    garbledInRow: 0,
    logoutSent: null,
    logoutReceived: false,
    writeChain: Promise.resolve(),
    inboundStopped: false,
    closed: false,
  }
}

/** Moves the connection to `phase`; the phase's deadlines (logon, logout) count from `nowMs`. */
export function enterPhase(connection: Connection, phase: Connection['phase'], nowMs: number): void {
  connection.phase = phase
  connection.phaseSinceMs = nowMs
}
