/**
 * When the session's numbering restarts at a Logon (ResetSeqNumFlag=Y: `resetOnLogon: "always"`, or the venue's own
 * reset), the venue never resends what it sent under the old numbers — a fill during the outage included. The adapter
 * asks the gateway to read back every order open at the venue (VenueAdapter.onVenueReadBackWanted); a reconnect that
 * carries the numbering on asks nothing (the venue resends what was lost).
 */

import { describe, expect, test } from 'bun:test'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { loggedOnVenue } from './venue-harness.ts'

describe('FixVenue: numbering restarted at Logon', () => {
  test('a reconnect whose Logon the venue answers with ResetSeqNumFlag=Y asks for the whole venue to be read back; a plain one does not', async () => {
    const { acceptor, venue, clock } = await loggedOnVenue()
    let asked = 0
    venue.onVenueReadBackWanted(() => asked++)
    acceptor.dropConnection()
    await clock.advanceAsync(600)
    await settle()
    expect(venue.session.state).toBe('active')
    expect(asked).toBe(0)

    acceptor.autoLogon = false
    acceptor.onMessage = (m) => {
      if (m.msgType !== MsgType.Logon || m.has(Tag.ResetSeqNumFlag)) return
      acceptor.nextSeqNum = 1
      queueMicrotask(() => acceptor.send(MsgType.Logon, [[Tag.EncryptMethod, '0'], [Tag.HeartBtInt, '30'], [Tag.ResetSeqNumFlag, 'Y']]))
    }
    acceptor.dropConnection()
    await clock.advanceAsync(1_100) // the second quick drop in a row: the reconnect delay has doubled
    await settle()
    expect(venue.session.state).toBe('active')
    expect(venue.session.seqNums).toEqual({ nextSenderSeqNum: 2, nextTargetSeqNum: 2 })
    expect(asked).toBe(1)
  })
})
