/**
 * A FIX 4.2/4.4 initiator session: connect, Logon, heartbeats and TestRequests, sequence numbers (persisted through a
 * FixSessionStore before any number is used on the wire), gap detection with ResendRequest, SequenceReset (GapFill and
 * Reset), PossDup handling, session Reject, Logout, and reconnect with bounded exponential backoff.
 *
 * Resend policy: egress never replays application messages. A counterparty's ResendRequest is answered with one
 * SequenceReset-GapFill over the whole range, and the handler is told which of its messages the venue will never
 * process (`onMessagesAbandoned`), so the application layer can mark those requests outcome-unknown and let the kernel
 * reconcile and, if needed, re-send (with the same ClOrdID) through the log and the I-100 gate.
 *
 * Inbound rules (FIX session layer): a message with the expected MsgSeqNum is processed; a higher one is queued (up to
 * queuedMessagesMax) and triggers one ResendRequest from the expected number to infinity; a lower one is dropped if
 * PossDupFlag=Y (already processed) and is fatal otherwise (Logout, disconnect). Garbled messages (bad checksum, fields
 * that cannot be split) are ignored and logged; the gap they leave is healed by the resend. A readable message with a
 * bad field is refused with a Reject in its turn and its number consumed. Lost framing disconnects.
 *
 * This file holds the session's lifecycle — its public face, connecting, reconnecting, stopping, the tick, the state
 * and the store — and hands each connection's work to its parts, plain functions over a SessionContext:
 * session-handshake.ts (Logon/Logout), session-sequence.ts (gaps, resends, SequenceReset), session-timers.ts
 * (deadlines, heartbeats, TestRequests), session-inbound.ts (framing and dispatch), session-outbound.ts (writing).
 */

import { assert } from '../../domain/assert.ts'
import { describeError, type FixLogLevel } from './log.ts'
import type { FixField, FixMessage } from './message.ts'
import { DurableSeqNums } from './seq-nums.ts'
import { openConnection, type Connection } from './session-connection.ts'
import type { SessionContext } from './session-context.ts'
import { logout, onConnected } from './session-handshake.ts'
import { onData, processInSequence } from './session-inbound.ts'
import { inSchedule, resolveFixSessionOptions, type FixSessionOptions, type ResolvedFixSessionOptions } from './session-options.ts'
import { sendOn, sendReject } from './session-outbound.ts'
import { tellSkipped } from './session-sequence.ts'
import { checkConnectionTimers } from './session-timers.ts'
import type { FixSendTicket, FixSessionHandler, FixSessionState } from './session-types.ts'
import { SessionRejectReason } from './tags.ts'
import type { RefusedField } from './unreadable.ts'

export type { FixSendTicket, FixSessionHandler, FixSessionState } from './session-types.ts'

const TICK_MS_MAX = 1_000

export class FixSession {
  readonly id: string
  readonly #options: ResolvedFixSessionOptions
  readonly #handler: FixSessionHandler
  readonly #context: SessionContext
  #seqNums: DurableSeqNums | null = null
  #state: FixSessionState = 'stopped'
  #running = false
  #connection: Connection | null = null
  #connectionCount = 0
  #reconnectAttempts = 0
  #cancelTick: (() => void) | null = null
  #cancelReconnect: (() => void) | null = null
  #stopWaiters: (() => void)[] = []

  constructor(options: FixSessionOptions, handler: FixSessionHandler) {
    this.#options = resolveFixSessionOptions(options)
    this.#handler = handler
    this.id = `${this.#options.beginString}:${this.#options.senderCompId}->${this.#options.targetCompId}`
    this.#context = {
      id: this.id,
      options: this.#options,
      handler,
      resetAtNextLogon: false,
      seqNums: () => this.#requireSeqNums(),
      setState: (state, detail) => this.#setState(state, detail),
      disconnect: (connection, reason, level) => this.#disconnect(connection, reason, level),
      failStore: (error) => this.#failStore(error),
      process: (connection, message) => processInSequence(this.#context, connection, message),
      log: (level, event, message, extra) => this.#log(level, event, message, extra),
    }
  }

  get state(): FixSessionState {
    return this.#state
  }

  get beginString(): string {
    return this.#options.beginString
  }

