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
 * PossDupFlag=Y (already processed) and is fatal otherwise (Logout, disconnect). Garbled messages (bad checksum, bad
 * field) are ignored and logged; the gap they leave is healed by the resend. Lost framing disconnects.
 */

import { assert } from '../../domain/assert.ts'
import { encodeFixMessage, FixCodecError, FixFrameReader } from './codec.ts'
import type { FixLogLevel } from './log.ts'
import { FixMessage, parseNonNegativeInt, parsePositiveInt, type FixField } from './message.ts'
import { DurableSeqNums } from './seq-nums.ts'
import { inSchedule, resolveFixSessionOptions, type FixSessionOptions, type ResolvedFixSessionOptions } from './session-options.ts'
import { MsgType, SessionRejectReason, Tag } from './tags.ts'
import { formatUtcTimestamp } from './time.ts'
import type { FixTransport } from './transport.ts'

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
  /** The counterparty refused one of our messages at session level (35=3). */
  onSessionReject(reject: { refSeqNum: number; reason: string; message: FixMessage }): void
  /**
   * Our messages with these numbers will never be processed by the counterparty: `not_written` (the connection ended
   * before the bytes reached the socket) or `gap_filled` (the venue asked for them again and egress gap-filled).
   */
  onMessagesAbandoned(range: { beginSeqNum: number; endSeqNum: number; cause: 'not_written' | 'gap_filled' }): void
  onStateChange(state: FixSessionState, detail: string): void
}

export type FixSendTicket =
  /** `written` resolves true once the bytes are handed to the socket, false if the connection ended first. */
  | { kind: 'queued'; seqNum: number; written: Promise<boolean> }
  | { kind: 'not_logged_on'; reason: string }

interface Connection {
  readonly id: number
  transport: FixTransport | null
  readonly reader: FixFrameReader
  phase: 'connecting' | 'logon_sent' | 'active' | 'logout_sent'
  phaseSinceMs: number
  lastSentMs: number
  lastReceivedMs: number
  testRequest: { id: string; sentMs: number } | null
  /** Set while a ResendRequest is outstanding: the highest number seen above the gap. */
  resendUpTo: number | null
  readonly queued: Map<number, FixMessage>
  /** ResendRequests already answered while they sat above a gap (so dequeuing them does not answer twice). */
  readonly served: WeakSet<FixMessage>
  garbledInRow: number
  writeChain: Promise<unknown>
  closed: boolean
}

const TEST_REQUEST_GRACE = 1.2
const TICK_MS_MAX = 1_000

