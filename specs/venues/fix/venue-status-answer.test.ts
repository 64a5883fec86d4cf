import { describe, expect, test } from 'bun:test'
import type { FixMessage } from '../../../src/venues/fix/message.ts'
import type { FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, loggedOnVenue } from './venue-harness.ts'

const facts: FixOrderFacts = { clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 2_00000000n, ordType: '2', timeInForce: '1', price: 100_00000000n, venueOrderId: 'O1' }
const lookupOrder = (id: string): FixOrderFacts | undefined => (id === 'c-1' ? facts : undefined)

/** An ExecType=I answer for c-1 with this cumulative quantity, echoing `requestId` as OrdStatusReqID when given. */
function statusAnswer(cumQty: string, requestId: string | undefined): ReturnType<typeof fields> {
  const echo = requestId === undefined ? {} : { [Tag.OrdStatusReqID]: requestId }
  return fields({ 37: 'O1', 11: 'c-1', 17: `S-${cumQty}`, 150: 'I', 39: '1', 55: 'BTC-USD', 54: '1', 38: '2', 14: cumQty, 44: '100', ...echo })
}

describe('FixVenue: which OrderStatusRequest a status answer completes', () => {
  test('a late answer to an earlier, timed-out query does not complete a newer query about the same order (OrdStatusReqID)', async () => {
    // Matched by ClOrdID alone, the first query's answer arriving after it timed out completed the second query with
    // the older news (here: 0.5 filled when the venue now says 1.5).
    const { acceptor, clock, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.4')
    const requests: FixMessage[] = []
    acceptor.onMessage = (message) => {
      if (message.msgType === MsgType.OrderStatusRequest) requests.push(message)
    }
    const first = venue.orderStatus('c-1')
    await settle()
    await clock.advanceAsync(2_001)
    expect((await first).kind).toBe('unknown')
    const second = venue.orderStatus('c-1')
    await settle()
    const [firstId, secondId] = requests.map((request) => request.get(Tag.OrdStatusReqID))
    expect(firstId).toBeDefined()
    expect(secondId).toBeDefined()
    expect(firstId).not.toBe(secondId)
    acceptor.send(MsgType.ExecutionReport, statusAnswer('0.5', firstId))
    acceptor.send(MsgType.ExecutionReport, statusAnswer('1.5', secondId))
    const outcome = await second
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
  })

  test('FIX 4.4: an answer that does not echo OrdStatusReqID is not taken (statusReqIdEchoed defaults to true): the query times out unknown', async () => {
    const { acceptor, clock, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.4')
    acceptor.onMessage = (message) => {
      if (message.msgType === MsgType.OrderStatusRequest) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, statusAnswer('0.5', undefined)))
    }
    const query = venue.orderStatus('c-1')
    await settle()
    await clock.advanceAsync(2_001)
    const outcome = await query
    expect(outcome.kind === 'unknown' && outcome.reason).toStartWith('fix_timeout')
  })

  test('FIX 4.4 with statusReqIdEchoed false: an answer that does not echo OrdStatusReqID is matched by ClOrdID', async () => {
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder, statusReqIdEchoed: false }, 'FIX.4.4')
    acceptor.onMessage = (message) => {
      if (message.msgType === MsgType.OrderStatusRequest) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, statusAnswer('0.5', undefined)))
    }
    const outcome = await venue.orderStatus('c-1')
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(50000000n)
  })

  test('FIX 4.2, which has no OrdStatusReqID, sends none', async () => {
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.2')
    acceptor.onMessage = (message) => {
      if (message.msgType === MsgType.OrderStatusRequest) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, statusAnswer('0.5', undefined)))
    }
    expect((await venue.orderStatus('c-1')).kind).toBe('ok')
    expect(acceptor.ofType(MsgType.OrderStatusRequest)[0]?.has(Tag.OrdStatusReqID)).toBe(false)
  })

  test('FIX 4.2: a late answer to a timed-out query cannot complete a newer one; no second query goes while one is owed an answer', async () => {
    // FIX 4.2 has no OrdStatusReqID: matched by ClOrdID alone, the first query's late answer (0.5 filled) completed the
    // second query, sent after the first timed out, as the order's state — though the venue now says 1.5.
    const { acceptor, clock, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.2')
    const first = venue.orderStatus('c-1')
    await settle()
    await clock.advanceAsync(2_001)
    expect((await first).kind).toBe('unknown')
    const second = venue.orderStatus('c-1')
    await settle()
    acceptor.send(MsgType.ExecutionReport, statusAnswer('0.5', undefined))
    await settle()
    const secondOutcome = await second
    expect(secondOutcome.kind).toBe('unknown')
    expect(secondOutcome.kind === 'unknown' && secondOutcome.reason).toStartWith('fix_status_answer_owed')
    expect(acceptor.ofType(MsgType.OrderStatusRequest)).toHaveLength(1)
    // The owed answer came (and was dropped): the next query goes, and its own answer completes it.
    const third = venue.orderStatus('c-1')
    await settle()
    expect(acceptor.ofType(MsgType.OrderStatusRequest)).toHaveLength(2)
    acceptor.send(MsgType.ExecutionReport, statusAnswer('1.5', undefined))
    const outcome = await third
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
  })

  test('FIX 4.2: a query the venue refused (BusinessMessageReject of its MsgSeqNum) is owed nothing, so the next one goes', async () => {
    const { acceptor, clock, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.2')
    const first = venue.orderStatus('c-1')
    await settle()
    await clock.advanceAsync(2_001)
    expect((await first).kind).toBe('unknown')
    const seqNum = acceptor.ofType(MsgType.OrderStatusRequest)[0]?.get(Tag.MsgSeqNum) ?? ''
    acceptor.send(MsgType.BusinessMessageReject, fields({ [Tag.RefSeqNum]: seqNum, [Tag.RefMsgType]: MsgType.OrderStatusRequest, [Tag.BusinessRejectReason]: '3' }))
    await settle()
    const second = venue.orderStatus('c-1')
    await settle()
    expect(acceptor.ofType(MsgType.OrderStatusRequest)).toHaveLength(2)
    acceptor.send(MsgType.ExecutionReport, statusAnswer('1.5', undefined))
    const outcome = await second
    expect(outcome.kind === 'ok' && outcome.value?.cumQty).toBe(1_50000000n)
  })

  test('FIX 4.2: a status answer no query waits for is never taken as the order state, and queries about other orders still go', async () => {
    const other: FixOrderFacts = { ...facts, clientOrderId: 'c-2', venueOrderId: 'O2' }
    const { acceptor, clock, venue, reports } = await loggedOnVenue({ lookupOrder: (id) => (id === 'c-1' ? facts : id === 'c-2' ? other : undefined) }, 'FIX.4.2')
    const first = venue.orderStatus('c-1')
    await settle()
    await clock.advanceAsync(2_001)
    expect((await first).kind).toBe('unknown')
    const forOther = venue.orderStatus('c-2')
    await settle()
    expect(acceptor.ofType(MsgType.OrderStatusRequest)).toHaveLength(2)
    acceptor.send(MsgType.ExecutionReport, statusAnswer('0.5', undefined))
    await settle()
    expect(reports).toHaveLength(0)
    await clock.advanceAsync(2_001)
    expect((await forOther).kind).toBe('unknown')
  })
})
