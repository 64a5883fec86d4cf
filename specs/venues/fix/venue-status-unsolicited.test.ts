import { describe, expect, test } from 'bun:test'
import type { FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, loggedOnVenue } from './venue-harness.ts'

const facts: FixOrderFacts = { clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 2_00000000n, ordType: '2', timeInForce: '1', price: 100_00000000n, venueOrderId: 'O1' }
const lookupOrder = (id: string): FixOrderFacts | undefined => (id === 'c-1' ? facts : undefined)

/** An ExecutionReport for c-1, partially filled to `cumQty`, with these fields on top. */
function report(cumQty: string, over: Record<number, string>): ReturnType<typeof fields> {
  return fields({ 37: 'O1', 11: 'c-1', 17: '0', 39: '1', 55: 'BTC-USD', 54: '1', 38: '2', 14: cumQty, 44: '100', ...over })
}

describe('FixVenue: only a status answer answers a status query', () => {
  test('FIX 4.2: a report whose ExecTransType is not 3 (Status) is no answer, whatever its ExecType says', async () => {
    // FIX 4.2 has no ExecType I (Order Status came in 4.3); taken by ExecType alone, this report (ExecTransType 0,
    // "New") settled the query with 0.5 filled, paid its debt, and the venue's actual answer was then dropped.
    const { acceptor, venue, reports } = await loggedOnVenue({ lookupOrder }, 'FIX.4.2')
    const query = venue.orderStatus('c-1')
    await settle()
    acceptor.send(MsgType.ExecutionReport, report('0.5', { 20: '0', 150: 'I', 17: 'E-1' }))
    await settle()
    acceptor.send(MsgType.ExecutionReport, report('1.5', { 20: '3', 150: '1' }))
    const outcome = await query
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
    expect(reports).toHaveLength(0)
  })

  test('FIX 4.2: a status report the venue restates of its own accord (ExecRestatementReason set) is no answer', async () => {
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.2')
    const query = venue.orderStatus('c-1')
    await settle()
    acceptor.send(MsgType.ExecutionReport, report('0.5', { 20: '3', 150: '1', [Tag.ExecRestatementReason]: '3' }))
    await settle()
    acceptor.send(MsgType.ExecutionReport, report('1.5', { 20: '3', 150: '1' }))
    const outcome = await query
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
  })

  test('FIX 4.2: an ordinary execution report while a query is owed is reported, and neither settles the query nor pays its debt', async () => {
    const { acceptor, clock, venue, reports } = await loggedOnVenue({ lookupOrder }, 'FIX.4.2')
    const query = venue.orderStatus('c-1')
    await settle()
    acceptor.send(MsgType.ExecutionReport, report('0.5', { 20: '0', 150: '1', 17: 'E-1', 32: '0.5', 31: '100' }))
    await settle()
    expect(reports.map((r) => r.kind)).toEqual(['fill'])
    await clock.advanceAsync(2_001)
    expect((await query).kind).toBe('unknown')
    const next = await venue.orderStatus('c-1')
    expect(next.kind === 'unknown' && next.reason).toStartWith('fix_status_answer_owed')
  })

  test('FIX 4.2: a status report sent before the venue received the query (LastMsgSeqNumProcessed two below it) is not its answer', async () => {
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.2')
    const query = venue.orderStatus('c-1')
    await settle()
    const seqNum = Number(acceptor.ofType(MsgType.OrderStatusRequest)[0]?.get(Tag.MsgSeqNum))
    acceptor.send(MsgType.ExecutionReport, report('0.5', { [Tag.LastMsgSeqNumProcessed]: String(seqNum - 2), 20: '3', 150: '1' }))
    await settle()
    // One below is what QuickFIX stamps on the answer its application sends while handling the query.
    acceptor.send(MsgType.ExecutionReport, report('1.5', { [Tag.LastMsgSeqNumProcessed]: String(seqNum - 1), 20: '3', 150: '1' }))
    const outcome = await query
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
  })

  test('FIX 4.4: an Order Status report without the OrdStatusReqID the query carried is not its answer', async () => {
    // The spec has the venue echo OrdStatusReqID when the request carries one, so a report without it is one the venue
    // sent of its own accord (a terminal status summary, say). Matched by ClOrdID, it settled the query with 0.5.
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.4')
    const query = venue.orderStatus('c-1')
    await settle()
    const requestId = acceptor.ofType(MsgType.OrderStatusRequest)[0]?.get(Tag.OrdStatusReqID) ?? ''
    acceptor.send(MsgType.ExecutionReport, report('0.5', { 150: 'I' }))
    await settle()
    acceptor.send(MsgType.ExecutionReport, report('1.5', { 150: 'I', [Tag.OrdStatusReqID]: requestId }))
    const outcome = await query
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
  })

  test('FIX 4.4, venue configured as not echoing OrdStatusReqID: answers go by ClOrdID under the 4.2 rule, one query per order owed', async () => {
    const { acceptor, clock, venue } = await loggedOnVenue({ lookupOrder, statusReqIdEchoed: false }, 'FIX.4.4')
    const first = venue.orderStatus('c-1')
    await settle()
    await clock.advanceAsync(2_001)
    expect((await first).kind).toBe('unknown')
    const owed = await venue.orderStatus('c-1')
    expect(owed.kind === 'unknown' && owed.reason).toStartWith('fix_status_answer_owed')
    expect(acceptor.ofType(MsgType.OrderStatusRequest)).toHaveLength(1)
    acceptor.send(MsgType.ExecutionReport, report('0.5', { 150: 'I' }))
    await settle()
    const third = venue.orderStatus('c-1')
    await settle()
    expect(acceptor.ofType(MsgType.OrderStatusRequest)).toHaveLength(2)
    acceptor.send(MsgType.ExecutionReport, report('1.5', { 150: 'I' }))
    const outcome = await third
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
  })
})