  /**
   * Whether the live connection's Logon began a new numbering (session-connection.ts): read when the session turns
   * active, it says the old numbers mean nothing — also when a gap at Logon already took a number (a ResendRequest).
   */
  get numberingRestarted(): boolean {
    return this.#connection?.numberingRestarted ?? false
  }

  /** The in-memory numbers (durable or about to be); null before the store was first loaded. */
  get seqNums(): { nextSenderSeqNum: number; nextTargetSeqNum: number } | null {
    const seqNums = this.#seqNums
    return seqNums === null ? null : { nextSenderSeqNum: seqNums.nextSender, nextTargetSeqNum: seqNums.nextTarget }
  }

  /** Starts connecting (and reconnecting until `stop`). */
  start(): void {
    if (this.#running || this.#state === 'failed') return
    this.#running = true
    this.#scheduleTick()
    void this.#connect()
  }

  /** Logs out (waiting up to logoutTimeoutMs for the answer), closes, and stops reconnecting. */
  stop(): Promise<void> {
    this.#running = false
    this.#cancelReconnect?.()
    this.#cancelReconnect = null
    const connection = this.#connection
    if (connection === null) {
      this.#cancelTick?.()
      if (this.#state !== 'failed') this.#setState('stopped', 'stopped by the gateway')
      return Promise.resolve()
    }
    const stopped = new Promise<void>((resolve) => this.#stopWaiters.push(resolve))
    // A Logout already out (ours, or our answer to the venue's) still waiting for the store's save: logout closes the
    // connection once it is written. Disconnecting at once dropped it unwritten (a gap at the next Logon).
    if (connection.phase === 'active' || connection.phase === 'logout_sent') logout(this.#context, connection, 'egress stopping')
    else this.#disconnect(connection, 'stopped by the gateway', 'info')
    return stopped
  }

  /**
   * Sends an application message (body fields after the standard header) if logged on; `possResend` puts
   * PossResend=Y in the header (the message may have been sent before under another number).
   */
  send(msgType: string, body: readonly FixField[], options: { possResend?: boolean } = {}): FixSendTicket {
    const connection = this.#connection
    if (connection === null || connection.phase !== 'active') {
      return { kind: 'not_logged_on', reason: `session ${this.id} is ${this.#state}` }
    }
    return { kind: 'queued', ...sendOn(this.#context, connection, msgType, body, options.possResend === true ? { possResend: true } : {}) }
  }

  /**
   * Refuses an application message the session delivered but egress cannot use (e.g. a quantity it cannot hold
   * exactly): a session-level Reject tells the venue, and the log says what was wrong. `field` is the field at fault
   * and its SessionRejectReason (unreadable.ts); without one the Reject names no tag.
   */
  rejectMessage(message: FixMessage, text: string, field?: RefusedField): void {
    const connection = this.#connection
    if (connection === null || connection.phase !== 'active') return
    // The field at fault says its own reason (unreadable.ts): a value outside its enumeration is 5, not 6 (format).
    if (field === undefined) return sendReject(this.#context, connection, message, { reason: SessionRejectReason.valueIncorrect, text })
    sendReject(this.#context, connection, message, { reason: field.reason, text, refTagId: field.tag })
  }

  // ── connecting ───────────────────────────────────────────────────────────────────────────────────────────────────

  async #connect(): Promise<void> {
    this.#cancelReconnect = null
    if (!this.#running) return
    if (!inSchedule(this.#options.schedule, this.#options.clock.nowMs())) {
      this.#setState('waiting_schedule', 'outside the session schedule')
      return
    }
    this.#setState('connecting', `connecting to ${this.#options.target.host}:${this.#options.target.port}`)
    if (this.#seqNums === null) {
      try {
        this.#seqNums = new DurableSeqNums(this.#options.store, await this.#options.store.load())
      } catch (error: unknown) {
        this.#failStore(error)
        return
      }
    }
    if (!this.#running) return
    const connection = openConnection(++this.#connectionCount, { nowMs: this.#options.clock.nowMs(), limits: this.#options.limits })
    this.#connection = connection
    connection.transport = this.#options.connect(this.#options.target, {
      onConnect: () => onConnected(this.#context, connection),
      onData: (bytes) => onData(this.#context, connection, bytes),
      onClose: (error) => this.#onClosed(connection, error === null ? 'connection closed by peer' : `connection error: ${error.message}`),
    })
  }

  #onClosed(connection: Connection, reason: string): void {
    if (!connection.closed) {
      connection.closed = true
      this.#log(reason.startsWith('connection error') ? 'warn' : 'info', 'fix.disconnected', reason)
    }
    // Numbers a GapFill skipped before the gap healed are not asked for again by the next connection.
    tellSkipped(this.#context, connection)
    if (this.#connection !== connection) return
    this.#connection = null
    if (this.#state === 'failed') return this.#releaseStopWaiters()
    if (!this.#running) {
      this.#cancelTick?.()
      this.#setState('stopped', reason)
      return this.#releaseStopWaiters()
    }
    // The delay starts over only after a connection that stayed logged on for a heartbeat interval. Starting over at
    // every Logon let a venue that breaks the session at once after logging on (a wrong CompID or SendingTime on its
    // every message, say) have egress reconnect at the shortest delay for ever, as fast as the connection came up.
    const loggedOnAtMs = connection.loggedOnAtMs
    if (loggedOnAtMs !== null && this.#options.clock.nowMs() - loggedOnAtMs >= this.#options.heartbeatIntervalSeconds * 1000) this.#reconnectAttempts = 0
    const delayMs = Math.min(this.#options.reconnectDelayMsMax, this.#options.reconnectDelayMsMin * 2 ** Math.min(this.#reconnectAttempts, 30))
    this.#reconnectAttempts++
    this.#setState('reconnect_wait', `${reason}; reconnecting in ${delayMs} ms`)
    this.#cancelReconnect = this.#options.clock.schedule(delayMs, () => void this.#connect())
  }

  #releaseStopWaiters(): void {
    const waiters = this.#stopWaiters
    this.#stopWaiters = []
    for (const resolve of waiters) resolve()
  }

  #disconnect(connection: Connection, reason: string, level: FixLogLevel): void {
    if (connection.closed) return
    connection.closed = true
    this.#log(level, 'fix.disconnected', reason)
    // Closed at once, before a reconnect can be scheduled: nothing queued is written once the connection is closed (a
    // write finds it so: session-outbound.ts, the message abandoned fix_not_written), and a Logout is written before
    // the session disconnects (session-handshake.ts; logoutTimeoutMs bounds that wait). Closed after the write chain,
    // as before, a save that hung kept the old socket open while the session reconnected: two connections at once.
    // The transport's close still flushes bytes already handed to it (transport.ts: end, then destroy).
    connection.transport?.close()
    this.#onClosed(connection, reason)
  }

  // ── timers ───────────────────────────────────────────────────────────────────────────────────────────────────────

  #scheduleTick(): void {
    const tickMs = Math.min(TICK_MS_MAX, (this.#options.heartbeatIntervalSeconds * 1000) / 4)
    this.#cancelTick = this.#options.clock.schedule(tickMs, () => {
      if (!this.#running && this.#connection === null) return
      this.#tick()
      this.#scheduleTick()
    })
  }

  #tick(): void {
    const nowMs = this.#options.clock.nowMs()
    const scheduled = inSchedule(this.#options.schedule, nowMs)
    if (this.#state === 'waiting_schedule' && scheduled && this.#running) return void this.#connect()
    const connection = this.#connection
    if (connection === null || connection.closed) return
    checkConnectionTimers(this.#context, connection, { nowMs, scheduled })
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────────────────────────

  #setState(state: FixSessionState, detail: string): void {
    this.#state = state
    this.#log(state === 'failed' ? 'error' : 'info', 'fix.state', `${state}: ${detail}`, { state })
    this.#handler.onStateChange(state, detail)
  }

  #failStore(error: unknown): void {
    if (this.#state === 'failed') return
    this.#running = false
    this.#cancelReconnect?.()
    this.#cancelTick?.()
    this.#log('error', 'fix.store_failed', `the session store failed; the session stops: ${describeError(error)}`)
    this.#setState('failed', `store failed: ${describeError(error)}`)
    const connection = this.#connection
    if (connection !== null) this.#disconnect(connection, 'session store failed', 'error')
  }

  #requireSeqNums(): DurableSeqNums {
    const seqNums = this.#seqNums
    assert(seqNums !== null, 'sequence numbers are loaded before any connection exists')
    return seqNums
  }

  #log(level: FixLogLevel, event: string, message: string, extra: Record<string, unknown> = {}): void {
    this.#options.log({ level, event, session: this.id, message, ...extra })
  }
}
