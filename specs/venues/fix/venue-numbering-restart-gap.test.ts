/**
 * A numbering restart is known from the Logon itself (session-connection.ts numberingRestarted), not guessed from the
 * next outgoing number being 2 once active. With resetOnLogon `always`, a Logon answer numbered above 1 makes egress
 * ask for the gap (a ResendRequest) before the session turns active, which took number 2: the restart went unnoticed,
 * no order was read back, and the old numbers' memory stayed, so a Reject naming the new number 2 (the ResendRequest)
 * was taken for one of the old NewOrderSingle sent as 2 — a live, acknowledged order got a `rejected` report.
 */

import { expect, test } from 'bun:test'
import { SimClock } from '../../../src/runtime/clock.ts'
import type { ExecutionReport } from '../../../src/venues/adapter.ts'
import { MemoryFixSessionStore } from '../../../src/venues/fix/store.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { FixVenue } from '../../../src/venues/fix/venue.ts'
import { FakeAcceptor, settle } from './fake-acceptor.ts'
import { fields, limitBuy } from './venue-harness.ts'

test('a reset Logon answered above 1 is a numbering restart: every open order is read back, and old numbers are forgotten', async () => {
  const clock = new SimClock({ startMs: 1_700_000_000_000 })
  const acceptor = new FakeAcceptor({ nowMs: () => clock.nowMs() })
  const venue = new FixVenue({
    venue: 'fixsim',
    requestTimeoutMs: 5_000,
    session: { beginString: 'FIX.4.2', senderCompId: 'EGRESS', targetCompId: 'EXEC', host: 'h', port: 1, store: new MemoryFixSessionStore(), clock, connect: acceptor.connect, log: () => {}, resetOnLogon: 'always' },
  })
  const reports: ExecutionReport[] = []
  let venueReadBacks = 0
  venue.onReport((report) => reports.push(report))
  venue.onVenueReadBackWanted(() => venueReadBacks++)
  venue.start()
  await settle()
  acceptor.onMessage = (m) => {
    if (m.msgType === MsgType.NewOrderSingle) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'N1', 20: '0', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '0' })))
  }
  expect((await venue.place(limitBuy('c-1'))).kind).toBe('ok')
  expect(acceptor.ofType(MsgType.NewOrderSingle)[0]?.get(Tag.MsgSeqNum)).toBe('2')
  // Reconnect: the venue's answer to our reset Logon comes numbered 2 (its 1 lost, or a non-compliant engine).
  acceptor.autoLogon = false
  acceptor.onMessage = (m) => {
    if (m.msgType === MsgType.Logon) queueMicrotask(() => acceptor.send(MsgType.Logon, [[Tag.EncryptMethod, '0'], [Tag.HeartBtInt, '30'], [Tag.ResetSeqNumFlag, 'Y']], { seqNum: 2 }))
  }
  venueReadBacks = 0
  acceptor.dropConnection()
  await settle()
  clock.advance(1_000)
  await settle()
  expect(venue.session.state).toBe('active')
  const resend = acceptor.ofType(MsgType.ResendRequest).at(-1)
  expect(resend?.get(Tag.MsgSeqNum)).toBe('2')
  expect(venueReadBacks).toBe(1)
  // A Reject naming the new number 2 refuses the ResendRequest, not the old order sent as 2.
  acceptor.send(MsgType.Reject, [[Tag.RefSeqNum, '2'], [Tag.Text, 'whatever']], { seqNum: 1 })
  await settle()
  expect(reports.map((report) => report.kind)).toEqual(['new'])
})
