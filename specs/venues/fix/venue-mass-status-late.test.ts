/**
 * Reports of a mass status answer whose request has ended (timed out) are not taken — the list they belong to is
 * incomplete — but they were dropped without a word. Now the first of each MassStatusReqID is logged.
 */

import { describe, expect, test } from 'bun:test'
import type { FixLogRecord } from '../../../src/venues/fix/log.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, loggedOnVenue } from './venue-harness.ts'

describe('FixVenue: a late mass status answer', () => {
  test('is logged once per MassStatusReqID, and neither reported nor taken', async () => {
    const logs: FixLogRecord[] = []
    const { acceptor, clock, venue, reports } = await loggedOnVenue({ massStatus: true }, 'FIX.4.4', (record) => logs.push(record))
    const listing = venue.openOrders('A1')
    await settle()
    const id = acceptor.ofType(MsgType.OrderMassStatusRequest)[0]?.get(Tag.MassStatusReqID) ?? ''
    await clock.advanceAsync(2_001)
    expect((await listing).kind).toBe('unknown')
    const base = { 584: id, 150: 'I', 55: 'BTC-USD', 54: '1', 38: '1', 911: '2', 1: 'A1', 39: '0', 14: '0' }
    acceptor.send(MsgType.ExecutionReport, fields({ ...base, 37: 'O1', 11: 'c-1', 17: 'M1' }))
    acceptor.send(MsgType.ExecutionReport, fields({ ...base, 37: 'O2', 11: 'c-2', 17: 'M2', 912: 'Y' }))
    await settle()
    const late = logs.filter((record) => record.event === 'fix.status_answer_late')
    expect(late).toHaveLength(1)
    expect(late[0]?.message).toContain(`MassStatusReqID ${id}`)
    expect(reports).toHaveLength(0)
  })
})
