/**
 * The Logon/Logout handshake: sending Logon once the transport connects (with ResetSeqNumFlag=Y when configured, or
 * when the counterparty asked for a reset), accepting the counterparty's answer only if it is a Logon with a number
 * that is not too low, its Logon with ResetSeqNumFlag=Y during the session (both numbers restart), and logging out —
 * one Logout of ours per connection, confirmed only by a counterparty Logout taken after it is written; theirs is
 * answered once and the connection closed. Kept apart from inbound dispatch because these are the only messages whose
 * handling depends on the connection's phase.
 */

import type { FixField, FixMessage } from './message.ts'
import { enterPhase, type Connection } from './session-connection.ts'
import type { SessionContext } from './session-context.ts'
import { sendOn } from './session-outbound.ts'
import { advance, drainQueue, forgetGap, queueAboveGap } from './session-sequence.ts'
import { MsgType, Tag } from './tags.ts'

/** The transport connected: send Logon (resetting both numbers first when resetOnLogon is `always` or the counterparty asked for a reset). */
export function onConnected(session: SessionContext, connection: Connection): void {
  if (connection.closed) return
  const seqNums = session.seqNums()
  const reset = sendsReset(session)
  if (reset) seqNums.reset()
  connection.numberingRestarted = seqNums.nextSender === 1
  enterPhase(connection, 'logon_sent', session.options.clock.nowMs())
  session.setState('logon_sent', reset ? 'Logon sent with ResetSeqNumFlag=Y' : `Logon sent with MsgSeqNum ${seqNums.nextSender}`)
  sendOn(session, connection, MsgType.Logon, logonBody(session, reset), {})
}

/** Whether our Logon carries ResetSeqNumFlag=Y: configured so, or the counterparty asked for a reset (and it is not yet answered). */
function sendsReset(session: SessionContext): boolean {
  return session.options.resetOnLogon === 'always' || session.resetAtNextLogon
}

function logonBody(session: SessionContext, reset: boolean): FixField[] {
  const body: FixField[] = [[Tag.EncryptMethod, '0'], [Tag.HeartBtInt, String(session.options.heartbeatIntervalSeconds)]]
  if (reset) body.push([Tag.ResetSeqNumFlag, 'Y'])
  return body
}

export function onLogonPhaseMessage(session: SessionContext, connection: Connection, message: FixMessage): void {
  if (message.msgType === MsgType.Logout) {
    session.log('error', 'fix.logon_rejected', `the counterparty answered our Logon with Logout: ${message.get(Tag.Text) ?? '(no text)'}`)
    resetAsked(session, message)
    session.disconnect(connection, 'logon rejected', 'warn')
    return
  }
  if (message.msgType !== MsgType.Logon) {
    session.log('error', 'fix.logon_expected', `first message was ${message.msgType}, not Logon`)
    session.disconnect(connection, 'first message was not a Logon', 'warn')
    return
  }
  const seqNums = session.seqNums()
  if (message.get(Tag.ResetSeqNumFlag) === 'Y' && !sendsReset(session)) {
    // ResetSeqNumFlag resets both sides (FIX session layer): the venue now expects our next message to be 2 after a
    // Logon numbered 1. Resetting only the inbound number kept ours running on, so the venue saw ours as too high and
    // asked for them again: everything sent after the logon was gap-filled (unknown). The flag on an answer to a Logon
    // without it is not in the spec's handshake; QuickFIX (and OnixS) reset both numbers and confirm the reset with a
    // Logon carrying ResetSeqNumFlag=Y under MsgSeqNum 1, so the next message goes out as 2.
    session.log('warn', 'fix.counterparty_reset', 'the Logon answer carries ResetSeqNumFlag=Y: both numbers reset, confirmed with a Logon (ResetSeqNumFlag=Y, MsgSeqNum 1)')
    seqNums.reset()
    connection.numberingRestarted = true
    connection.resetConfirmed = true
    sendOn(session, connection, MsgType.Logon, logonBody(session, true), {})
  }
  const seqNum = message.seqNum
  const expected = seqNums.nextTarget
  if (seqNum < expected) return logoutSeqNumTooLow(session, connection, `MsgSeqNum too low, expecting ${expected} but received ${seqNum}`)
  enterPhase(connection, 'active', session.options.clock.nowMs())
  connection.loggedOnAtMs = session.options.clock.nowMs()
  session.resetAtNextLogon = false
  if (seqNum > expected) queueAboveGap(session, connection, message)
  else advance(session, seqNum)
  session.setState('active', `logged on (next sender ${seqNums.nextSender}, next target ${seqNums.nextTarget})`)
  drainQueue(session, connection)
}

