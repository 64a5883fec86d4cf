/**
 * Inbound dispatch: bytes → frames (garbled messages ignored and counted, lost framing fatal), the header checks
 * (BeginString, CompIDs), the sequence rules (expected → processed, higher → queued, lower → dropped if PossDupFlag=Y
 * and fatal otherwise), and the switch that hands each in-sequence message to its handler — session messages to the
 * handshake and sequence parts, a Reject or an application message to the FixSessionHandler.
 */

import { FixCodecError } from './codec.ts'
import { describeError } from './log.ts'
import { FixMessage, parsePositiveInt, type FixMessageDefect } from './message.ts'
import type { Connection } from './session-connection.ts'
import type { SessionContext } from './session-context.ts'
import { logout, logoutSeqNumTooLow, onCounterpartyReset, onLogonPhaseMessage, onLogout } from './session-handshake.ts'
import { sendOn, sendReject } from './session-outbound.ts'
import { sendingTimeDefect } from './session-sending-time.ts'
import { advance, drainQueue, onGapFill, onSequenceReset, queueAboveGap, serveResend } from './session-sequence.ts'
import { MsgType, SessionRejectReason, Tag } from './tags.ts'

export function onData(session: SessionContext, connection: Connection, bytes: Uint8Array): void {
  if (connection.closed || connection.inboundStopped) return
  try {
    connection.reader.push(bytes)
  } catch (error: unknown) {
    return onCodecError(session, connection, error)
  }
  while (!connection.closed && !connection.inboundStopped) {
    let message: FixMessage | null
    try {
      message = connection.reader.next()
    } catch (error: unknown) {
      onCodecError(session, connection, error)
      continue
    }
    if (message === null) return
    connection.garbledInRow = 0
    connection.lastReceivedMs = session.options.clock.nowMs()
    connection.testRequest = null
    try {
      onMessage(session, connection, message)
    } catch (error: unknown) {
      // A throw here is a bug in egress. The message is not delivered again: its MsgSeqNum was taken (`advance`, before
      // the handler) so the venue is never asked to resend it, and asking would only replay the throw at every
      // reconnect. What it said is lost to the adapter: a request it answered ends unknown with the dropped connection,
      // and reconciliation (read-backs, the open-order sweep) reads the order's state back from the venue.
      // The connection is dropped so the session restarts from its saved numbers rather than from a half-run handler.
      session.log('error', 'fix.handler_error', `processing ${message.toString()} threw: ${describeError(error)}`)
      session.disconnect(connection, 'internal error while processing a message', 'error')
    }
  }
}

function onCodecError(session: SessionContext, connection: Connection, error: unknown): void {
  if (!(error instanceof FixCodecError)) throw error
  if (!error.recoverable) {
    session.log('error', 'fix.framing_lost', `${error.code}: ${error.message}`)
    session.disconnect(connection, `unreadable input (${error.code})`, 'error')
    return
  }
  connection.garbledInRow++
  session.log('warn', 'fix.garbled_message', `ignored a garbled message (${error.code}: ${error.message})`, {
    seqNum: error.seqNum,
    garbledInRow: connection.garbledInRow,
  })
  if (connection.garbledInRow >= session.options.garbledMessagesMax) {
    session.disconnect(connection, `${connection.garbledInRow} garbled messages in a row`, 'error')
  }
}

function onMessage(session: SessionContext, connection: Connection, received: FixMessage): void {
  if (!checkHeader(session, connection, received)) return
  const seqNum = received.seqNum
  if (Number.isNaN(seqNum)) return logout(session, connection, 'MsgSeqNum missing or not a positive integer', true)
  const timeDefect = received.defect === undefined ? sendingTimeDefect(received, { nowMs: session.options.clock.nowMs(), toleranceMs: session.options.sendingTimeToleranceMs }) : null
  if (timeDefect?.logout === true) return refuseInaccurateTime(session, connection, received, timeDefect)
  // A time missing or unreadable is a defect like a bad field: refused in its turn (processInSequence).
  const message = timeDefect === null ? received : new FixMessage(received.beginString, received.fields, timeDefect)
  const defect = message.defect
  if (connection.phase === 'logon_sent') {
    if (defect !== undefined) return logout(session, connection, `the Logon answer is malformed: ${defect.text}`, true)
    return onLogonPhaseMessage(session, connection, message)
  }
  // A malformed message takes its place in the sequence like any other and is rejected there (processInSequence); none
  // of what its type would do happens.
  if (defect === undefined && message.msgType === MsgType.Logon && message.get(Tag.ResetSeqNumFlag) === 'Y' && !message.possDup) return onCounterpartyReset(session, connection, message)
  if (defect === undefined && message.msgType === MsgType.SequenceReset && message.get(Tag.GapFillFlag) !== 'Y') return onSequenceReset(session, connection, message)
  const expected = session.seqNums().nextTarget
  if (seqNum > expected) {
    if (defect !== undefined) return queueAboveGap(session, connection, message)
    if (message.msgType === MsgType.Logout) return onLogout(session, connection, message)
    if (message.msgType === MsgType.ResendRequest) {
      serveResend(session, connection, message)
      connection.served.add(message)
    }
    return queueAboveGap(session, connection, message)
  }
  if (seqNum < expected) {
    if (message.possDup) {
      session.log('debug', 'fix.possdup_dropped', `dropped PossDup MsgSeqNum ${seqNum} (expecting ${expected})`)
      return
    }
    return logoutSeqNumTooLow(session, connection, `MsgSeqNum too low, expecting ${expected} but received ${seqNum}`)
  }
  processInSequence(session, connection, message)
  drainQueue(session, connection)
}

