/**
 * FIX rejects carry their numeric reason at the front of the reason text (`OrdRejReason <n>`, `CxlRejReason <n>`),
 * so the venue reject code is read back from the recorded text alone (src/venues/reject-code-of.ts): through the wire
 * (the fake acceptor encodes, the adapter's codec decodes) with real tag values, in the call's answer and the report.
 */

import { expect, test } from 'bun:test'
import type { VenueOutcome } from '../../../src/venues/adapter.ts'
import { FixReason } from '../../../src/venues/fix/reasons.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { venueRejectCodeOf } from '../../../src/venues/reject-code-of.ts'
import { settle } from './fake-acceptor.ts'
import { fields as er, limitBuy as order, loggedOnVenue as setup } from './venue-harness.ts'

function reasonOf(outcome: VenueOutcome<unknown>): string {
  if (outcome.kind !== 'rejected') throw new Error(`expected rejected, got ${JSON.stringify(outcome)}`)
  return outcome.reason
}

/** An ExecType=8 answer to every NewOrderSingle, with these extra fields (OrdRejReason, Text). */
async function rejectedPlace(extra: Record<number, string>, beginString: 'FIX.4.2' | 'FIX.4.4' = 'FIX.4.4') {
  const { acceptor, venue, reports } = await setup({}, beginString)
  acceptor.onMessage = (m) => {
    if (m.msgType !== MsgType.NewOrderSingle) return
    queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, er({ 37: 'NONE', 11: m.get(Tag.ClOrdID) ?? '', 17: 'R1', 150: '8', 39: '8', 55: 'BTC-USD', 54: '1', 14: '0', 151: '0', 6: '0', ...extra })))
  }
  const outcome = await venue.place(order('c-1'))
  await settle()
  return { reason: reasonOf(outcome), reportReason: reports.find((report) => report.kind === 'rejected')?.reason }
}

test('an ExecType=8 with OrdRejReason and Text: the reason leads with OrdRejReason, in the answer and in the report, and gives its code', async () => {
  const { reason, reportReason } = await rejectedPlace({ 103: '16', 58: 'price outside the band' })
  expect(reason).toBe(`${FixReason.venueRejected}: OrdRejReason 16: price outside the band`)
  expect(reportReason).toBe('OrdRejReason 16: price outside the band')
  expect([venueRejectCodeOf(reason), venueRejectCodeOf(reportReason ?? '')]).toEqual(['PRICE_OUT_OF_BAND', 'PRICE_OUT_OF_BAND'])
})

test('OrdRejReason without Text (FIX 4.2) is kept too; Text without OrdRejReason is OTHER', async () => {
  const closed = await rejectedPlace({ 103: '2' }, 'FIX.4.2')
  expect(closed.reason).toBe(`${FixReason.venueRejected}: OrdRejReason 2`)
  expect([venueRejectCodeOf(closed.reason), venueRejectCodeOf(closed.reportReason ?? '')]).toEqual(['MARKET_CLOSED', 'MARKET_CLOSED'])
  const textOnly = await rejectedPlace({ 58: 'insufficient funds' })
  expect(textOnly.reason).toBe(`${FixReason.venueRejected}: insufficient funds`)
  expect(venueRejectCodeOf(textOnly.reason)).toBe('OTHER')
})

test('an OrderCancelReject gives its CxlRejReason code: too late (0), pending (3)', async () => {
  const { acceptor, venue, reports } = await setup({}, 'FIX.4.4')
  acceptor.onMessage = (m) => {
    if (m.msgType === MsgType.NewOrderSingle) queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, er({ 37: 'O1', 11: 'c-1', 17: 'N1', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 14: '0', 151: '1.5', 6: '0' })))
  }
  await venue.place(order('c-1'))
  const codes: string[] = []
  for (const [n, cxlRejReason] of [['1', '0'], ['2', '3']] as const) {
    acceptor.onMessage = (m) => {
      if (m.msgType === MsgType.OrderCancelRequest) queueMicrotask(() => acceptor.send(MsgType.OrderCancelReject, er({ 37: 'O1', 11: m.get(Tag.ClOrdID) ?? '', 41: 'c-1', 39: '0', 434: '1', 102: cxlRejReason, 58: 'no' })))
    }
    const outcome = await venue.cancel({ clientOrderId: `x-${n}`, origClientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD' })
    codes.push(venueRejectCodeOf(reasonOf(outcome)))
  }
  await settle()
  expect(codes).toEqual(['TOO_LATE', 'ORDER_PENDING'])
  expect(reports.filter((report) => report.kind === 'cancel_rejected').map((report) => venueRejectCodeOf(report.reason ?? ''))).toEqual(['TOO_LATE', 'ORDER_PENDING'])
})