/**
 * The counterparty's Logon with ResetSeqNumFlag=Y (not a PossDup copy) after logon: it restarted both numbers at 1
 * (FIX session layer; QuickFIX's nextLogon resets its store and answers with a Logon carrying the flag). Both of ours
 * restart, saved before the answer — our Logon (ResetSeqNumFlag=Y, MsgSeqNum 1) — is written; nothing of the old range
 * is resent or gap-filled, and what sat above a gap in the old numbering is dropped with it (the venue resends nothing
 * from before). The session is told `active` again with `numberingRestarted` set: the adapter forgets the old numbers
 * (requests in flight stay pending, answered by ClOrdID) and reads every open order back. Taken whatever its number,
 * as QuickFIX does (a number above 1 is a gap in the new numbering, asked about). While our Logout is out the
 * connection is ending: the reset is left to our next Logon. One numbered 1 or 2 right after we confirmed a reset of
 * the venue's (nothing else received since) is that reset — a venue answering our confirming Logon with its own — and
 * is not answered again (one numbered 2 takes its number): answering it had each side confirm the other's
 * confirmation without end.
 */
export function onCounterpartyReset(session: SessionContext, connection: Connection, message: FixMessage): void {
  const seqNums = session.seqNums()
  if (connection.phase !== 'active') return resetAtNextLogon(session, 'a Logon with ResetSeqNumFlag=Y while logging out')
  // Nothing received since the reset's own Logon (numbered 1, next target 2): a reset Logon now is the venue's answer to
  // our confirming one — numbered 1 again (it reset once more) or 2 (it numbered on, as QuickFIX's acceptor answering
  // a Logon it does not take for a reset of its own): answered, either had us reset again, numbers reused and a
  // ResendRequest sent, the two sides going round.
  if (connection.resetConfirmed && seqNums.nextTarget === 2 && (message.seqNum === 1 || message.seqNum === 2)) {
    session.log('info', 'fix.counterparty_reset_repeated', `a Logon with ResetSeqNumFlag=Y numbered ${message.seqNum} right after the numbering restarted: the reset is made, not answered again`)
    if (message.seqNum === 2) advance(session, 2)
    return
  }
  const dropped = connection.queued.size
  session.log('warn', 'fix.counterparty_reset', `Logon with ResetSeqNumFlag=Y (MsgSeqNum ${message.seqNum}) during the session: both numbers restart at 1 (were sender ${seqNums.nextSender}, target ${seqNums.nextTarget}${dropped > 0 ? `; ${dropped} messages queued above a gap dropped` : ''}), confirmed with a Logon (ResetSeqNumFlag=Y, MsgSeqNum 1)`)
  forgetGap(connection)
  seqNums.reset()
  connection.numberingRestarted = true
  connection.resetConfirmed = true
  sendOn(session, connection, MsgType.Logon, logonBody(session, true), {})
  if (message.seqNum > seqNums.nextTarget) queueAboveGap(session, connection, message)
  else advance(session, message.seqNum)
  session.setState('active', `numbering restarted by the counterparty's Logon (ResetSeqNumFlag=Y): next sender ${seqNums.nextSender}, next target ${seqNums.nextTarget}`)
}

/**
 * A counterparty Logout. The first one on a connection is taken; another is a duplicate (a venue resending its Logout
 * while our answer waits for the store) and ignored. Taking the first: after our Logout was written, it confirms ours
 * (close). Otherwise it is the venue logging out: answered by our Logout — the one already queued if ours crossed it,
 * else one sent now — and the connection closed once that answer is written. Closing at a second Logout, or at one
 * that crossed ours while ours waited for the store, dropped our Logout unwritten: the venue never got its answer, and
 * its number was a gap asked about at the next Logon. A Logout carrying ResetSeqNumFlag=Y (a Logon field, not a
 * Logout's) is a Logout: the reset the venue asks for is made by our next Logon (ResetSeqNumFlag=Y, MsgSeqNum 1).
 */
