/**
 * An OrderQty (38) or Price (44) present in a status answer but not a decimal egress can hold exactly was read as if
 * absent: egress's remembered quantity and price stood in, so a garbled answer converged the order to egress's own
 * belief, with no log line. Such an answer is malformed: refused as other malformed venue messages are (session
 * Reject naming the tag, error log `fix.report_unreadable`) and its query ends `unknown` with
 * `fix_status_answer_unreadable`. Absent (or 0 or below: a market order's Price 0), the remembered values still stand
 * in. The same for a mass status report (before: passed over, the list short of that order) and for the OrderQty of a
 * Replaced report, which the adapter's memory takes as the order's new quantity.
 */

import { describe, expect, test } from 'bun:test'
import type { FixLogRecord } from '../../../src/venues/fix/log.ts'
import { FixMessage } from '../../../src/venues/fix/message.ts'
import { FixReason } from '../../../src/venues/fix/reasons.ts'
import { mapExecutionReport, mapStatusReport, type FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

const NOW_MS = 1_700_000_000_000
const facts: FixOrderFacts = { clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 2_00000000n, ordType: '2', timeInForce: '1', price: 100_00000000n, venueOrderId: 'O1' }
const lookupOrder = (id: string): FixOrderFacts | undefined => (id === 'c-1' ? facts : undefined)
const unreadable = ['abc', '1.123456789', '1e5', '1234567890123456789012']

function message(byTag: Record<number, string>): FixMessage {
  return new FixMessage('FIX.4.4', fields({ [Tag.MsgType]: MsgType.ExecutionReport, ...byTag }))
}

/** A status answer for c-1 (0.5 of 2 filled at 100), with these fields changed. */
function statusAnswer(over: Record<number, string>): Record<number, string> {
  return { 37: 'O1', 11: 'c-1', 17: 'S1', 150: 'I', 39: '1', 55: 'BTC-USD', 54: '1', 38: '2', 14: '0.5', 44: '100', ...over }
}

describe('mapStatusReport: OrderQty and Price present but unreadable', () => {
  for (const [name, tag] of [['OrderQty', Tag.OrderQty], ['Price', Tag.Price]] as const) {
    for (const text of unreadable) {
      test(`${name} ${text} is refused on tag ${tag}, not replaced by what egress remembers`, () => {
        expect(mapStatusReport(message(statusAnswer({ [tag]: text })), facts, NOW_MS)).toMatchObject({ kind: 'invalid', tag })
      })
    }
  }

  test('absent, they are what egress remembers, as before', () => {
    const answer = statusAnswer({})
    delete answer[Tag.OrderQty]
    delete answer[Tag.Price]
    expect(mapStatusReport(message(answer), facts, NOW_MS)).toMatchObject({ kind: 'mapped', value: { qty: 2_00000000n, price: 100_00000000n } })
  })
})

describe('FixVenue: an unreadable status answer', () => {
  test('is refused with a session Reject naming the tag and logged; the query ends unknown with fix_status_answer_unreadable', async () => {
    const logs: FixLogRecord[] = []
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder }, 'FIX.4.4', (record) => logs.push(record))
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.OrderStatusRequest) return
      const echo = { [Tag.OrdStatusReqID]: m.get(Tag.OrdStatusReqID) ?? '' }
      queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields(statusAnswer({ ...echo, [Tag.OrderQty]: 'abc' }))))
    }
    const outcome = await venue.orderStatus('c-1')
    expect(outcome.kind).toBe('unknown')
    expect(outcome.kind === 'unknown' && outcome.reason).toStartWith(`${FixReason.statusAnswerUnreadable}: OrderQty (38)`)
    await settle()
    expect(acceptor.ofType(MsgType.Reject).map((m) => m.get(Tag.RefTagID))).toEqual([String(Tag.OrderQty)])
    const refused = logs.filter((record) => record.event === 'fix.report_unreadable')
    expect(refused.map((record) => record.level)).toEqual(['error'])
  })

  test('a mass status report with an unreadable Price ends openOrders unknown, not a list short of that order', async () => {
    const { acceptor, venue } = await loggedOnVenue({ lookupOrder, massStatus: true }, 'FIX.4.4')
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.OrderMassStatusRequest) return
      const base = { 584: m.get(Tag.MassStatusReqID) ?? '', 150: 'I', 55: 'BTC-USD', 54: '1', 38: '1', 911: '2', 1: 'A1', 39: '0', 14: '0' }
      queueMicrotask(() => {
        acceptor.send(MsgType.ExecutionReport, fields({ ...base, 37: 'O1', 11: 'c-1', 17: 'M1', 44: '100.123456789' }))
        acceptor.send(MsgType.ExecutionReport, fields({ ...base, 37: 'O2', 11: 'c-2', 17: 'M2', 44: '100', 912: 'Y' }))
      })
    }
    const outcome = await venue.openOrders('A1')
    expect(outcome.kind === 'unknown' && outcome.reason).toStartWith(`${FixReason.statusAnswerUnreadable}: Price (44)`)
    await settle()
    expect(acceptor.ofType(MsgType.Reject).map((m) => m.get(Tag.RefTagID))).toEqual([String(Tag.Price)])
  })
})

describe('a Replaced report whose OrderQty is unreadable', () => {
  test('is refused on tag 38 (the memory took it as the new quantity, else the one sent)', () => {
    const replaced = { 37: 'O1', 11: 'a-1', 41: 'c-1', 17: 'R1', 150: '5', 39: '0', 55: 'BTC-USD', 54: '1', 14: '0' }
    expect(mapExecutionReport('fixsim', message({ ...replaced, 38: 'abc' }), facts, NOW_MS)).toMatchObject({ kind: 'invalid', tag: Tag.OrderQty })
    expect(mapExecutionReport('fixsim', message({ ...replaced, 38: '2' }), facts, NOW_MS)).toMatchObject({ kind: 'mapped' })
    expect(mapExecutionReport('fixsim', message(replaced), facts, NOW_MS)).toMatchObject({ kind: 'mapped' })
  })

  test('through the venue: not reported, the amend not answered by it, and the order read back', async () => {
    const { acceptor, clock, venue, reports } = await loggedOnVenue()
    const readBacks: string[] = []
    venue.onReadBackWanted((id) => readBacks.push(id))
    const common = { 37: 'O9', 55: 'BTC-USD', 54: '1', 14: '0' }
    acceptor.onMessage = (m) => {
      if (m.msgType === MsgType.NewOrderSingle) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ ...common, 11: 'c-1', 17: 'E1', 150: '0', 39: '0', 38: '1.5' })))
      if (m.msgType === MsgType.OrderCancelReplaceRequest) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ ...common, 11: 'a-1', 41: 'c-1', 17: 'E2', 150: '5', 39: '0', 38: '2x' })))
    }
    expect((await venue.place(limitBuy('c-1'))).kind).toBe('ok')
    const amend = venue.amend({ clientOrderId: 'a-1', origClientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', qty: 2_00000000n, price: 99_00000000n })
    await settle()
    expect(reports.map((r) => r.execId)).toEqual(['E1'])
    expect(readBacks).toEqual(['a-1'])
    expect(acceptor.ofType(MsgType.Reject).map((m) => m.get(Tag.RefTagID))).toEqual([String(Tag.OrderQty)])
    await clock.advanceAsync(5_001)
    expect((await amend).kind).toBe('unknown')
  })
})
