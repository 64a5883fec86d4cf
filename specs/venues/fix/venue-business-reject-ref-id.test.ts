/**
 * A BusinessMessageReject (35=j) names the message it refuses by RefSeqNum (45), and, where there is one, by the
 * business id of it in BusinessRejectRefID (379): for an order, its ClOrdID. Some venues send only the latter. Without
 * 45, the reject is matched by 379 and RefMsgType (372, required) to the one message of that type egress sent under that
 * id; anything less clear (no RefMsgType, two sends of the order under its ClOrdID) is not taken as a refusal of an
 * order — the request ends unknown and is reconciled, never read as "not placed" on a guess.
 */

import { describe, expect, test } from 'bun:test'
import { FixReason } from '../../../src/venues/fix/reasons.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

describe('FixVenue: a BusinessMessageReject without RefSeqNum', () => {
  test('with BusinessRejectRefID = the ClOrdID and RefMsgType D it refuses that order at once (rejected, reported)', async () => {
    const { acceptor, venue, clock, reports } = await loggedOnVenue()
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.NewOrderSingle) return
      queueMicrotask(() => acceptor.send(MsgType.BusinessMessageReject, fields({ 372: 'D', 379: m.get(Tag.ClOrdID) ?? '', 380: '2', 58: 'Unknown Security' })))
    }
    const outcome = venue.place(limitBuy('c-bmr'))
    await clock.advanceAsync(5_000)
    expect(await outcome).toEqual({ kind: 'rejected', reason: `${FixReason.businessReject}: BusinessRejectReason 2: Unknown Security` })
    expect(reports.map((r) => [r.kind, r.clientOrderId])).toEqual([['rejected', 'c-bmr']])
  })

  test('without RefMsgType, or naming another message type, it refuses nothing: the place ends unknown at its timeout', async () => {
    for (const refMsgType of [undefined, 'H']) {
      const { acceptor, venue, clock, reports } = await loggedOnVenue()
      acceptor.onMessage = (m) => {
        if (m.msgType !== MsgType.NewOrderSingle) return
        const body = { 379: m.get(Tag.ClOrdID) ?? '', 380: '0', ...(refMsgType === undefined ? {} : { 372: refMsgType }) }
        queueMicrotask(() => acceptor.send(MsgType.BusinessMessageReject, fields(body)))
      }
      const outcome = venue.place(limitBuy('c-vague'))
      await clock.advanceAsync(5_000)
      expect((await outcome).kind).toBe('unknown')
      expect(reports).toEqual([])
    }
  })

  test('an order sent twice under its ClOrdID (a resend) is not told apart by 379: nothing is refused', async () => {
    const { acceptor, venue, clock, reports } = await loggedOnVenue()
    let sends = 0
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.NewOrderSingle || ++sends < 2) return
      queueMicrotask(() => acceptor.send(MsgType.BusinessMessageReject, fields({ 372: 'D', 379: m.get(Tag.ClOrdID) ?? '', 380: '0', 58: 'duplicate' })))
    }
    const first = venue.place(limitBuy('c-twice'))
    await clock.advanceAsync(5_000)
    expect((await first).kind).toBe('unknown')
    const again = venue.place(limitBuy('c-twice', { possibleResend: true }))
    await clock.advanceAsync(5_000)
    expect((await again).kind).toBe('unknown')
    expect(reports).toEqual([])
  })
})
