/**
 * Inbound sequence numbers: advancing the expected number (saved without blocking), queueing messages above a gap
 * and asking once for a resend, draining the queue as the gap heals, SequenceReset (GapFill and Reset), and answering
 * the counterparty's ResendRequest with one SequenceReset-GapFill. Kept apart because the session's promises about
 * numbers live here: nothing processed twice or out of order, no gap skipped unasked, no application message
 * replayed (see README.md, "Resend policy").
 */

import { parseNonNegativeInt, parsePositiveInt, parseSeqNum, type FixMessage } from './message.ts'
import type { Connection } from './session-connection.ts'
import type { SessionContext } from './session-context.ts'
import { sendOn, sendReject } from './session-outbound.ts'
import { FIX_SEQ_NUM_MAX } from './store.ts'
import { MsgType, SessionRejectReason, Tag } from './tags.ts'

export function advance(session: SessionContext, seqNum: number): void {
  const seqNums = session.seqNums()
  seqNums.setTarget(seqNum + 1)
  // Not awaited: losing this save only means the venue re-sends (PossDupFlag=Y) what was already processed.
  seqNums.flush().catch((error: unknown) => session.failStore(error))
}

export function queueAboveGap(session: SessionContext, connection: Connection, message: FixMessage): void {
  const expected = session.seqNums().nextTarget
  if (connection.queued.size >= session.options.queuedMessagesMax) {
    session.disconnect(connection, `more than ${session.options.queuedMessagesMax} messages queued above a sequence gap`, 'error')
    return
  }
  const replaced = connection.queued.get(message.seqNum)?.fields.length ?? 0
  if (connection.queuedFields - replaced + message.fields.length > session.options.queuedFieldsMax) {
    session.disconnect(connection, `more than ${session.options.queuedFieldsMax} fields queued above a sequence gap`, 'error')
    return
  }
  connection.queued.set(message.seqNum, message)
  connection.queuedFields += message.fields.length - replaced
  if (connection.resendUpTo === null) {
    session.log('warn', 'fix.gap_detected', `expected MsgSeqNum ${expected}, received ${message.seqNum}: sending ResendRequest`)
    askResend(session, connection, expected)
  }
  connection.resendUpTo = Math.max(connection.resendUpTo ?? 0, message.seqNum)
}

function askResend(session: SessionContext, connection: Connection, expected: number): void {
  connection.resendProgress = { seqNum: expected, atMs: session.options.clock.nowMs() }
  sendOn(session, connection, MsgType.ResendRequest, [[Tag.BeginSeqNo, String(expected)], [Tag.EndSeqNo, '0']], {})
}

/**
 * Asks for the gap again when an outstanding ResendRequest has not moved the expected number for `stallMs`. No second
 * ResendRequest goes out while one is open, so a resend answer that heals nothing — a GapFill refused as malformed
 * (it consumes its own number only), a resent message garbled again, a ResendRequest the venue dropped — left every
 * later message, fills included, queued above the gap until queuedMessagesMax (10,000 messages: days of heartbeats on a
 * quiet session), the session active all the while. A resend in progress moves the number and is never asked again.
 */
export function askAgainIfStalled(session: SessionContext, connection: Connection, options: { nowMs: number; stallMs: number }): void {
  const progress = connection.resendProgress
  if (connection.resendUpTo === null || progress === null) return
  const expected = session.seqNums().nextTarget
  if (expected !== progress.seqNum) {
    connection.resendProgress = { seqNum: expected, atMs: options.nowMs }
    return
  }
  if (options.nowMs - progress.atMs < options.stallMs) return
  session.log('warn', 'fix.gap_stalled', `no progress past MsgSeqNum ${expected} for ${options.nowMs - progress.atMs} ms since the last ResendRequest: asking again`)
  askResend(session, connection, expected)
}

/**
 * Forgets the gap and what is queued above it, unread: the numbering restarted (session-handshake.ts
 * onCounterpartyReset), so the venue will resend nothing of it; the adapter reads every open order back instead.
 */
export function forgetGap(connection: Connection): void {
  connection.queued.clear()
  connection.queuedFields = 0
  connection.resendUpTo = null
  connection.resendProgress = null
  connection.skippedUnread = null
}

function unqueue(connection: Connection, seqNum: number, message: FixMessage): void {
  connection.queued.delete(seqNum)
  connection.queuedFields -= message.fields.length
}