export function onLogout(session: SessionContext, connection: Connection, message: FixMessage): void {
  const text = message.get(Tag.Text) ?? '(no text)'
  resetAsked(session, message)
  if (connection.logoutReceived) {
    session.log('info', 'fix.logout_duplicate', `ignored another Logout from the counterparty (MsgSeqNum ${message.seqNum}): ${text}`)
    return
  }
  connection.logoutReceived = true
  const ours = connection.logoutSent
  if (ours?.done === true) return session.disconnect(connection, `logout confirmed: ${text}`, 'info')
  session.log(/too low/i.test(text) ? 'error' : 'warn', 'fix.logout_received', `the counterparty logged out: ${text}`)
  // The answer is written before the connection closes: a write finds the connection closed and drops the message, so
  // disconnecting at once (as before) never sent it — the venue waited out its logout timeout, and the number, taken
  // but never written, was a gap the venue asked about at the next Logon, gap-filling what egress sent right after it.
  // Nothing more goes out meanwhile (send() needs `active`); logoutTimeoutMs bounds the wait (session-timers.ts).
  const answer = ours ?? sendLogout(session, connection, [])
  enterPhase(connection, 'logout_sent', session.options.clock.nowMs())
  const close = (): void => session.disconnect(connection, `logged out by the counterparty: ${text}`, 'info')
  void answer.written.then(close, close)
}

/** A counterparty Logout carrying ResetSeqNumFlag=Y: the reset it asks for is our next Logon's. */
function resetAsked(session: SessionContext, message: FixMessage): void {
  if (message.get(Tag.ResetSeqNumFlag) === 'Y') resetAtNextLogon(session, "the counterparty's Logout carries ResetSeqNumFlag=Y")
}

/** The counterparty asked for a reset this connection will not make: our next Logon makes it (141=Y, MsgSeqNum 1). */
function resetAtNextLogon(session: SessionContext, why: string): void {
  if (session.resetAtNextLogon) return
  session.log('warn', 'fix.counterparty_reset', `${why}: our next Logon resets the numbers`)
  session.resetAtNextLogon = true
}

/** Sends Logout and waits (logoutTimeoutMs) for the answer; `fatal` also logs the cause as an error. */
export function logout(session: SessionContext, connection: Connection, text: string, fatal = false): void {
  if (connection.closed) return
  if (fatal) session.log('error', 'fix.session_error', text)
  if (connection.phase === 'connecting') return session.disconnect(connection, text, 'warn')
  // One Logout per connection: a second, in answer to a venue message refused while ours is out (a Logout answer with
  // a bad SendingTime, say), would be answered again, and so on without end. The connection closes once the one that
  // is out is written: closing at once while it waited for the store dropped it unwritten (the venue never got it, and
  // its number was a gap at the next Logon).
  if (connection.phase === 'logout_sent') {
    const close = (): void => session.disconnect(connection, text, 'warn')
    const ours = connection.logoutSent
    if (ours === null || ours.done) return close()
    void ours.written.then(close, close)
    return
  }
  sendLogout(session, connection, [[Tag.Text, text]])
  enterPhase(connection, 'logout_sent', session.options.clock.nowMs())
  session.setState('logout_sent', text)
}

/**
 * "MsgSeqNum too low" (not a PossDup): the counterparty's numbering went back, so nothing more it says can be taken in
 * sequence. Logout, as `logout` sends it, and the connection closed once it is written, with no wait for the answer
 * and nothing more read: as QuickFIX does (Session::doTargetTooLow, generateLogout then disconnect). Waiting for the
 * answer (logoutTimeoutMs) read on meanwhile, and a message under the expected number was taken as in sequence.
 */
export function logoutSeqNumTooLow(session: SessionContext, connection: Connection, text: string): void {
  logout(session, connection, text, true)
  if (connection.closed) return
  connection.inboundStopped = true
  const close = (): void => session.disconnect(connection, text, 'warn')
  const ours = connection.logoutSent
  if (ours === null || ours.done) return close()
  void ours.written.then(close, close)
}

function sendLogout(session: SessionContext, connection: Connection, body: FixField[]): { written: Promise<boolean>; done: boolean } {
  const { written } = sendOn(session, connection, MsgType.Logout, body, {})
  const sent = { written, done: false }
  connection.logoutSent = sent
  void written.then(() => (sent.done = true))
  return sent
}
