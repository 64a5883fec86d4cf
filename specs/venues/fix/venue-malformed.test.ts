/**
 * A venue message with a bad field (a tag without a value, say) is refused by the session with a Reject and never
 * resent (session.test.ts): what it said is lost to the adapter. When it names an order — a fill, a cancel, a cancel
 * reject — the adapter asks the gateway to read that order back, which books what the venue holds; it is never mapped.
 */

import { describe, expect, test } from 'bun:test'
import { invalidReportOf } from '../../../src/runtime/report-check.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

/** A venue with order c-1 placed and acknowledged (N1), and the order ids it asks to read back. */
async function placedOrder(): Promise<Awaited<ReturnType<typeof loggedOnVenue>> & { readBacks: string[] }> {
  const logged = await loggedOnVenue()
  const { acceptor, venue } = logged
  const readBacks: string[] = []
  venue.onReadBackWanted((id) => readBacks.push(id))
  acceptor.onMessage = (m) => {
    if (m.msgType !== MsgType.NewOrderSingle) return
    queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'N1', 20: '0', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '0' })))
  }
  expect((await venue.place(limitBuy('c-1'))).kind).toBe('ok')
  return { ...logged, readBacks }
}

describe('FixVenue: a malformed message naming an order', () => {
  test('a fill with a tag without a value is not reported; its order is read back; later reports still arrive', async () => {
    const { acceptor, reports, readBacks } = await placedOrder()
    acceptor.sendText(MsgType.ExecutionReport, '37=O1|11=c-1|17=F1|20=0|150=2|39=2|55=BTC-USD|54=1|38=1.5|14=1.5|32=1.5|31=100.25|58=|')
    acceptor.sendText(MsgType.OrderCancelReject, '37=O1|11=c-1.c1|41=c-1|39=2|434=1|102=|')
    acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O2', 11: 'c-2', 17: 'N2', 20: '0', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 38: '1', 14: '0' }))
    await settle()
    expect(reports.map((r) => r.execId)).toEqual(['N1', 'N2'])
    // The cancel reject names its order by OrigClOrdID (its ClOrdID is the cancel request's own id).
    expect(readBacks).toEqual(['c-1', 'c-1'])
    expect(acceptor.ofType(MsgType.Reject).map((m) => m.get(Tag.RefTagID))).toEqual(['58', '102'])
  })

  for (const [name, changed] of [
    ['a Commission that is not a decimal', { 12: 'abc' }],
    ['a LastPx of 9 decimal places', { 31: '100.123456789' }],
    ['no CumQty', { 14: undefined }],
  ] as const) {
    test(`a fill the adapter cannot map (${name}) is refused, not reported, and its order is read back: its sequence number is spent`, async () => {
      const { acceptor, reports, readBacks } = await placedOrder()
      const fill: Record<number, string | undefined> = { 37: 'O1', 11: 'c-1', 17: 'F1', 20: '0', 150: '2', 39: '2', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '1.5', 32: '1.5', 31: '100.25', ...changed }
      acceptor.send(MsgType.ExecutionReport, fields(Object.fromEntries(Object.entries(fill).filter(([, value]) => value !== undefined)) as Record<number, string>))
      await settle()
      expect(reports.map((r) => r.execId)).toEqual(['N1'])
      expect(acceptor.ofType(MsgType.Reject)).toHaveLength(1)
      expect(readBacks).toEqual(['c-1'])
    })
  }

  test("a BusinessMessageReject's Text is bounded as other reasons are, and a time it names that is none is not taken into the exec id", async () => {
    const { acceptor, venue, reports } = await loggedOnVenue()
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.NewOrderSingle) return
      queueMicrotask(() => acceptor.send(MsgType.BusinessMessageReject, fields({ 45: m.get(Tag.MsgSeqNum) as string, 372: 'D', 380: '0', 58: 'x'.repeat(3000), 122: 'not a time' })))
    }
    expect((await venue.place(limitBuy('c-1'))).kind).not.toBe('ok')
    await settle()
    expect(reports.map((r) => r.kind)).toEqual(['rejected'])
    const report = reports[0]
    if (report === undefined) throw new Error('expected the reject report')
    expect(invalidReportOf(report)).toBeNull()
    expect(report.reason?.length).toBeLessThanOrEqual(1024)
    expect(report.execId).not.toContain('not a time')
  })
})