export class FixSession {
  readonly id: string
  readonly #options: ResolvedFixSessionOptions
  readonly #handler: FixSessionHandler
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
  }

  get state(): FixSessionState {
    return this.#state
  }

  get beginString(): string {
    return this.#options.beginString
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
    if (connection.phase === 'active') this.#logout(connection, 'egress stopping')
    else this.#disconnect(connection, 'stopped by the gateway', 'info')
    return stopped
  }

  /** Sends an application message (body fields after the standard header) if logged on. */
  send(msgType: string, body: readonly FixField[]): FixSendTicket {
    const connection = this.#connection
    if (connection === null || connection.phase !== 'active') {
      return { kind: 'not_logged_on', reason: `session ${this.id} is ${this.#state}` }
    }
    return { kind: 'queued', ...this.#sendOn(connection, msgType, body, {}) }
  }

  /**
   * Refuses an application message the session delivered but egress cannot use (e.g. a quantity it cannot hold
   * exactly): a session-level Reject tells the venue, and the log says what was wrong.
   */
  rejectMessage(message: FixMessage, text: string, refTagId?: number): void {
    const connection = this.#connection
    if (connection === null || connection.phase !== 'active') return
    const reason = refTagId === undefined ? SessionRejectReason.valueIncorrect : SessionRejectReason.incorrectDataFormat
    this.#sendReject(connection, message.seqNum, message.msgType, reason, text, refTagId)
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
    const now = this.#options.clock.nowMs()
    const connection: Connection = {
      id: ++this.#connectionCount,
      transport: null,
      reader: new FixFrameReader(this.#options.limits),
      phase: 'connecting',
      phaseSinceMs: now,
      lastSentMs: now,
      lastReceivedMs: now,
      testRequest: null,
      resendUpTo: null,
      queued: new Map(),
      served: new WeakSet(),
      garbledInRow: 0,
      writeChain: Promise.resolve(),
      closed: false,
    }
    this.#connection = connection
    connection.transport = this.#options.connect(this.#options.target, {
      onConnect: () => this.#onConnected(connection),
      onData: (bytes) => this.#onData(connection, bytes),
      onClose: (error) => this.#onClosed(connection, error === null ? 'connection closed by peer' : `connection error: ${error.message}`),
    })
  }

  #onConnected(connection: Connection): void {
    if (connection.closed) return
    const seqNums = this.#requireSeqNums()
    const reset = this.#options.resetOnLogon === 'always'
    if (reset) seqNums.reset()
    const body: FixField[] = [[Tag.EncryptMethod, '0'], [Tag.HeartBtInt, String(this.#options.heartbeatIntervalSeconds)]]
    if (reset) body.push([Tag.ResetSeqNumFlag, 'Y'])
    this.#enterPhase(connection, 'logon_sent')
    this.#setState('logon_sent', reset ? 'Logon sent with ResetSeqNumFlag=Y' : `Logon sent with MsgSeqNum ${seqNums.nextSender}`)
    this.#sendOn(connection, MsgType.Logon, body, {})
  }

  #onClosed(connection: Connection, reason: string): void {
    if (!connection.closed) {
      connection.closed = true
      this.#log(reason.startsWith('connection error') ? 'warn' : 'info', 'fix.disconnected', reason)
    }
    if (this.#connection !== connection) return
    this.#connection = null
    if (this.#state === 'failed') return this.#releaseStopWaiters()
    if (!this.#running) {
      this.#cancelTick?.()
      this.#setState('stopped', reason)
      return this.#releaseStopWaiters()
    }
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

  // ── inbound ──────────────────────────────────────────────────────────────────────────────────────────────────────

  #onData(connection: Connection, bytes: Uint8Array): void {
    if (connection.closed) return
    try {
      connection.reader.push(bytes)
    } catch (error: unknown) {
      return this.#onCodecError(connection, error)
    }
    while (!connection.closed) {
      let message: FixMessage | null
      try {
        message = connection.reader.next()
      } catch (error: unknown) {
        this.#onCodecError(connection, error)
        continue
      }
      if (message === null) return
      connection.garbledInRow = 0
      connection.lastReceivedMs = this.#options.clock.nowMs()
      connection.testRequest = null
      try {
        this.#onMessage(connection, message)
      } catch (error: unknown) {
        // A throw here is a bug in egress; the connection is dropped (and the resend on reconnect re-delivers).
        this.#log('error', 'fix.handler_error', `processing ${message.toString()} threw: ${describe(error)}`)
        this.#disconnect(connection, 'internal error while processing a message', 'error')
      }
    }
  }

  #onCodecError(connection: Connection, error: unknown): void {
    if (!(error instanceof FixCodecError)) throw error
    if (!error.recoverable) {
      this.#log('error', 'fix.framing_lost', `${error.code}: ${error.message}`)
      this.#disconnect(connection, `unreadable input (${error.code})`, 'error')
      return
    }
    connection.garbledInRow++
    this.#log('warn', 'fix.garbled_message', `ignored a garbled message (${error.code}: ${error.message})`, {
      seqNum: error.seqNum,
      garbledInRow: connection.garbledInRow,
    })
    if (connection.garbledInRow >= this.#options.garbledMessagesMax) {
      this.#disconnect(connection, `${connection.garbledInRow} garbled messages in a row`, 'error')
    }
  }

  #onMessage(connection: Connection, message: FixMessage): void {
    if (!this.#checkHeader(connection, message)) return
    const seqNum = message.seqNum
    if (Number.isNaN(seqNum)) return this.#logout(connection, 'MsgSeqNum missing or not a positive integer', true)
    if (connection.phase === 'logon_sent') return this.#onLogonPhaseMessage(connection, message)
    if (message.msgType === MsgType.SequenceReset && message.get(Tag.GapFillFlag) !== 'Y') return this.#onSequenceReset(connection, message)
    const expected = this.#requireSeqNums().nextTarget
    if (seqNum > expected) {
      if (message.msgType === MsgType.Logout) return this.#onLogout(connection, message)
      if (message.msgType === MsgType.ResendRequest) {
        this.#serveResend(connection, message)
        connection.served.add(message)
      }
      return this.#queueAboveGap(connection, message)
    }
    if (seqNum < expected) {
      if (message.possDup) {
        this.#log('debug', 'fix.possdup_dropped', `dropped PossDup MsgSeqNum ${seqNum} (expecting ${expected})`)
        return
      }
      return this.#logout(connection, `MsgSeqNum too low, expecting ${expected} but received ${seqNum}`, true)
    }
    this.#process(connection, message)
    this.#drainQueue(connection)
  }

  /** BeginString and CompIDs must be this session's; anything else is a misrouted or forged message. */
  #checkHeader(connection: Connection, message: FixMessage): boolean {
    const options = this.#options
    if (message.beginString !== options.beginString) {
      this.#logout(connection, `Incorrect BeginString ${message.beginString}`, true)
      return false
    }
    if (message.get(Tag.SenderCompID) !== options.targetCompId || message.get(Tag.TargetCompID) !== options.senderCompId) {
      const seqNum = message.seqNum
      if (!Number.isNaN(seqNum) && connection.phase === 'active') {
        this.#sendReject(connection, seqNum, message.msgType, SessionRejectReason.compIdProblem, 'CompID problem')
      }
      this.#logout(connection, `CompID problem: ${message.get(Tag.SenderCompID)}->${message.get(Tag.TargetCompID)}`, true)
      return false
    }
    return true
  }

  #onLogonPhaseMessage(connection: Connection, message: FixMessage): void {
    if (message.msgType === MsgType.Logout) {
      this.#log('error', 'fix.logon_rejected', `the counterparty answered our Logon with Logout: ${message.get(Tag.Text) ?? '(no text)'}`)
      this.#disconnect(connection, 'logon rejected', 'warn')
      return
    }
    if (message.msgType !== MsgType.Logon) {
      this.#log('error', 'fix.logon_expected', `first message was ${message.msgType}, not Logon`)
      this.#disconnect(connection, 'first message was not a Logon', 'warn')
      return
    }
    const seqNums = this.#requireSeqNums()
    if (message.get(Tag.ResetSeqNumFlag) === 'Y' && this.#options.resetOnLogon !== 'always') {
      // The counterparty reset its numbers; ours toward it are gap-filled if it asks.
      this.#log('warn', 'fix.counterparty_reset', 'the Logon answer carries ResetSeqNumFlag=Y: expecting MsgSeqNum 1 from now on')
      seqNums.setTarget(1)
    }
    const seqNum = message.seqNum
    const expected = seqNums.nextTarget
    if (seqNum < expected) return this.#logout(connection, `MsgSeqNum too low, expecting ${expected} but received ${seqNum}`, true)
    this.#enterPhase(connection, 'active')
    this.#reconnectAttempts = 0
    if (seqNum > expected) this.#queueAboveGap(connection, message)
    else this.#advance(seqNum)
    this.#setState('active', `logged on (next sender ${seqNums.nextSender}, next target ${seqNums.nextTarget})`)
    this.#drainQueue(connection)
  }

  /** Processes one in-sequence message. */
  #process(connection: Connection, message: FixMessage): void {
    const seqNum = message.seqNum
    switch (message.msgType) {
      case MsgType.Heartbeat:
      case MsgType.Logon:
        return this.#advance(seqNum)
      case MsgType.TestRequest:
        this.#advance(seqNum)
        this.#sendOn(connection, MsgType.Heartbeat, [[Tag.TestReqID, message.get(Tag.TestReqID) ?? 'TEST']], {})
        return
      case MsgType.ResendRequest:
        this.#advance(seqNum)
        if (!connection.served.has(message)) this.#serveResend(connection, message)
        return
      case MsgType.SequenceReset:
        return this.#onGapFill(connection, message)
      case MsgType.Reject:
        this.#advance(seqNum)
        this.#onReject(message)
        return
      case MsgType.Logout:
        this.#advance(seqNum)
        return this.#onLogout(connection, message)
      default:
        this.#advance(seqNum)
        this.#handler.onApplicationMessage(message)
    }
  }

  #advance(seqNum: number): void {
    const seqNums = this.#requireSeqNums()
    seqNums.setTarget(seqNum + 1)
    // Not awaited: losing this save only means the venue re-sends (PossDupFlag=Y) what was already processed.
    seqNums.flush().catch((error: unknown) => this.#failStore(error))
  }

  #queueAboveGap(connection: Connection, message: FixMessage): void {
    const expected = this.#requireSeqNums().nextTarget
    if (connection.queued.size >= this.#options.queuedMessagesMax) {
      this.#disconnect(connection, `more than ${this.#options.queuedMessagesMax} messages queued above a sequence gap`, 'error')
      return
    }
    connection.queued.set(message.seqNum, message)
    if (connection.resendUpTo === null) {
      this.#log('warn', 'fix.gap_detected', `expected MsgSeqNum ${expected}, received ${message.seqNum}: sending ResendRequest`)
      this.#sendOn(connection, MsgType.ResendRequest, [[Tag.BeginSeqNo, String(expected)], [Tag.EndSeqNo, '0']], {})
    }
    connection.resendUpTo = Math.max(connection.resendUpTo ?? 0, message.seqNum)
  }

  #drainQueue(connection: Connection): void {
    const seqNums = this.#requireSeqNums()
    for (;;) {
      if (connection.closed) return
      for (const seqNum of connection.queued.keys()) if (seqNum < seqNums.nextTarget) connection.queued.delete(seqNum)
      const next = connection.queued.get(seqNums.nextTarget)
      if (next === undefined) break
      connection.queued.delete(seqNums.nextTarget)
      this.#process(connection, next)
    }
    if (connection.resendUpTo !== null && seqNums.nextTarget > connection.resendUpTo) {
      this.#log('info', 'fix.gap_filled', `sequence gap healed; next expected MsgSeqNum ${seqNums.nextTarget}`)
      connection.resendUpTo = null
    }
  }

  #onGapFill(connection: Connection, message: FixMessage): void {
    const seqNum = message.seqNum
    const newSeqNo = parsePositiveInt(message.get(Tag.NewSeqNo))
    if (Number.isNaN(newSeqNo) || newSeqNo <= seqNum) {
      this.#advance(seqNum)
      this.#sendReject(connection, seqNum, message.msgType, SessionRejectReason.valueIncorrect, `NewSeqNo must exceed MsgSeqNum ${seqNum}`)
      return
    }
    this.#advance(newSeqNo - 1)
  }

  /** SequenceReset-Reset: MsgSeqNum is ignored; NewSeqNo may only move the expected number up. */
  #onSequenceReset(connection: Connection, message: FixMessage): void {
    const seqNums = this.#requireSeqNums()
    const newSeqNo = parsePositiveInt(message.get(Tag.NewSeqNo))
    if (Number.isNaN(newSeqNo) || newSeqNo < seqNums.nextTarget) {
      this.#sendReject(connection, message.seqNum, message.msgType, SessionRejectReason.valueIncorrect, `NewSeqNo ${message.get(Tag.NewSeqNo)} is below the expected ${seqNums.nextTarget}`)
      return
    }
    this.#log('warn', 'fix.sequence_reset', `SequenceReset-Reset: next expected MsgSeqNum ${seqNums.nextTarget} -> ${newSeqNo}`)
    this.#advance(newSeqNo - 1)
    this.#drainQueue(connection)
  }

  #onReject(message: FixMessage): void {
    const refSeqNum = parsePositiveInt(message.get(Tag.RefSeqNum))
    const reason = [message.get(Tag.SessionRejectReason) && `SessionRejectReason ${message.get(Tag.SessionRejectReason)}`, message.get(Tag.Text)]
      .filter((part) => part !== undefined && part !== '')
      .join(': ')
    this.#log('warn', 'fix.session_reject', `the counterparty rejected our MsgSeqNum ${message.get(Tag.RefSeqNum)}: ${reason}`)
    if (!Number.isNaN(refSeqNum)) this.#handler.onSessionReject({ refSeqNum, reason: reason || 'session reject', message })
  }

  #onLogout(connection: Connection, message: FixMessage): void {
    const text = message.get(Tag.Text) ?? '(no text)'
    if (connection.phase === 'logout_sent') return this.#disconnect(connection, `logout confirmed: ${text}`, 'info')
    this.#log(/too low/i.test(text) ? 'error' : 'warn', 'fix.logout_received', `the counterparty logged out: ${text}`)
    this.#sendOn(connection, MsgType.Logout, [], {})
    this.#disconnect(connection, `logged out by the counterparty: ${text}`, 'info')
  }

  /** Answers a ResendRequest with one SequenceReset-GapFill: egress never replays application messages. */
  #serveResend(connection: Connection, message: FixMessage): void {
    const nextSender = this.#requireSeqNums().nextSender
    const begin = parsePositiveInt(message.get(Tag.BeginSeqNo))
    const end = parseNonNegativeInt(message.get(Tag.EndSeqNo))
    if (Number.isNaN(begin) || Number.isNaN(end) || (end !== 0 && end < begin)) {
      this.#sendReject(connection, message.seqNum, message.msgType, SessionRejectReason.valueIncorrect, 'BeginSeqNo/EndSeqNo out of range')
      return
    }
    const last = end === 0 || end >= nextSender ? nextSender - 1 : end
    if (begin > last) {
      this.#log('warn', 'fix.resend_nothing', `ResendRequest ${begin}..${end} asks for nothing we sent (next ${nextSender})`)
      return
    }
    this.#log('info', 'fix.resend_gap_fill', `ResendRequest ${begin}..${end}: gap-filling ${begin}..${last} (no application replay)`)
    this.#sendOn(connection, MsgType.SequenceReset, [[Tag.GapFillFlag, 'Y'], [Tag.NewSeqNo, String(last + 1)]], { seqNum: begin, possDup: true })
    this.#handler.onMessagesAbandoned({ beginSeqNum: begin, endSeqNum: last, cause: 'gap_filled' })
  }

  // ── outbound ─────────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Builds and queues one message. Its number is taken now; the bytes reach the socket only after the store has the
   * next number durably, and in number order. `seqNum` overrides the number (gap fills reuse the requested one).
   */
  #sendOn(
    connection: Connection,
    msgType: string,
    body: readonly FixField[],
    options: { seqNum?: number; possDup?: boolean },
  ): { seqNum: number; written: Promise<boolean> } {
    const seqNums = this.#requireSeqNums()
    const seqNum = options.seqNum ?? seqNums.takeSender()
    const sendingTime = formatUtcTimestamp(this.#options.clock.nowMs())
    const fields: FixField[] = [
      [Tag.MsgType, msgType],
      [Tag.SenderCompID, this.#options.senderCompId],
      [Tag.TargetCompID, this.#options.targetCompId],
      [Tag.MsgSeqNum, String(seqNum)],
      [Tag.SendingTime, sendingTime],
    ]
    if (options.possDup === true) fields.push([Tag.PossDupFlag, 'Y'], [Tag.OrigSendingTime, sendingTime])
    fields.push(...body)
    const bytes = encodeFixMessage(this.#options.beginString, fields)
    const written = connection.writeChain.then(async () => {
      try {
        await seqNums.flush()
      } catch (error: unknown) {
        this.#failStore(error)
        return false
      }
      const transport = connection.transport
      if (connection.closed || transport === null) return false
      const queuedBytes = transport.write(bytes)
      connection.lastSentMs = this.#options.clock.nowMs()
      if (queuedBytes > this.#options.writeBufferBytesMax) {
        this.#disconnect(connection, `${queuedBytes} bytes unwritten (writeBufferBytesMax ${this.#options.writeBufferBytesMax}): the peer is not reading`, 'error')
      }
      return true
    })
    connection.writeChain = written
    if (options.seqNum === undefined) {
      // A number taken but never written leaves a gap the venue will ask about; tell the handler now.
      void written.then((ok) => {
        if (!ok) this.#handler.onMessagesAbandoned({ beginSeqNum: seqNum, endSeqNum: seqNum, cause: 'not_written' })
      })
    }
    return { seqNum, written }
  }

  #sendReject(connection: Connection, refSeqNum: number, refMsgType: string, reason: number, text: string, refTagId?: number): void {
    this.#log('warn', 'fix.reject_sent', `rejecting MsgSeqNum ${refSeqNum}: ${text}`)
    const body: FixField[] = [[Tag.RefSeqNum, String(Number.isNaN(refSeqNum) ? 0 : refSeqNum)], [Tag.Text, text.slice(0, 200)]]
    if (refTagId !== undefined) body.push([Tag.RefTagID, String(refTagId)])
    if (refMsgType !== '') body.push([Tag.RefMsgType, refMsgType])
    body.push([Tag.SessionRejectReason, String(reason)])
    this.#sendOn(connection, MsgType.Reject, body, {})
  }

  /** Sends Logout and waits (logoutTimeoutMs) for the answer; `fatal` also logs the cause as an error. */
  #logout(connection: Connection, text: string, fatal = false): void {
    if (connection.closed) return
    if (fatal) this.#log('error', 'fix.session_error', text)
    if (connection.phase === 'connecting') return this.#disconnect(connection, text, 'warn')
    this.#sendOn(connection, MsgType.Logout, [[Tag.Text, text]], {})
    this.#enterPhase(connection, 'logout_sent')
    this.#setState('logout_sent', text)
  }

  #disconnect(connection: Connection, reason: string, level: FixLogLevel): void {
    if (connection.closed) return
    connection.closed = true
    this.#log(level, 'fix.disconnected', reason)
    const transport = connection.transport
    // Let queued writes (a Logout) reach the socket before closing it.
    void connection.writeChain.then(() => transport?.close())
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
    const heartbeatMs = this.#options.heartbeatIntervalSeconds * 1000
    const inPhaseMs = nowMs - connection.phaseSinceMs
    switch (connection.phase) {
      case 'connecting':
        return
      case 'logon_sent':
        if (inPhaseMs >= this.#options.logonTimeoutMs) this.#disconnect(connection, `no Logon answer in ${this.#options.logonTimeoutMs} ms`, 'warn')
        return
      case 'logout_sent':
        if (inPhaseMs >= this.#options.logoutTimeoutMs) this.#disconnect(connection, 'no Logout answer in time', 'info')
        return
      case 'active':
        if (!scheduled) return this.#logout(connection, 'end of the session schedule')
        if (connection.testRequest !== null && nowMs - connection.testRequest.sentMs >= heartbeatMs) {
          return this.#disconnect(connection, `no answer to TestRequest ${connection.testRequest.id} within ${heartbeatMs} ms`, 'error')
        }
        if (connection.testRequest === null && nowMs - connection.lastReceivedMs >= heartbeatMs * TEST_REQUEST_GRACE) {
          const id = `TEST-${nowMs}`
          connection.testRequest = { id, sentMs: nowMs }
          this.#sendOn(connection, MsgType.TestRequest, [[Tag.TestReqID, id]], {})
        }
        if (nowMs - connection.lastSentMs >= heartbeatMs) this.#sendOn(connection, MsgType.Heartbeat, [], {})
        return
    }
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────────────────────────

  #enterPhase(connection: Connection, phase: Connection['phase']): void {
    connection.phase = phase
    connection.phaseSinceMs = this.#options.clock.nowMs()
  }

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
    this.#log('error', 'fix.store_failed', `the session store failed; the session stops: ${describe(error)}`)
    this.#setState('failed', `store failed: ${describe(error)}`)
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

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}
