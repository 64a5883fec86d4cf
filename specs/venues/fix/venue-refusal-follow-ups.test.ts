/**
 * Refusals of venue messages egress cannot read, three details:
 * - An OrderCancelReject refused (a field it cannot read) asked for the order named by its ClOrdID to be read back —
 *   the refused cancel request's own id, not the order's (OrigClOrdID).
 * - A FIX 4.2 status report whose LastMsgSeqNumProcessed (369) was no sequence number was read as if 369 were absent,
 *   so a report sent before the venue received the query could be taken as its answer. It is refused as any field
 *   egress reads: session Reject naming 369, error `fix.report_unreadable`, the order read back, the query not answered.
 * - Every Reject naming a tag said SessionRejectReason 6 (incorrect data format). A value outside the field's
 *   enumeration is 5 ("Value is incorrect (out of range) for this tag"), a missing Required field 1.
 */

import { describe, expect, test } from 'bun:test'
import type { FixLogRecord } from '../../../src/venues/fix/log.ts'
import type { FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

const ack = fields({ 37: 'O1', 11: 'c-1', 17: 'E1', 20: '0', 150: '0', 39: '0', 54: '1', 55: 'BTC-USD', 14: '0' })

/** A venue with c-1 placed and acknowledged, whose cancels the venue answers with `cancelReject`, and its read-backs. */
async function placedOrder(cancelReject: (cancelId: string) => Record<number, string>) {
  const logged = await loggedOnVenue({}, 'FIX.4.4')
  const readBacks: string[] = []
  logged.venue.onReadBackWanted((id) => readBacks.push(id))
  logged.acceptor.onMessage = (m) => {
    if (m.msgType === MsgType.NewOrderSingle) queueMicrotask(() => logged.acceptor.send(MsgType.ExecutionReport, ack))
    if (m.msgType === MsgType.OrderCancelRequest) queueMicrotask(() => logged.acceptor.send(MsgType.OrderCancelReject, fields(cancelReject(m.get(Tag.ClOrdID) ?? ''))))
  }
  expect((await logged.venue.place(limitBuy('c-1'))).kind).toBe('ok')
  return { ...logged, readBacks }
}

describe('FixVenue: the order a refused message names is read back', () => {
  test('a refused OrderCancelReject has its order (OrigClOrdID) read back, not the cancel request (ClOrdID)', async () => {
    const { venue, reports, readBacks } = await placedOrder((cancelId) => ({ 37: 'O1', 11: cancelId, 41: 'c-1', 39: '0', 434: '1', 102: '0', 60: 'yesterday' }))
    const cancel = await venue.cancel({ clientOrderId: 'c-1.c1', origClientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD' })
    expect(cancel.kind).toBe('rejected')
    await settle()
    expect(reports.map((r) => r.kind)).toEqual(['new'])
    expect(readBacks).toEqual(['c-1'])
  })

  test('an OrderCancelReject the session refuses (a tag without a value) has its order read back; one without OrigClOrdID, the request', async () => {
    const { acceptor, readBacks } = await placedOrder(() => ({}))
    acceptor.sendText(MsgType.OrderCancelReject, '37=O1|11=c-1.c1|41=c-1|39=2|434=1|102=|')
    acceptor.sendText(MsgType.OrderCancelReject, '37=O1|11=c-1.c2|41=|39=2|434=1|102=0|')
    await settle()
    expect(readBacks).toEqual(['c-1', 'c-1.c2'])
  })
})

const facts: FixOrderFacts = { clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 2_00000000n, ordType: '2', timeInForce: '1', price: 100_00000000n, venueOrderId: 'O1' }
const lookupOrder = (id: string): FixOrderFacts | undefined => (id === 'c-1' ? facts : undefined)

/** A FIX 4.2 status answer (ExecTransType 3) for c-1, filled to `cumQty`, with these fields on top. */
function statusReport(cumQty: string, over: Record<number, string> = {}): ReturnType<typeof fields> {
  return fields({ 37: 'O1', 11: 'c-1', 17: '0', 20: '3', 150: '1', 39: '1', 55: 'BTC-USD', 54: '1', 38: '2', 14: cumQty, 44: '100', ...over })
}

describe('FixVenue (FIX 4.2): a status report whose LastMsgSeqNumProcessed (369) is unreadable', () => {
  for (const processed of ['abc', '-1', '1.5', '12345678901']) {
    test(`369=${JSON.stringify(processed)} is not taken as the owed query's answer; the order is read back; the query still owed`, async () => {
      const logs: FixLogRecord[] = []
      const { acceptor, clock, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.2', (record) => logs.push(record))
      const readBacks: string[] = []
      venue.onReadBackWanted((id) => readBacks.push(id))
      const query = venue.orderStatus('c-1')
      await settle()
      acceptor.send(MsgType.ExecutionReport, statusReport('0.5', { [Tag.LastMsgSeqNumProcessed]: processed }))
      await settle()
      expect(readBacks).toEqual(['c-1'])
      expect(acceptor.ofType(MsgType.Reject).map((m) => [m.get(Tag.RefTagID), m.get(Tag.SessionRejectReason)])).toEqual([['369', '6']])
      expect(logs.filter((record) => record.event === 'fix.report_unreadable').map((record) => record.level)).toEqual(['error'])
      await clock.advanceAsync(2_001)
      expect((await query).kind).toBe('unknown')
      const next = await venue.orderStatus('c-1')
      expect(next.kind === 'unknown' && next.reason).toStartWith('fix_status_answer_owed')
    })
  }

  test('a readable 369 one below the query is still its answer', async () => {
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.2')
    const query = venue.orderStatus('c-1')
    await settle()
    const seqNum = Number(acceptor.ofType(MsgType.OrderStatusRequest)[0]?.get(Tag.MsgSeqNum))
    acceptor.send(MsgType.ExecutionReport, statusReport('1.5', { [Tag.LastMsgSeqNumProcessed]: String(seqNum - 1) }))
    const outcome = await query
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
    expect(acceptor.ofType(MsgType.Reject)).toHaveLength(0)
  })
})

describe('FixVenue: the SessionRejectReason (373) of a refused report says what is wrong with the field', () => {
  const cases: [name: string, over: Record<number, string | undefined>, tag: number, reason: string][] = [
    ['an ExecType FIX does not define: 5, out of range', { 150: 'Z' }, Tag.ExecType, '5'],
    ['a Side FIX does not define: 5', { 54: '9' }, Tag.Side, '5'],
    ['a LastPx of 9 decimal places: 5, a float egress cannot hold', { 31: '100.123456789' }, Tag.LastPx, '5'],
    ['a LastQty that is no float: 6, incorrect data format', { 32: '1,5' }, Tag.LastQty, '6'],
    ['a TransactTime that is no UTCTimestamp: 6', { 60: 'yesterday' }, Tag.TransactTime, '6'],
    ['no ExecID: 1, Required tag missing', { 17: undefined }, Tag.ExecID, '1'],
    ['a CommType egress cannot compute: 5', { 12: '1', 13: '6' }, Tag.CommType, '5'],
  ]
  for (const [name, over, tag, reason] of cases) {
    test(name, async () => {
      const { acceptor } = await placedOrder(() => ({}))
      const fill: Record<number, string | undefined> = { 37: 'O1', 11: 'c-1', 17: 'F1', 150: 'F', 39: '1', 54: '1', 55: 'BTC-USD', 14: '0.5', 32: '0.5', 31: '100', ...over }
      acceptor.send(MsgType.ExecutionReport, fields(Object.fromEntries(Object.entries(fill).filter(([, value]) => value !== undefined)) as Record<number, string>))
      await settle()
      expect(acceptor.ofType(MsgType.Reject).map((m) => [m.get(Tag.RefTagID), m.get(Tag.SessionRejectReason)])).toEqual([[String(tag), reason]])
    })
  }
})
