/**
 * The Logon/Logout handshake: sending Logon once the transport connects (with ResetSeqNumFlag=Y when configured),
 * accepting the counterparty's answer only if it is a Logon with a number that is not too low, and logging out —
 * our Logout waits logoutTimeoutMs for the answer; theirs is answered and the connection closed. Kept apart from
 * inbound dispatch because these are the only messages whose handling depends on the connection's phase.
 */

import type { FixField, FixMessage } from './message.ts'
import { enterPhase, type Connection } from './session-connection.ts'
import type { SessionContext } from './session-context.ts'
import { sendOn } from './session-outbound.ts'
import { advance, drainQueue, queueAboveGap } from './session-sequence.ts'
import { MsgType, Tag } from './tags.ts'

/** The transport connected: send Logon (resetting both numbers first when resetOnLogon is `always`). */
export function onConnected(session: SessionContext, connection: Connection): void {
  if (connection.closed) return
  const seqNums = session.seqNums()
  const reset = session.options.resetOnLogon === 'always'
  if (reset) seqNums.reset()
  connection.numberingRestarted = seqNums.nextSender === 1
  enterPhase(connection, 'logon_sent', session.options.clock.nowMs())
  session.setState('logon_sent', reset ? 'Logon sent with ResetSeqNumFlag=Y' : `Logon sent with MsgSeqNum ${seqNums.nextSender}`)
  sendOn(session, connection, MsgType.Logon, logonBody(session, reset), {})
}

function logonBody(session: SessionContext, reset: boolean): FixField[] {
  const body: FixField[] = [[Tag.EncryptMethod, '0'], [Tag.HeartBtInt, String(session.options.heartbeatIntervalSeconds)]]
  if (reset) body.push([Tag.ResetSeqNumFlag, 'Y'])
  return body
}

export function onLogonPhaseMessage(session: SessionContext, connection: Connection, message: FixMessage): void {
  if (message.msgType === MsgType.Logout) {
    session.log('error', 'fix.logon_rejected', `the counterparty answered our Logon with Logout: ${message.get(Tag.Text) ?? '(no text)'}`)
    session.disconnect(connection, 'logon rejected', 'warn')
    return
  }
  if (message.msgType !== MsgType.Logon) {
    session.log('error', 'fix.logon_expected', `first message was ${message.msgType}, not Logon`)
    session.disconnect(connection, 'first message was not a Logon', 'warn')
    return
  }
  const seqNums = session.seqNums()
  if (message.get(Tag.ResetSeqNumFlag) === 'Y' && session.options.resetOnLogon !== 'always') {
    // ResetSeqNumFlag resets both sides (FIX session layer): the venue now expects our next message to be 2 after a
    // Logon numbered 1. Resetting only the inbound number kept ours running on, so the venue saw ours as too high and
    // asked for them again: everything sent after the logon was gap-filled (unknown). The flag on an answer to a Logon
    // without it is not in the spec's handshake; QuickFIX (and OnixS) reset both numbers and confirm the reset with a
    // Logon carrying ResetSeqNumFlag=Y under MsgSeqNum 1, so the next message goes out as 2.
    session.log('warn', 'fix.counterparty_reset', 'the Logon answer carries ResetSeqNumFlag=Y: both numbers reset, confirmed with a Logon (ResetSeqNumFlag=Y, MsgSeqNum 1)')
    seqNums.reset()
    connection.numberingRestarted = true
    sendOn(session, connection, MsgType.Logon, logonBody(session, true), {})
  }
  const seqNum = message.seqNum
  const expected = seqNums.nextTarget
  if (seqNum < expected) return logout(session, connection, `MsgSeqNum too low, expecting ${expected} but received ${seqNum}`, true)
  enterPhase(connection, 'active', session.options.clock.nowMs())
  connection.loggedOnAtMs = session.options.clock.nowMs()
  if (seqNum > expected) queueAboveGap(session, connection, message)
  else advance(session, seqNum)
  session.setState('active', `logged on (next sender ${seqNums.nextSender}, next target ${seqNums.nextTarget})`)
  drainQueue(session, connection)
}

export function onLogout(session: SessionContext, connection: Connection, message: FixMessage): void {
  const text = message.get(Tag.Text) ?? '(no text)'
  if (connection.phase === 'logout_sent') return session.disconnect(connection, `logout confirmed: ${text}`, 'info')
  session.log(/too low/i.test(text) ? 'error' : 'warn', 'fix.logout_received', `the counterparty logged out: ${text}`)
  // The answer is written before the connection closes: a write finds the connection closed and drops the message, so
  // disconnecting at once (as before) never sent it — the venue waited out its logout timeout, and the number, taken
  // but never written, was a gap the venue asked about at the next Logon, gap-filling what egress sent right after it.
  // Nothing more goes out meanwhile (send() needs `active`); logoutTimeoutMs bounds the wait (session-timers.ts).
  const { written } = sendOn(session, connection, MsgType.Logout, [], {})
  enterPhase(connection, 'logout_sent', session.options.clock.nowMs())
  const close = (): void => session.disconnect(connection, `logged out by the counterparty: ${text}`, 'info')
  void written.then(close, close)
}

/** Sends Logout and waits (logoutTimeoutMs) for the answer; `fatal` also logs the cause as an error. */
export function logout(session: SessionContext, connection: Connection, text: string, fatal = false): void {
  if (connection.closed) return
  if (fatal) session.log('error', 'fix.session_error', text)
  if (connection.phase === 'connecting') return session.disconnect(connection, text, 'warn')
  // One Logout per connection: a second, in answer to a venue message refused while ours is out (a Logout answer with
  // a bad SendingTime, say), would be answered again, and so on without end.
  if (connection.phase === 'logout_sent') return session.disconnect(connection, text, 'warn')
  sendOn(session, connection, MsgType.Logout, [[Tag.Text, text]], {})
  enterPhase(connection, 'logout_sent', session.options.clock.nowMs())
  session.setState('logout_sent', text)
}
