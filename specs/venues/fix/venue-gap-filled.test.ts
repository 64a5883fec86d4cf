import { describe, expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

describe('FixVenue: numbers gap-filled on a ResendRequest', () => {
  test('a Reject naming a gap-filled number (our GapFill goes out under it) is not reported as the venue refusing the order sent there', async () => {
    // The adapter remembers each request by MsgSeqNum so a Reject naming only the number can be reported against its
    // order (venue-memory.ts sentAs). Gap-filled numbers stayed there: the SequenceReset-GapFill is sent under the
    // first of them, so a venue's Reject of the GapFill was read as a Reject of the NewOrderSingle once sent under that
    // number — a definite `rejected` report, which closes an order the venue may hold (only reconciliation can tell).
    const { acceptor, venue, reports } = await loggedOnVenue()
    const pending = venue.place(limitBuy('c-1'))
    await settle()
    const seqNum = acceptor.ofType(MsgType.NewOrderSingle)[0]?.get(Tag.MsgSeqNum) ?? ''
    acceptor.send(MsgType.ResendRequest, [[Tag.BeginSeqNo, seqNum], [Tag.EndSeqNo, '0']])
    expect((await pending).kind).toBe('unknown')
    await settle()
    const gapFill = acceptor.ofType(MsgType.SequenceReset)[0]
    expect(gapFill?.get(Tag.MsgSeqNum)).toBe(seqNum)
    acceptor.send(MsgType.Reject, fields({ [Tag.RefSeqNum]: seqNum, [Tag.SessionRejectReason]: '1', [Tag.Text]: 'Required tag missing' }))
    await settle()
    expect(reports.filter((report) => report.clientOrderId === 'c-1')).toEqual([])
  })

  test('a Reject naming a number still carrying its request is reported against that order', async () => {
    const { acceptor, venue, reports } = await loggedOnVenue()
    const pending = venue.place(limitBuy('c-2'))
    await settle()
    const seqNum = acceptor.ofType(MsgType.NewOrderSingle)[0]?.get(Tag.MsgSeqNum) ?? ''
    acceptor.send(MsgType.Reject, fields({ [Tag.RefSeqNum]: seqNum, [Tag.SessionRejectReason]: '5', [Tag.Text]: 'bad OrdType' }))
    expect((await pending).kind).toBe('rejected')
    await settle()
    expect(reports.filter((report) => report.clientOrderId === 'c-2').map((report) => report.kind)).toEqual(['rejected'])
  })
})
