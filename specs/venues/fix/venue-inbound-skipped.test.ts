/**
 * A fill lost on the wire opens a gap; egress asks for it again (ResendRequest). A venue that cannot resend heals the
 * gap with a SequenceReset-Reset (FIX's disaster recovery) or answers with a GapFill over it: either way what the
 * skipped numbers said is not coming. Egress used to move on silently, the fill lost until a sweep happened to read
 * the order back; now every order open at the venue is read back (onVenueReadBackWanted), as after a numbering restart.
 * A GapFill that answers no ResendRequest of ours (nothing was missing) asks for nothing.
 */

import { describe, expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, limitBuy, loggedOnVenue } from './venue-harness.ts'

/** A logged-on venue holding order c-1, acknowledged, whose venue-wide read-backs are counted from here on. */
async function ackedOrderVenue(options: { answerResends?: boolean } = {}) {
  const { acceptor, venue, reports } = await loggedOnVenue()
  if (options.answerResends === true) acceptor.answerResends = true
  const counted = { venueReadBacks: 0 }
  venue.onVenueReadBackWanted(() => counted.venueReadBacks++)
  acceptor.onMessage = (m) => {
    if (m.msgType !== MsgType.NewOrderSingle) return
    queueMicrotask(() => acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'N1', 20: '0', 150: '0', 39: '0', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '0' })))
  }
  expect((await venue.place(limitBuy('c-1'))).kind).toBe('ok')
  counted.venueReadBacks = 0
  return { acceptor, venue, reports, counted }
}

async function venueWithLostFill(): Promise<{ send: (fields: [number, string][], options: { seqNum: number; possDup?: boolean }) => Promise<void>; fillSeqNum: number; venueReadBacks: () => number; reports: () => string[] }> {
  const { acceptor, reports, counted } = await ackedOrderVenue()
  const fillSeqNum = acceptor.nextSeqNum
  acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'F1', 20: '0', 150: '2', 39: '2', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '1.5', 32: '1.5', 31: '100.25' }), { lost: true })
  acceptor.send(MsgType.Heartbeat)
  await settle()
  expect(acceptor.ofType(MsgType.ResendRequest).map((m) => m.get(Tag.BeginSeqNo))).toEqual([String(fillSeqNum)])
  return {
    send: async (body, options) => {
      acceptor.send(MsgType.SequenceReset, [...body, [Tag.NewSeqNo, String(acceptor.nextSeqNum)]], options)
      await settle()
    },
    fillSeqNum,
    venueReadBacks: () => counted.venueReadBacks,
    reports: () => reports.map((r) => r.execId),
  }
}

describe('FixVenue: the venue skips numbers egress asked for', () => {
  test('a SequenceReset-Reset over a lost fill reads every open order back', async () => {
    const lost = await venueWithLostFill()
    await lost.send([], { seqNum: lost.fillSeqNum })
    expect(lost.reports()).toEqual(['N1'])
    expect(lost.venueReadBacks()).toBe(1)
  })

  test('a GapFill over a lost fill, answering our ResendRequest, reads every open order back', async () => {
    const lost = await venueWithLostFill()
    await lost.send([[Tag.GapFillFlag, 'Y']], { seqNum: lost.fillSeqNum, possDup: true })
    expect(lost.reports()).toEqual(['N1'])
    expect(lost.venueReadBacks()).toBe(1)
  })

  test('a GapFill with nothing missing asks for nothing', async () => {
    const { acceptor, venue } = await loggedOnVenue()
    let venueReadBacks = 0
    venue.onVenueReadBackWanted(() => venueReadBacks++)
    acceptor.send(MsgType.SequenceReset, [[Tag.GapFillFlag, 'Y'], [Tag.NewSeqNo, String(acceptor.nextSeqNum + 3)]], { seqNum: acceptor.nextSeqNum, possDup: true })
    await settle()
    expect(venueReadBacks).toBe(0)
    expect(venue.session.state).toBe('active')
  })

  test('a resend holding several GapFills reads back once, when the gap has healed', async () => {
    // Review finding: each GapFill read every open order back (a resend holds one per run of session messages).
    const { acceptor, reports, counted } = await ackedOrderVenue({ answerResends: true })
    acceptor.send(MsgType.Heartbeat, [], { lost: true })
    acceptor.send(MsgType.ExecutionReport, fields({ 37: 'O1', 11: 'c-1', 17: 'F1', 20: '0', 150: '1', 39: '1', 55: 'BTC-USD', 54: '1', 38: '1.5', 14: '0.5', 32: '0.5', 31: '100.25' }), { lost: true })
    acceptor.send(MsgType.Heartbeat, [], { lost: true })
    acceptor.send(MsgType.Heartbeat)
    await settle()
    expect(reports.map((r) => r.execId)).toEqual(['N1', 'F1'])
    expect(counted.venueReadBacks).toBe(1)
  })
})
