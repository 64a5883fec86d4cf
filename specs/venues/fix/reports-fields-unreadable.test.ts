/**
 * Fields the FIX reader takes from ExecutionReports and OrderCancelRejects, present but not a value FIX defines, were
 * silently read as something else: a Side it does not know as the side egress sent, a TransactTime that is no
 * UTCTimestamp as SendingTime (or the clock), an ExecType it does not know as one that "carries no transition" (logged
 * at debug: a garbled fill lost), an ExecTransType it does not know as New. Each now refuses the message on its tag, as
 * an unreadable CumQty or LastPx already did: session Reject, error log `fix.report_unreadable`, the order read back.
 * Absent (where FIX allows), they are read as before.
 */

import { describe, expect, test } from 'bun:test'
import { FixMessage } from '../../../src/venues/fix/message.ts'
import { mapCancelReject, mapExecutionReport, mapStatusReport, type FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { ackedOrder, expectReportRefused, fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

const NOW_MS = 1_700_000_000_000
const facts: FixOrderFacts = { clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 2_00000000n, ordType: '2', timeInForce: '1' }
const message = (msgType: string, byTag: Record<number, string>) => new FixMessage('FIX.4.4', fields({ [Tag.MsgType]: msgType, ...byTag }))
const fill = (over: Record<number, string> = {}) => message(MsgType.ExecutionReport, { 11: 'c-1', 37: 'O1', 17: 'E1', 150: 'F', 39: '1', 54: '1', 55: 'BTC-USD', 14: '0.5', 32: '0.5', 31: '100', ...over })
const statusAnswer = (over: Record<number, string> = {}) => message(MsgType.ExecutionReport, { 11: 'c-1', 37: 'O1', 17: 'S1', 150: 'I', 39: '1', 54: '1', 55: 'BTC-USD', 14: '0.5', 38: '2', ...over })
const cancelReject = (over: Record<number, string> = {}) => message(MsgType.OrderCancelReject, { 11: 'x-1', 41: 'c-1', 37: 'O1', 39: '0', 434: '1', 102: '0', ...over })

describe('Side (54)', () => {
  for (const side of ['7', '8', 'X']) {
    test(`${side} is refused on tag 54, not read as the side egress sent`, () => {
      expect(mapExecutionReport('v', fill({ 54: side }), facts, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.Side })
      expect(mapStatusReport(statusAnswer({ 54: side }), facts, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.Side })
    })
  }

  test('absent, the side egress sent stands in; 5 and 6 (sell short) are sells, as before', () => {
    const { 54: _side, ...noSide } = { 11: 'c-1', 37: 'O1', 17: 'E1', 150: 'F', 39: '1', 54: '1', 55: 'BTC-USD', 14: '0.5', 32: '0.5', 31: '100' }
    expect(mapExecutionReport('v', message(MsgType.ExecutionReport, noSide), facts, NOW_MS)).toMatchObject({ kind: 'mapped', value: { side: 'buy' } })
    expect(mapExecutionReport('v', fill({ 54: '5' }), facts, NOW_MS)).toMatchObject({ kind: 'mapped', value: { side: 'sell' } })
  })
})

describe('TransactTime (60)', () => {
  for (const text of ['abc', '20240230-00:00:00', '20240102-24:00:00', '2024-01-02T03:04:05Z', '1700000000000']) {
    test(`${text} is refused on tag 60, not passed over for SendingTime`, () => {
      const over = { 60: text, 52: '20240102-03:04:05' }
      expect(mapExecutionReport('v', fill(over), facts, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.TransactTime })
      expect(mapStatusReport(statusAnswer(over), facts, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.TransactTime })
      expect(mapCancelReject('v', cancelReject(over), facts, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.TransactTime })
    })
  }

  test('readable, it is the venue time; absent, SendingTime is', () => {
    expect(mapExecutionReport('v', fill({ 60: '20240102-03:04:05.678' }), facts, NOW_MS)).toMatchObject({ kind: 'mapped', value: { venueTimeMs: Date.UTC(2024, 0, 2, 3, 4, 5, 678) } })
    expect(mapCancelReject('v', cancelReject({ 52: '20240102-03:04:05' }), facts, NOW_MS)).toMatchObject({ kind: 'mapped', value: { venueTimeMs: Date.UTC(2024, 0, 2, 3, 4, 5) } })
  })
})

describe('ExecType (150) and ExecTransType (20)', () => {
  for (const execType of ['Z', 'O', '*', '10']) {
    test(`ExecType ${execType} is refused on tag 150, not ignored as carrying no transition`, () => {
      expect(mapExecutionReport('v', fill({ 150: execType }), facts, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.ExecType })
    })
  }

  test('the ExecTypes FIX defines that carry no transition are still ignored', () => {
    for (const execType of ['6', '7', '9', 'A', 'B', 'D', 'E', 'J', 'L']) expect(mapExecutionReport('v', fill({ 150: execType }), facts, NOW_MS).kind).toBe('ignored')
  })

  test('an ExecTransType FIX 4.2 does not define is refused on tag 20, not read as New', () => {
    for (const execTransType of ['4', 'N', '00']) {
      expect(mapExecutionReport('v', fill({ 20: execTransType }), facts, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.ExecTransType })
    }
    expect(mapExecutionReport('v', fill({ 20: '0' }), facts, NOW_MS).kind).toBe('mapped')
    expect(mapExecutionReport('v', fill({ 20: '1' }), facts, NOW_MS).kind).toBe('ignored')
  })
})

describe('FixVenue: a report with a field it cannot read', () => {
  test('an ExecutionReport with an unknown ExecType is refused (Reject naming 150, error log), not reported, the order read back', async () => {
    const order = await ackedOrder()
    order.acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'E2', 150: 'Z', 39: '1', 54: '1', 55: 'BTC-USD', 14: '0.5', 32: '0.5', 31: '100' }))
    await expectReportRefused(order, Tag.ExecType)
  })

  test('an OrderCancelReject with an unreadable TransactTime still refuses the cancel, is Rejected naming 60 and not reported', async () => {
    const { acceptor, venue, reports } = await loggedOnVenue({}, 'FIX.4.4')
    const readBacks: string[] = []
    venue.onReadBackWanted((id) => readBacks.push(id))
    acceptor.onMessage = (m) => {
      if (m.msgType === MsgType.NewOrderSingle) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'E1', 150: '0', 39: '0', 54: '1', 55: 'BTC-USD', 14: '0' })))
      if (m.msgType === MsgType.OrderCancelRequest) {
        queueMicrotask(() => acceptor.send(MsgType.OrderCancelReject, fields({ 37: 'O1', 11: m.get(Tag.ClOrdID) ?? '', 41: 'c-1', 39: '0', 434: '1', 102: '0', 60: 'yesterday' })))
      }
    }
    expect((await venue.place(limitBuy('c-1'))).kind).toBe('ok')
    const cancel = await venue.cancel({ clientOrderId: 'x-1', origClientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD' })
    expect(cancel.kind).toBe('rejected')
    await settle()
    expect(reports.map((r) => r.kind)).toEqual(['new'])
    expect(acceptor.ofType(MsgType.Reject).map((m) => m.get(Tag.RefTagID))).toEqual([String(Tag.TransactTime)])
    // The order (OrigClOrdID), not the refused cancel request (ClOrdID): specs/venues/fix/venue-refusal-follow-ups.test.ts.
    expect(readBacks).toEqual(['c-1'])
  })
})