/**
 * A SendingTime accuracy problem (session-sending-time.ts): Reject (SessionRejectReason 10) and Logout, as FIX and
 * QuickFIX (`doBadTime`) do. A message in its turn has its number consumed (test case 2t: "increment inbound MsgSeqNum")
 * and is never delivered, so the order it names is read back; one above a gap is not consumed, and the venue resends it
 * (with a new SendingTime) after the reconnect. A SequenceReset's number is never consumed (QuickFIX's generateReject).
 * A Logon answer with one fails the logon.
 */
function refuseInaccurateTime(session: SessionContext, connection: Connection, message: FixMessage, defect: FixMessageDefect): void {
  session.log('error', 'fix.sending_time_inaccurate', `MsgSeqNum ${message.seqNum} (${message.msgType}): ${defect.text}`)
  if (connection.phase === 'logon_sent') return logout(session, connection, `the Logon answer's ${defect.text}`, true)
  // Our Logout is out: nothing more is sent on this connection (logout closes it).
  if (connection.phase === 'logout_sent') return logout(session, connection, `SendingTime accuracy problem while logging out: ${defect.text}`, true)
  const inTurn = message.seqNum === session.seqNums().nextTarget && message.msgType !== MsgType.SequenceReset
  if (inTurn) advance(session, message.seqNum)
  sendReject(session, connection, message, { reason: defect.reason, text: defect.text, refTagId: defect.refTagId })
  if (inTurn) session.handler.onMessageRefused(message)
  logout(session, connection, `SendingTime accuracy problem: ${defect.text}`, true)
}

/** BeginString and CompIDs must be this session's; anything else is a misrouted or forged message. */
function checkHeader(session: SessionContext, connection: Connection, message: FixMessage): boolean {
  const options = session.options
  if (message.beginString !== options.beginString) {
    logout(session, connection, `Incorrect BeginString ${message.beginString}`, true)
    return false
  }
  if (message.get(Tag.SenderCompID) !== options.targetCompId || message.get(Tag.TargetCompID) !== options.senderCompId) {
    const seqNum = message.seqNum
    if (!Number.isNaN(seqNum) && connection.phase === 'active') {
      // Its number is consumed in its turn, as QuickFIX does (doBadCompID: generateReject increments the expected
      // number when it is the message's; FIX test case 2i: "increment inbound MsgSeqNum"): left unconsumed, the venue
      // resent it after the reconnect and the session broke on it again, every time.
      // What it said is not taken (a misrouted or forged message), but if it names an order of ours, that is read back.
      const inTurn = seqNum === session.seqNums().nextTarget && message.msgType !== MsgType.SequenceReset
      if (inTurn) advance(session, seqNum)
      sendReject(session, connection, message, { reason: SessionRejectReason.compIdProblem, text: 'CompID problem' })
      if (inTurn) session.handler.onMessageRefused(message)
    }
    logout(session, connection, `CompID problem: ${message.get(Tag.SenderCompID)}->${message.get(Tag.TargetCompID)}`, true)
    return false
  }
  return true
}

/** Processes one in-sequence message. */
export function processInSequence(session: SessionContext, connection: Connection, message: FixMessage): void {
  const seqNum = message.seqNum
  if (message.defect !== undefined) return refuseMalformed(session, connection, message, message.defect)
  switch (message.msgType) {
    case MsgType.Heartbeat:
    case MsgType.Logon:
      return advance(session, seqNum)
    case MsgType.TestRequest:
      advance(session, seqNum)
      sendOn(session, connection, MsgType.Heartbeat, [[Tag.TestReqID, message.get(Tag.TestReqID) ?? 'TEST']], {})
      return
    case MsgType.ResendRequest:
      advance(session, seqNum)
      if (!connection.served.has(message)) serveResend(session, connection, message)
      return
    case MsgType.SequenceReset:
      return onGapFill(session, connection, message)
    case MsgType.Reject:
      advance(session, seqNum)
      onReject(session, message)
      return
    case MsgType.Logout:
      advance(session, seqNum)
      return onLogout(session, connection, message)
    default:
      advance(session, seqNum)
      session.handler.onApplicationMessage(message)
  }
}

/**
 * A message that broke a field rule: session Reject naming the field, and its number consumed, so the venue does not
 * resend it (it would resend the same bytes, and every message after it would wait above the gap for ever). The
 * handler hears of it: what it said is lost, and the order it named is to be read back.
 */
function refuseMalformed(session: SessionContext, connection: Connection, message: FixMessage, defect: FixMessageDefect): void {
  advance(session, message.seqNum)
  session.log('error', 'fix.malformed_message', `refused MsgSeqNum ${message.seqNum} (${defect.text}): ${message.toString()}`)
  sendReject(session, connection, message, { reason: defect.reason, text: defect.text, refTagId: defect.refTagId })
  session.handler.onMessageRefused(message)
}

function onReject(session: SessionContext, message: FixMessage): void {
  const refSeqNum = parsePositiveInt(message.get(Tag.RefSeqNum))
  const reason = [message.get(Tag.SessionRejectReason) && `SessionRejectReason ${message.get(Tag.SessionRejectReason)}`, message.get(Tag.Text)]
    .filter((part) => part !== undefined && part !== '')
    .join(': ')
  session.log('warn', 'fix.session_reject', `the counterparty rejected our MsgSeqNum ${message.get(Tag.RefSeqNum)}: ${reason}`)
  if (!Number.isNaN(refSeqNum)) session.handler.onSessionReject({ refSeqNum, reason: reason || 'session reject', message })
}
