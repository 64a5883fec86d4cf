/**
 * What each tick checks on the current connection: the Logon and Logout answer deadlines, the end of the daily
 * schedule, and, while logged on, heartbeats and TestRequests — a peer silent for 1.2 heartbeat intervals is sent a
 * TestRequest and dropped if it does not answer within one more; a sequence gap whose ResendRequest has not moved it
 * for a heartbeat interval is asked about again. Kept apart from the tick's scheduling (session.ts)
 * so the liveness rules read on their own.
 */

import type { Connection } from './session-connection.ts'
import type { SessionContext } from './session-context.ts'
import { logout } from './session-handshake.ts'
import { sendOn } from './session-outbound.ts'
import { askAgainIfStalled } from './session-sequence.ts'
import { MsgType, Tag } from './tags.ts'

const TEST_REQUEST_GRACE = 1.2

/** `scheduled`: whether `nowMs` is inside the session's daily window. */
export function checkConnectionTimers(session: SessionContext, connection: Connection, tick: { nowMs: number; scheduled: boolean }): void {
  const { nowMs, scheduled } = tick
  const options = session.options
  const heartbeatMs = options.heartbeatIntervalSeconds * 1000
  const inPhaseMs = nowMs - connection.phaseSinceMs
  switch (connection.phase) {
    case 'connecting':
      return
    case 'logon_sent':
      if (inPhaseMs >= options.logonTimeoutMs) session.disconnect(connection, `no Logon answer in ${options.logonTimeoutMs} ms`, 'warn')
      return
    case 'logout_sent':
      if (inPhaseMs >= options.logoutTimeoutMs) session.disconnect(connection, 'no Logout answer in time', 'info')
      return
    case 'active':
      if (!scheduled) return logout(session, connection, 'end of the session schedule')
      if (connection.testRequest !== null && nowMs - connection.testRequest.sentMs >= heartbeatMs) {
        return session.disconnect(connection, `no answer to TestRequest ${connection.testRequest.id} within ${heartbeatMs} ms`, 'error')
      }
      if (connection.testRequest === null && nowMs - connection.lastReceivedMs >= heartbeatMs * TEST_REQUEST_GRACE) {
        const id = `TEST-${nowMs}`
        connection.testRequest = { id, sentMs: nowMs }
        sendOn(session, connection, MsgType.TestRequest, [[Tag.TestReqID, id]], {})
      }
      askAgainIfStalled(session, connection, { nowMs, stallMs: heartbeatMs })
      // Not while a message waits for the store's save: it goes out with it (one Heartbeat per tick of a slow save queued
      // a burst of them, a number each, for as long as the save took).
      if (nowMs - connection.lastSentMs >= heartbeatMs && connection.unwritten === 0) sendOn(session, connection, MsgType.Heartbeat, [], {})
      return
  }
}
