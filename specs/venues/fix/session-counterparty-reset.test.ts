/**
 * A Logon with ResetSeqNumFlag=Y (141=Y) during an established session is the counterparty restarting both numbers at
 * 1 (FIX session layer; QuickFIX's nextLogon resets its store and answers with its own Logon 141=Y). egress took it as
 * an ordinary message: numbered 1 it was "MsgSeqNum too low" (Logout, the session down), numbered in turn it was a
 * Heartbeat, the numbers ran on and every later message of the venue's was "too low". Now both numbers restart (saved
 * before the answer is written), the answer is a Logon (141=Y, MsgSeqNum 1), nothing of the old range is resent or
 * gap-filled, and requests in flight stay pending. A Logout carrying 141=Y is a Logout: the reset is egress's next
 * Logon's (141=Y, MsgSeqNum 1).
 */

import { describe, expect, test } from 'bun:test'
import { MemoryFixSessionStore } from '../../../src/venues/fix/store.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { FakeAcceptor, settle } from './fake-acceptor.ts'
import { exec, loggedOn } from './session-harness.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

const resetLogon: [number, string][] = [[Tag.EncryptMethod, '0'], [Tag.HeartBtInt, '30'], [Tag.ResetSeqNumFlag, 'Y']]

describe('FIX session: the counterparty resets the numbering mid-session', () => {
  test('a Logon with 141=Y resets both numbers durably and is answered with a Logon (141=Y, MsgSeqNum 1); nothing old is resent', async () => {
    const store = new MemoryFixSessionStore({ nextSenderSeqNum: 41, nextTargetSeqNum: 17 })
    const acceptor = new FakeAcceptor()
    acceptor.nextSeqNum = 17
    const h = await loggedOn({}, { store, acceptor })
    h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e18'))
    h.session.send(MsgType.NewOrderSingle, [[Tag.ClOrdID, 'c2']])
    await settle()
    expect(store.current).toEqual({ nextSenderSeqNum: 43, nextTargetSeqNum: 19 })
    h.acceptor.take()
    h.acceptor.autoLogon = false // the venue made the reset: it takes our Logon as the confirmation, unanswered
    h.acceptor.nextSeqNum = 1
    h.acceptor.send(MsgType.Logon, resetLogon)
    await settle()
    const answer = h.acceptor.take()
    expect(answer.map((m) => [m.msgType, m.get(Tag.MsgSeqNum), m.get(Tag.ResetSeqNumFlag)])).toEqual([[MsgType.Logon, '1', 'Y']])
    expect(h.session.state).toBe('active')
    expect(store.current).toEqual({ nextSenderSeqNum: 2, nextTargetSeqNum: 2 })
    // The new numbering runs on both ways: no ResendRequest, no GapFill, no Logout.
    h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e2'))
    expect(h.session.send(MsgType.NewOrderSingle, [[Tag.ClOrdID, 'c3']])).toMatchObject({ kind: 'queued', seqNum: 2 })
    await settle()
    expect(h.app.map((m) => m.get(Tag.ExecID))).toEqual(['e18', 'e2'])
    expect(h.acceptor.take().map((m) => [m.msgType, m.seqNum])).toEqual([[MsgType.NewOrderSingle, 2]])
    expect(h.abandoned).toEqual([])
    expect(store.current).toEqual({ nextSenderSeqNum: 3, nextTargetSeqNum: 3 })
    expect(h.logs.some((r) => r.event === 'fix.counterparty_reset')).toBe(true)
  })

  test('messages of the old numbering queued above a gap are dropped with the gap: the new numbering is not asked about', async () => {
    const h = await loggedOn({ heartbeatIntervalSeconds: 10 })
    h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e9'), { seqNum: 9 })
    await settle()
    expect(h.acceptor.take().filter((m) => m.msgType === MsgType.ResendRequest)).toHaveLength(1)
    h.acceptor.autoLogon = false
    h.acceptor.nextSeqNum = 1
    h.acceptor.send(MsgType.Logon, resetLogon)
    h.acceptor.send(MsgType.Heartbeat)
    h.acceptor.send(MsgType.Heartbeat)
    await settle()
    await h.clock.advanceAsync(11_000) // past the stall interval: an open gap would be asked about again
    await settle()
    expect(h.acceptor.take().filter((m) => m.msgType !== MsgType.Heartbeat && m.msgType !== MsgType.TestRequest).map((m) => [m.msgType, m.seqNum])).toEqual([[MsgType.Logon, 1]])
    expect(h.session.seqNums?.nextTargetSeqNum).toBe(4)
    expect(h.app).toEqual([])
    expect(h.session.state).toBe('active')
  })

  test('a venue that answers our confirming Logon with a reset Logon of its own is not answered again', async () => {
    const h = await loggedOn()
    h.acceptor.send(MsgType.Heartbeat)
    await settle()
    h.acceptor.take()
    h.acceptor.nextSeqNum = 1
    h.acceptor.send(MsgType.Logon, resetLogon) // the acceptor answers our Logon (141=Y) with another, numbered 1
    await settle()
    expect(h.acceptor.take().map((m) => [m.msgType, m.seqNum])).toEqual([[MsgType.Logon, 1]])
    expect(h.session.seqNums).toEqual({ nextSenderSeqNum: 2, nextTargetSeqNum: 2 })
    expect(h.logs.filter((r) => r.event === 'fix.counterparty_reset_repeated')).toHaveLength(1)
    h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e2'))
    await settle()
    expect(h.app.map((m) => m.get(Tag.ExecID))).toEqual(['e2'])
    expect(h.session.state).toBe('active')
  })

  test('a venue that answers our confirming Logon with a reset Logon numbered on (2) is not answered again either', async () => {
    const h = await loggedOn()
    h.acceptor.send(MsgType.Heartbeat)
    await settle()
    h.acceptor.take()
    h.acceptor.autoLogon = false
    h.acceptor.nextSeqNum = 1
    h.acceptor.send(MsgType.Logon, resetLogon) // the venue resets
    await settle()
    expect(h.acceptor.take().map((m) => [m.msgType, m.seqNum])).toEqual([[MsgType.Logon, 1]])
    h.acceptor.send(MsgType.Logon, resetLogon) // its answer to our confirming Logon, numbered on: 2 (QuickFIX's acceptor)
    await settle()
    // Before: a second reset — another Logon under MsgSeqNum 1, the numbers reset again, a ResendRequest for 1 on.
    expect(h.acceptor.take()).toEqual([])
    expect(h.session.seqNums).toEqual({ nextSenderSeqNum: 2, nextTargetSeqNum: 3 })
    expect(h.logs.filter((r) => r.event === 'fix.counterparty_reset_repeated')).toHaveLength(1)
    h.acceptor.send(MsgType.ExecutionReport, exec('c1', 'e3'))
    await settle()
    expect(h.app.map((m) => m.get(Tag.ExecID))).toEqual(['e3'])
    expect(h.session.state).toBe('active')
  })

  test('a Logout with 141=Y is answered as a Logout; egress\'s next Logon resets (141=Y, MsgSeqNum 1)', async () => {
    const store = new MemoryFixSessionStore({ nextSenderSeqNum: 41, nextTargetSeqNum: 17 })
    const acceptor = new FakeAcceptor()
    acceptor.nextSeqNum = 17
    const h = await loggedOn({ reconnectDelayMsMin: 1_000 }, { store, acceptor })
    h.acceptor.send(MsgType.Logout, [[Tag.Text, 'end of day, resetting'], [Tag.ResetSeqNumFlag, 'Y']])
    await settle()
    expect(h.acceptor.connected).toBe(false)
    expect(h.acceptor.take().map((m) => [m.msgType, m.get(Tag.MsgSeqNum), m.get(Tag.ResetSeqNumFlag)])).toEqual([[MsgType.Logon, '41', undefined], [MsgType.Logout, '42', undefined]])
    await h.clock.advanceAsync(1_000)
    await settle()
    expect(h.session.state).toBe('active')
    expect(h.acceptor.take().map((m) => [m.msgType, m.get(Tag.MsgSeqNum), m.get(Tag.ResetSeqNumFlag)])).toEqual([[MsgType.Logon, '1', 'Y']])
    expect(store.current).toEqual({ nextSenderSeqNum: 2, nextTargetSeqNum: 2 })
    // Once: a later reconnect carries the numbering on.
    h.acceptor.dropConnection()
    await h.clock.advanceAsync(2_000)
    await settle()
    expect(h.acceptor.take().map((m) => [m.msgType, m.get(Tag.MsgSeqNum), m.get(Tag.ResetSeqNumFlag)])).toEqual([[MsgType.Logon, '2', undefined]])
  })
})

