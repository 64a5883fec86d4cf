/**
 * The session checks a message's times as FIX (session test cases 2f, 2g, 2t) and QuickFIX (`isGoodTime` with
 * MaxLatency 120 s, `doPossDup`) do: a SendingTime far from egress's clock, or a PossDupFlag=Y message whose
 * OrigSendingTime is later than its SendingTime, is rejected (SessionRejectReason 10) and the session logs out; a
 * PossDupFlag=Y message without OrigSendingTime is rejected (reason 1, RefTagID 122) in its turn, its number consumed.
 * A refused ExecutionReport is never delivered: the order it names is read back (onMessageRefused).
 */

import { describe, expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { formatUtcTimestamp } from '../../../src/venues/fix/time.ts'
import { rawFrame, settle } from './fake-acceptor.ts'
import { exec, loggedOn } from './session-harness.ts'

const rejects = (h: Awaited<ReturnType<typeof loggedOn>>) =>
  h.acceptor.ofType(MsgType.Reject).map((m) => [m.get(Tag.RefSeqNum), m.get(Tag.SessionRejectReason), m.get(Tag.RefTagID)])

describe('FIX session: SendingTime and OrigSendingTime', () => {
  test('a SendingTime more than sendingTimeToleranceMs (default 120 s) from our clock: Reject 10, number consumed, Logout; the report is not delivered', async () => {
    const h = await loggedOn()
    const seqNum = h.acceptor.nextSeqNum
    h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e1'), { sendingTimeMs: h.clock.nowMs() - 121_000 })
    await settle()
    expect(rejects(h)).toEqual([[String(seqNum), '10', undefined]])
    // Its number consumed, then the venue's Logout answer's.
    expect(h.session.seqNums?.nextTargetSeqNum).toBe(seqNum + 2)
    expect(h.app).toEqual([])
    expect(h.refused.map((m) => m.get(Tag.ExecID))).toEqual(['e1'])
    expect(h.acceptor.ofType(MsgType.Logout)).toHaveLength(1)
    expect(h.logs.some((r) => r.event === 'fix.sending_time_inaccurate')).toBe(true)
  })

  test('within the tolerance (either side) a message is taken; the tolerance is configurable', async () => {
    const h = await loggedOn({ sendingTimeToleranceMs: 300_000 })
    h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e1'), { sendingTimeMs: h.clock.nowMs() - 250_000 })
    h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e2'), { sendingTimeMs: h.clock.nowMs() + 250_000 })
    await settle()
    expect(h.app.map((m) => m.get(Tag.ExecID))).toEqual(['e1', 'e2'])
    expect(rejects(h)).toEqual([])
  })

  test('a PossDupFlag=Y message in its turn without OrigSendingTime: Reject 1 naming tag 122, number consumed, session stays up', async () => {
    const h = await loggedOn()
    const seqNum = h.acceptor.nextSeqNum
    // The fake's possDup adds OrigSendingTime; a copy without it is written by hand.
    h.acceptor.sendRaw(frame(h.acceptor.beginString, `35=8|49=EXEC|56=EGRESS|34=${seqNum}|52=${formatUtcTimestamp(h.clock.nowMs())}|43=Y|11=c1|17=e2|150=0|`))
    await settle()
    expect(rejects(h)).toEqual([[String(seqNum), '1', '122']])
    expect(h.session.seqNums?.nextTargetSeqNum).toBe(seqNum + 1)
    expect(h.refused.map((m) => m.get(Tag.ExecID))).toEqual(['e2'])
    expect(h.session.state).toBe('active')
  })

  test('a PossDupFlag=Y message whose OrigSendingTime is later than its SendingTime: Reject 10 and Logout', async () => {
    const h = await loggedOn()
    const seqNum = h.acceptor.nextSeqNum
    const now = h.clock.nowMs()
    h.acceptor.sendText(MsgType.ExecutionReport, `11=c1|17=e1|150=0|`, { seqNum, possDup: true, sendingTimeMs: now })
    await settle()
    expect(h.app.map((m) => m.get(Tag.ExecID))).toEqual(['e1'])
    const body = `35=8|49=EXEC|56=EGRESS|34=${seqNum + 1}|52=${formatUtcTimestamp(now)}|43=Y|122=${formatUtcTimestamp(now + 5_000)}|11=c1|17=e2|150=0|`
    h.acceptor.sendRaw(frame(h.acceptor.beginString, body))
    await settle()
    expect(rejects(h)).toEqual([[String(seqNum + 1), '10', undefined]])
    expect(h.acceptor.ofType(MsgType.Logout)).toHaveLength(1)
  })

  test('a Logon answer with a SendingTime off our clock fails the logon; the venue answering our Logout so too ends the connection (no Logout ping-pong)', async () => {
    const h = await loggedOn()
    h.acceptor.nowMs = () => h.clock.nowMs() - 600_000 // the venue's clock is 10 minutes behind from now on
    h.acceptor.dropConnection()
    await h.clock.advanceAsync(600)
    await settle()
    expect(h.logs.filter((r) => r.event === 'fix.session_error').map((r) => r.message)[0]).toContain("the Logon answer's SendingTime")
    expect(h.session.state).toBe('reconnect_wait')
    // One Logout on the connection, however many badly timed answers come back.
    expect(h.acceptor.ofType(MsgType.Logout)).toHaveLength(1)
  })
})

function frame(beginString: string, body: string): Uint8Array {
  return rawFrame(beginString, body.replaceAll('|', '\x01'))
}
