/**
 * A tag that appears twice in a message outside a repeating group (FIX 4.4 SessionRejectReason 13, "Tag appears more
 * than once"): the message was read by the tag's first occurrence, so a fill naming two ExecIDs or two LastQtys was
 * booked by whichever the venue happened to put first. The session refuses it in its turn (Reject 373=13, 371=<tag>),
 * consumes its number, and the adapter reads back the order (or orders) it names. Tags that repeat inside a group the
 * adapter does not read (NoPartyIDs, NoMiscFees, a ListStatus's NoOrders) are not defects.
 */

import { describe, expect, test } from 'bun:test'
import { decodeFixMessage, encodeFixMessage } from '../../../src/venues/fix/codec.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

function decoded(body: string) {
  const fieldsOf = body.split('|').filter((part) => part !== '').map((part) => {
    const [tag, value] = part.split('=') as [string, string]
    return [Number(tag), value] as const
  })
  return decodeFixMessage(encodeFixMessage('FIX.4.4', fieldsOf))
}

describe('codec: a tag repeated outside a group', () => {
  test('a header tag or an ExecutionReport field that is never in a group, twice, is a defect naming the tag (reason 13)', () => {
    const cases: [string, number][] = [
      ['35=8|34=2|52=20240101-00:00:00|52=20240101-00:00:01|', 52],
      ['35=8|34=2|34=3|', 34],
      ['35=8|34=2|37=O1|11=c-1|17=F1|150=F|39=1|32=1|31=100|32=2|14=1|151=0|', 32],
      ['35=8|34=2|37=O1|11=c-1|11=c-2|17=F1|', 11],
      ['35=9|34=2|37=O1|11=c-1.c1|41=c-1|41=c-2|39=0|434=1|', 41],
    ]
    for (const [body, tag] of cases) {
      const message = decoded(body)
      expect({ reason: message.defect?.reason, refTagId: message.defect?.refTagId }, body).toEqual({ reason: 13, refTagId: tag })
      expect(message.seqNum, body).toBe(2)
    }
  })

  test('tags repeating in a repeating group, or in a message type the adapter does not read, are no defect', () => {
    for (const body of [
      '35=8|34=2|37=O1|11=c-1|17=F1|150=F|39=1|453=2|448=P1|447=D|452=1|448=P2|447=D|452=3|136=2|137=1|139=4|137=2|139=5|',
      '35=N|34=2|66=L1|429=5|82=1|83=1|73=2|11=c-1|14=0|39=0|151=1|11=c-2|14=0|39=0|151=1|',
    ]) {
      expect(decoded(body).defect, body).toBeUndefined()
    }
  })
})

describe('FixVenue: a report with a tag repeated', () => {
  test('a fill with two LastQtys is refused with Reject 373=13 371=32, not reported, its number consumed, its order read back', async () => {
    const { acceptor, venue, reports } = await loggedOnVenue({}, 'FIX.4.4')
    const readBacks: string[] = []
    venue.onReadBackWanted((id) => readBacks.push(id))
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.NewOrderSingle) return
      queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'N1', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '0', 151: '1.5' })))
    }
    expect((await venue.place(limitBuy('c-1'))).kind).toBe('ok')
    const refusedSeqNum = acceptor.nextSeqNum
    acceptor.sendText(MsgType.ExecutionReport, '37=O1|11=c-1|17=F1|150=F|39=1|55=BTC-USD|54=1|38=1.5|32=0.5|31=100.25|32=1.5|14=0.5|151=1|')
    acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'F2', 150: 'F', 39: '1', 55: 'BTC-USD', 54: '1', 38: '1.5', 32: '0.5', 31: '100.25', 14: '1', 151: '0.5' }))
    await settle()
    expect(reports.map((r) => r.execId)).toEqual(['N1', 'F2'])
    expect(readBacks).toEqual(['c-1'])
    const rejects = acceptor.ofType(MsgType.Reject)
    expect(rejects.map((m) => [m.get(Tag.RefSeqNum), m.get(Tag.SessionRejectReason), m.get(Tag.RefTagID), m.get(Tag.RefMsgType)])).toEqual([
      [String(refusedSeqNum), '13', '32', '8'],
    ])
    expect(acceptor.ofType(MsgType.ResendRequest)).toHaveLength(0)
    expect(venue.session.seqNums?.nextTargetSeqNum).toBe(refusedSeqNum + 2)
    expect(venue.session.state).toBe('active')
  })

  test('a report naming two ClOrdIDs has both orders read back', async () => {
    const { acceptor, venue, reports } = await loggedOnVenue({}, 'FIX.4.4')
    const readBacks: string[] = []
    venue.onReadBackWanted((id) => readBacks.push(id))
    acceptor.sendText(MsgType.ExecutionReport, '37=O1|11=c-1|11=c-2|17=F1|150=F|39=2|55=BTC-USD|54=1|38=1|32=1|31=100|14=1|151=0|')
    await settle()
    expect(reports).toEqual([])
    expect(readBacks).toEqual(['c-1', 'c-2'])
    expect(acceptor.ofType(MsgType.Reject).map((m) => [m.get(Tag.SessionRejectReason), m.get(Tag.RefTagID)])).toEqual([['13', '11']])
  })
})