describe('FixVenue: the venue resets the numbering mid-session', () => {
  test('an order in flight stays pending and its ack after the reset completes it; old numbers are forgotten; the venue is read back', async () => {
    const { acceptor, venue, reports } = await loggedOnVenue()
    let readBacks = 0
    venue.onVenueReadBackWanted(() => readBacks++)
    const placed = venue.place(limitBuy('c-1'))
    await settle()
    expect(acceptor.ofType(MsgType.NewOrderSingle)[0]?.get(Tag.MsgSeqNum)).toBe('2')
    acceptor.autoLogon = false
    acceptor.nextSeqNum = 1
    acceptor.send(MsgType.Logon, resetLogon)
    await settle()
    expect(readBacks).toBe(1)
    // A Reject of the new number 2 is not about the order once sent as 2.
    venue.session.send(MsgType.Heartbeat, [])
    await settle()
    acceptor.send(MsgType.Reject, [[Tag.RefSeqNum, '2'], [Tag.Text, 'whatever']])
    acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'N1', 20: '0', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '0' }))
    await settle()
    expect(await placed).toEqual({ kind: 'ok', value: { venueOrderId: 'O1' } })
    expect(reports.map((r) => r.kind)).toEqual(['new'])
    expect(venue.session.state).toBe('active')
  })

  test('an order numbered before the reset and still waiting for the store is not written under its old number: not_written, retryable; the new numbering\'s own 2 is not touched', async () => {
    const { acceptor, venue, store } = await loggedOnVenue()
    const waiting: (() => void)[] = []
    const save = store.save.bind(store)
    store.save = (seqNums) => new Promise<void>((resolve) => waiting.push(() => resolve(save(seqNums))))
    const first = venue.place(limitBuy('c-1')) // MsgSeqNum 2 of the old numbering, waiting for the save
    await settle()
    acceptor.take()
    acceptor.autoLogon = false
    acceptor.nextSeqNum = 1
    acceptor.send(MsgType.Logon, resetLogon)
    await settle()
    const second = venue.place(limitBuy('c-2')) // MsgSeqNum 2 of the new numbering
    store.save = save
    waiting.splice(0).forEach((go) => go())
    await settle()
    // On the wire: the confirming Logon and the new 2, never the old 2 (the venue took it in the new numbering's turn,
    // and egress's own 2 was then "MsgSeqNum too low").
    expect(acceptor.take().map((m) => [m.msgType, m.seqNum, m.get(Tag.ClOrdID)])).toEqual([[MsgType.Logon, 1, undefined], [MsgType.NewOrderSingle, 2, 'c-2']])
    expect(await first).toMatchObject({ kind: 'retryable', reason: expect.stringContaining('fix_not_written') })
    acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O2', 11: 'c-2', 17: 'N2', 20: '0', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '0' }))
    await settle()
    expect(await second).toEqual({ kind: 'ok', value: { venueOrderId: 'O2' } })
    expect(venue.session.state).toBe('active')
  })
})
