/**
 * Done for day (ExecType 3 / OrdStatus 3) on a GTC or GTD order reads LeavesQty (151), TimeInForce (59) and OrdStatus
 * (39) to tell an order resting for a later day from one that ended (reports.ts restsForLaterDay). Present but
 * unreadable, they were read as absent: a LeavesQty of "abc" read the order as resting (the report ignored, a status
 * answer `open`), a negative one or a garbled TimeInForce or OrdStatus as ended (`expired`, with the order possibly
 * live at the venue). Such a report is now refused as any malformed one (session Reject naming the tag, error log
 * `fix.report_unreadable`, the order read back), and a status answer ends its query `unknown` with
 * `fix_status_answer_unreadable`.
 */

import { describe, expect, test } from 'bun:test'
import { FixMessage } from '../../../src/venues/fix/message.ts'
import { FixReason } from '../../../src/venues/fix/reasons.ts'
import { mapExecutionReport, mapStatusReport, type FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { ackedOrder, expectReportRefused, fields, loggedOnVenue } from './venue-harness.ts'

const facts = (timeInForce: string): FixOrderFacts => ({ clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 2_00000000n, price: 100_00000000n, ordType: '2', timeInForce })
const message = (byTag: Record<number, string>) => new FixMessage('FIX.4.4', fields({ [Tag.MsgType]: MsgType.ExecutionReport, ...byTag }))
const doneForDay = (over: Record<number, string> = {}) => ({ 11: 'c-1', 37: 'O1', 17: 'E9', 150: '3', 39: '3', 54: '1', 55: 'BTC-USD', 14: '0.5', 151: '1.5', ...over })
const statusAnswer = (over: Record<number, string> = {}) => ({ 11: 'c-1', 37: 'O1', 17: 'S1', 150: 'I', 39: '3', 54: '1', 55: 'BTC-USD', 14: '0.5', 38: '2', ...over })
const unreadable = ['abc', '1.123456789', '1e5', '-1', '-0.5']

describe('Done for day with LeavesQty present but unreadable', () => {
  for (const text of unreadable) {
    test(`LeavesQty ${text} refuses a GTC order's report and status answer on tag 151`, () => {
      expect(mapExecutionReport('v', message(doneForDay({ 151: text })), facts('1'), 0)).toMatchObject({ kind: 'invalid', tag: Tag.LeavesQty })
      expect(mapStatusReport(message(statusAnswer({ 151: text })), facts('1'), 0)).toMatchObject({ kind: 'invalid', tag: Tag.LeavesQty })
    })
  }

  test('a day order does not read LeavesQty: its report still ends it', () => {
    const day = mapExecutionReport('v', message(doneForDay({ 151: 'abc' })), facts('0'), 0)
    expect(day.kind === 'mapped' && day.value.kind).toBe('expired')
  })

  test('absent or readable, as before: none or some left rests, 0 left ends', () => {
    const { 151: _leaves, ...absent } = doneForDay()
    expect(mapExecutionReport('v', message(absent), facts('1'), 0).kind).toBe('ignored')
    expect(mapExecutionReport('v', message(doneForDay({ 151: '1.5' })), facts('1'), 0).kind).toBe('ignored')
    const ended = mapExecutionReport('v', message(doneForDay({ 151: '0' })), facts('1'), 0)
    expect(ended.kind === 'mapped' && ended.value.kind).toBe('expired')
  })

  test('a TimeInForce or OrdStatus FIX does not define is refused on its tag, not read as ending the order', () => {
    expect(mapExecutionReport('v', message(doneForDay({ 59: 'Z' })), facts('1'), 0)).toMatchObject({ kind: 'invalid', tag: Tag.TimeInForce })
    expect(mapExecutionReport('v', message(doneForDay({ 39: 'Z' })), facts('1'), 0)).toMatchObject({ kind: 'invalid', tag: Tag.OrdStatus })
    expect(mapStatusReport(message(statusAnswer({ 59: '?' })), facts('1'), 0)).toMatchObject({ kind: 'invalid', tag: Tag.TimeInForce })
  })
})

describe('FixVenue: Done for day with an unreadable LeavesQty', () => {
  test('is refused with a Reject naming 151 and an error log, not reported, and the order read back', async () => {
    const order = await ackedOrder({ tif: 'GTC' })
    order.acceptor.send(MsgType.ExecutionReport, fields(doneForDay({ 151: 'abc' })))
    await expectReportRefused(order, Tag.LeavesQty)
  })

  test("a status answer's query ends unknown with fix_status_answer_unreadable, not read as open", async () => {
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder: (id) => (id === 'c-1' ? facts('1') : undefined) }, 'FIX.4.4')
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.OrderStatusRequest) return
      queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields(statusAnswer({ 790: m.get(Tag.OrdStatusReqID) ?? '', 151: 'abc' }))))
    }
    const outcome = await venue.orderStatus('c-1')
    expect(outcome.kind === 'unknown' && outcome.reason).toStartWith(`${FixReason.statusAnswerUnreadable}: LeavesQty (151)`)
    await settle()
    expect(acceptor.ofType(MsgType.Reject).map((m) => m.get(Tag.RefTagID))).toEqual([String(Tag.LeavesQty)])
  })
})
