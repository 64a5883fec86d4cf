/**
 * A venue message with a bad field (a tag without a value, say) is refused by the session with a Reject and never
 * resent (session.test.ts): what it said is lost to the adapter. When it names an order — a fill, a cancel, a cancel
 * reject — the adapter asks the gateway to read that order back, which books what the venue holds; it is never mapped.
 */

import { describe, expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

describe('FixVenue: a malformed message naming an order', () => {
  test('a fill with a tag without a value is not reported; its order is read back; later reports still arrive', async () => {
    const { acceptor, venue, reports } = await loggedOnVenue()
    const readBacks: string[] = []
    venue.onReadBackWanted((id) => readBacks.push(id))
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.NewOrderSingle) return
      queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'N1', 20: '0', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '0' })))
    }
    expect((await venue.place(limitBuy('c-1'))).kind).toBe('ok')
    acceptor.sendText(MsgType.ExecutionReport, '37=O1|11=c-1|17=F1|20=0|150=2|39=2|55=BTC-USD|54=1|38=1.5|14=1.5|32=1.5|31=100.25|58=|')
    acceptor.sendText(MsgType.OrderCancelReject, '37=O1|11=c-1.c1|41=c-1|39=2|434=1|102=|')
    acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O2', 11: 'c-2', 17: 'N2', 20: '0', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 38: '1', 14: '0' }))
    await settle()
    expect(reports.map((r) => r.execId)).toEqual(['N1', 'N2'])
    expect(readBacks).toEqual(['c-1', 'c-1.c1'])
    expect(acceptor.ofType(MsgType.Reject).map((m) => m.get(Tag.RefTagID))).toEqual(['58', '102'])
  })
})
