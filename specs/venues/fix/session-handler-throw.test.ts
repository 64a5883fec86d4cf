/**
 * A message whose handler throws (a bug in egress) drops the connection and is not delivered again: its MsgSeqNum was
 * taken before the handler ran, so the reconnect's Logon asks for nothing older and no ResendRequest covers it. (A
 * comment in session-inbound.ts claimed the resend on reconnect re-delivered it.) Asking again would only replay the
 * throw at every reconnect; what the message said is recovered by reconciliation, not by the session.
 */

import { describe, expect, test } from 'bun:test'
import { SimClock } from '../../../src/runtime/clock.ts'
import type { FixLogRecord } from '../../../src/venues/fix/log.ts'
import type { FixMessage } from '../../../src/venues/fix/message.ts'
import { FixSession } from '../../../src/venues/fix/session.ts'
import { MemoryFixSessionStore } from '../../../src/venues/fix/store.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { FakeAcceptor, settle } from './fake-acceptor.ts'

describe('FIX session: a handler that throws', () => {
  test('drops the connection; the message is not asked for again after the reconnect', async () => {
    const clock = new SimClock({ startMs: 1_700_000_000_000 })
    const acceptor = new FakeAcceptor()
    const seen: string[] = []
    const logs: FixLogRecord[] = []
    const session = new FixSession(
      { beginString: 'FIX.4.2', senderCompId: 'EGRESS', targetCompId: 'EXEC', host: '127.0.0.1', port: 9, store: new MemoryFixSessionStore(), clock, heartbeatIntervalSeconds: 30, reconnectDelayMsMin: 100, reconnectDelayMsMax: 100, connect: acceptor.connect, log: (record) => logs.push(record) },
      {
        onApplicationMessage: (message: FixMessage) => {
          const execId = message.get(Tag.ExecID) ?? ''
          seen.push(execId)
          if (execId === 'boom') throw new Error('a bug')
        },
        onMessageRefused: () => {},
        onSessionReject: () => {},
        onMessagesAbandoned: () => {},
        onInboundSkipped: () => {},
        onStateChange: () => {},
      },
    )
    session.start()
    await settle()
    expect(session.state).toBe('active')
    const boomSeqNum = acceptor.nextSeqNum
    acceptor.send(MsgType.ExecutionReport, [[Tag.ClOrdID, 'c-1'], [Tag.ExecID, 'boom'], [Tag.ExecType, '0']])
    await settle()
    expect(logs.some((record) => record.event === 'fix.handler_error')).toBe(true)
    expect(acceptor.connected).toBe(false)
    await clock.advanceAsync(200)
    await settle()
    expect(session.state).toBe('active')
    expect(acceptor.connections).toBe(2)
    expect(session.seqNums?.nextTargetSeqNum).toBeGreaterThan(boomSeqNum)
    expect(acceptor.ofType(MsgType.ResendRequest)).toEqual([])
    acceptor.send(MsgType.ExecutionReport, [[Tag.ClOrdID, 'c-1'], [Tag.ExecID, 'after'], [Tag.ExecType, '0']])
    await settle()
    expect(seen).toEqual(['boom', 'after'])
    await session.stop()
  })
})