export function drainQueue(session: SessionContext, connection: Connection): void {
  const seqNums = session.seqNums()
  for (;;) {
    if (connection.closed) return
    for (const [seqNum, queued] of connection.queued) if (seqNum < seqNums.nextTarget) unqueue(connection, seqNum, queued)
    const next = connection.queued.get(seqNums.nextTarget)
    if (next === undefined) break
    unqueue(connection, seqNums.nextTarget, next)
    session.process(connection, next)
  }
  if (connection.resendUpTo !== null && seqNums.nextTarget > connection.resendUpTo) {
    session.log('info', 'fix.gap_filled', `sequence gap healed; next expected MsgSeqNum ${seqNums.nextTarget}`)
    connection.resendUpTo = null
    connection.resendProgress = null
    tellSkipped(session, connection)
  }
}

export function onGapFill(session: SessionContext, connection: Connection, message: FixMessage): void {
  const seqNum = message.seqNum
  const newSeqNo = parseSeqNum(message.get(Tag.NewSeqNo))
  if (Number.isNaN(newSeqNo) || newSeqNo <= seqNum) {
    advance(session, seqNum)
    sendReject(session, connection, message, { reason: SessionRejectReason.valueIncorrect, text: `NewSeqNo must exceed MsgSeqNum ${seqNum} and be at most ${FIX_SEQ_NUM_MAX}` })
    return
  }
  advance(session, newSeqNo - 1)
  // In answer to our ResendRequest, what it skips may have been fills: the venue will not send them. Told once the gap
  // has healed (drainQueue), or the connection closed (tellSkipped).
  if (connection.resendUpTo !== null) {
    const skipped = connection.skippedUnread
    connection.skippedUnread = { fromSeqNum: Math.min(skipped?.fromSeqNum ?? seqNum, seqNum), toSeqNum: Math.max(skipped?.toSeqNum ?? 0, newSeqNo - 1) }
  }
}

/** Tells the handler, once, of the numbers GapFills skipped on `connection` (if any), and forgets them. */
export function tellSkipped(session: SessionContext, connection: Connection): void {
  const skipped = connection.skippedUnread
  if (skipped === null) return
  connection.skippedUnread = null
  session.handler.onInboundSkipped({ ...skipped, how: 'gap_fill' })
}

/** SequenceReset-Reset: MsgSeqNum is ignored; NewSeqNo may only move the expected number up. */
export function onSequenceReset(session: SessionContext, connection: Connection, message: FixMessage): void {
  const seqNums = session.seqNums()
  const newSeqNo = parseSeqNum(message.get(Tag.NewSeqNo))
  if (Number.isNaN(newSeqNo) || newSeqNo < seqNums.nextTarget) {
    sendReject(session, connection, message, { reason: SessionRejectReason.valueIncorrect, text: `NewSeqNo ${message.get(Tag.NewSeqNo)} is not from the expected ${seqNums.nextTarget} to ${FIX_SEQ_NUM_MAX}` })
    return
  }
  const skippedFrom = seqNums.nextTarget
  session.log('warn', 'fix.sequence_reset', `SequenceReset-Reset: next expected MsgSeqNum ${skippedFrom} -> ${newSeqNo}`)
  advance(session, newSeqNo - 1)
  // The venue's recovery when it cannot resend: whatever the skipped numbers said is lost to egress.
  if (newSeqNo > skippedFrom) session.handler.onInboundSkipped({ fromSeqNum: skippedFrom, toSeqNum: newSeqNo - 1, how: 'reset' })
  drainQueue(session, connection)
}

/** Answers a ResendRequest with one SequenceReset-GapFill: egress never replays application messages. */
export function serveResend(session: SessionContext, connection: Connection, message: FixMessage): void {
  const nextSender = session.seqNums().nextSender
  const begin = parsePositiveInt(message.get(Tag.BeginSeqNo))
  const end = parseNonNegativeInt(message.get(Tag.EndSeqNo))
  if (Number.isNaN(begin) || Number.isNaN(end) || (end !== 0 && end < begin)) {
    sendReject(session, connection, message, { reason: SessionRejectReason.valueIncorrect, text: 'BeginSeqNo/EndSeqNo out of range' })
    return
  }
  const last = end === 0 || end >= nextSender ? nextSender - 1 : end
  if (begin > last) {
    session.log('warn', 'fix.resend_nothing', `ResendRequest ${begin}..${end} asks for nothing we sent (next ${nextSender})`)
    return
  }
  session.log('info', 'fix.resend_gap_fill', `ResendRequest ${begin}..${end}: gap-filling ${begin}..${last} (no application replay)`)
  sendOn(session, connection, MsgType.SequenceReset, [[Tag.GapFillFlag, 'Y'], [Tag.NewSeqNo, String(last + 1)]], { seqNum: begin, possDup: true })
  session.handler.onMessagesAbandoned({ beginSeqNum: begin, endSeqNum: last, cause: 'gap_filled' })
}
