/**
 * FIX 4.3 replaced ExecTransType (20) by ExecType: its value 3 (Status) became ExecType I (Order Status). A FIX 4.4
 * venue that still sends ExecTransType=3, stating the order's state the 4.2 way in ExecType (0, 1, 2 or F), sends an
 * Order Status report. It was dropped: not an answer (its ExecType was not I), never reported, so a query it answered
 * timed out and news it carried of its own accord was lost. Now it answers the query it echoes, and one no query takes
 * is never read as an event (no fill is booked from it) but has the order read back.
 */

import { describe, expect, test } from 'bun:test'
import type { FixOrderFacts } from '../../../src/venues/fix/reports.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { settle } from './fake-acceptor.ts'
import { fields, loggedOnVenue } from './venue-harness.ts'

const facts: FixOrderFacts = { clientOrderId: 'c-1', account: 'A1', symbol: 'BTC-USD', side: 'buy', qty: 2_00000000n, ordType: '2', timeInForce: '1', price: 100_00000000n, venueOrderId: 'O1' }
const lookupOrder = (id: string): FixOrderFacts | undefined => (id === 'c-1' ? facts : undefined)

/** A status-like ExecutionReport for c-1, filled to `cumQty`, with these fields on top. */
function report(cumQty: string, over: Record<number, string>): ReturnType<typeof fields> {
  return fields({ 37: 'O1', 11: 'c-1', 17: 'E-9', 39: '1', 55: 'BTC-USD', 54: '1', 38: '2', 14: cumQty, 44: '100', ...over })
}

async function venueWithReadBacks() {
  const world = await loggedOnVenue({ lookupOrder }, 'FIX.4.4')
  const readBacks: string[] = []
  world.venue.onReadBackWanted((clientOrderId) => readBacks.push(clientOrderId))
  return { ...world, readBacks }
}

describe('FixVenue, FIX 4.4: ExecTransType 3 (Status) is an Order Status report', () => {
  test('one echoing the OrdStatusReqID answers the query, whatever its ExecType', async () => {
    const { acceptor, clock, venue, reports, readBacks } = await venueWithReadBacks()
    const query = venue.orderStatus('c-1')
    await settle()
    const requestId = acceptor.ofType(MsgType.OrderStatusRequest)[0]?.get(Tag.OrdStatusReqID) ?? ''
    acceptor.send(MsgType.ExecutionReport, report('1.5', { 20: '3', 150: '1', [Tag.OrdStatusReqID]: requestId }))
    await settle()
    await clock.advanceAsync(2_001)
    const outcome = await query
    expect(outcome).toMatchObject({ kind: 'ok', value: { clientOrderId: 'c-1', cumQty: 1_50000000n, status: 'partially_filled' } })
    expect(reports).toHaveLength(0)
    expect(readBacks).toEqual([])
  })

  test('one no query asked for, stating a trade (ExecType F), books no fill: nothing is reported and the order is read back', async () => {
    const { acceptor, reports, readBacks } = await venueWithReadBacks()
    acceptor.send(MsgType.ExecutionReport, report('1.5', { 20: '3', 150: 'F', 32: '1.5', 31: '100' }))
    await settle()
    expect(reports).toHaveLength(0)
    expect(readBacks).toEqual(['c-1'])
  })

  test('an Order Status report (ExecType I) no query asked for has the order read back too', async () => {
    const { acceptor, reports, readBacks } = await venueWithReadBacks()
    acceptor.send(MsgType.ExecutionReport, report('2', { 150: 'I', 39: '2' }))
    await settle()
    expect(reports).toHaveLength(0)
    expect(readBacks).toEqual(['c-1'])
  })

  test('an ordinary report (ExecTransType 0, ExecType F) is still a fill, and asks for no read-back', async () => {
    const { acceptor, reports, readBacks } = await venueWithReadBacks()
    acceptor.send(MsgType.ExecutionReport, report('1.5', { 20: '0', 150: 'F', 32: '1.5', 31: '100' }))
    await settle()
    expect(reports.map((r) => [r.kind, r.lastQty])).toEqual([['fill', 1_50000000n]])
    expect(readBacks).toEqual([])
  })
})
