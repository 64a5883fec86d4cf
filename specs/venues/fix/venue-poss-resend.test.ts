/**
 * A NewOrderSingle that may have gone out before under its ClOrdID (PlaceRequest.possibleResend: the kernel's resend
 * of an order reconciliation proved absent, or any send attempt after the first) carries PossResend(97)=Y in its
 * header, so a venue that did receive the first copy checks the ClOrdID instead of taking a second order. A first
 * attempt carries no PossResend. The session itself never replays application messages (session.test.ts).
 */

import { describe, expect, test } from 'bun:test'
import { VenueReason } from '../../../src/domain/venue-reasons.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

describe('FixVenue: a place that may be a resend says so', () => {
  test('a first attempt carries no PossResend; a possible resend carries PossResend=Y with the same ClOrdID, and no PossDupFlag', async () => {
    const { acceptor, venue } = await loggedOnVenue()
    let n = 0
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.NewOrderSingle) return
      const id = String(++n)
      queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 37: `O${id}`, 11: m.get(Tag.ClOrdID) ?? '', 17: `N${id}`, 20: '0', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '0' })))
    }
    expect((await venue.place(limitBuy('c-first'))).kind).toBe('ok')
    expect((await venue.place(limitBuy('c-again', { possibleResend: true }))).kind).toBe('ok')
    const [first, again] = acceptor.ofType(MsgType.NewOrderSingle)
    expect(first?.get(Tag.ClOrdID)).toBe('c-first')
    expect(first?.has(Tag.PossResend)).toBe(false)
    expect(again?.get(Tag.ClOrdID)).toBe('c-again')
    expect(again?.get(Tag.PossResend)).toBe('Y')
    // A new message under a new number, not a session-level retransmission.
    expect(again?.has(Tag.PossDupFlag)).toBe(false)
    expect(Number(again?.get(Tag.MsgSeqNum))).toBeGreaterThan(Number(first?.get(Tag.MsgSeqNum)))
  })

  test('a venue that had the first copy refuses the resend as a duplicate ClOrdID: the order is at the venue, not a second one', async () => {
    const { acceptor, venue } = await loggedOnVenue()
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.NewOrderSingle || m.get(Tag.PossResend) !== 'Y') return
      queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 37: 'NONE', 11: m.get(Tag.ClOrdID) ?? '', 17: 'R1', 20: '0', 150: '8', 39: '8', 55: 'BTC-USD', 54: '1', 14: '0', 103: '6', 58: 'Duplicate ClOrdID' })))
    }
    expect(await venue.place(limitBuy('c-dup', { possibleResend: true }))).toEqual({ kind: 'rejected', reason: VenueReason.duplicateClientOrderId })
  })
})
