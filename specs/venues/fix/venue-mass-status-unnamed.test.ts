/**
 * A mass status answer's report without ClOrdID (11) — an order entered at the venue, or a report that leaves the field
 * out; FIX 4.4 does not require it — was passed over without a word, so openOrders was `ok` with a list short of an
 * order the venue holds. Now such a report ends the listing `unknown` (`fix_open_orders_unnamed`) with an error log
 * `fix.open_order_unnamed`, unless it lists no open order of the account asked about: TotNumReports 0 (an empty
 * list), an OrdStatus that ends the order, or another account.
 */

import { describe, expect, test } from 'bun:test'
import type { FixLogRecord } from '../../../src/venues/fix/log.ts'
import { FixReason } from '../../../src/venues/fix/reasons.ts'
import { MsgType, Tag } from '../../../src/venues/fix/tags.ts'
import { fields, loggedOnVenue } from './venue-harness.ts'

/**
 * openOrders('A1') answered by c-1 (open), then `unnamed` (a report without ClOrdID, an open order of A1 but for the
 * fields given; undefined leaves a field out), then c-3 with LastRptRequested=Y.
 */
async function listing(unnamed: Record<number, string | undefined>) {
  const logs: FixLogRecord[] = []
  const { acceptor, venue } = await loggedOnVenue({ massStatus: true }, 'FIX.4.4', (record) => logs.push(record))
  acceptor.onMessage = (m) => {
    if (m.msgType !== MsgType.OrderMassStatusRequest) return
    const base = { 584: m.get(Tag.MassStatusReqID) ?? '', 150: 'I', 55: 'BTC-USD', 54: '1', 38: '1', 911: '3', 1: 'A1', 39: '0', 14: '0' }
    queueMicrotask(() => {
      acceptor.send(MsgType.ExecutionReport, fields({ ...base, 37: 'O1', 11: 'c-1', 17: 'M1' }))
      const report = Object.entries({ ...base, 37: 'O2', 17: 'M2', ...unnamed }).filter((entry): entry is [string, string] => entry[1] !== undefined)
      acceptor.send(MsgType.ExecutionReport, fields(Object.fromEntries(report)))
      acceptor.send(MsgType.ExecutionReport, fields({ ...base, 37: 'O3', 11: 'c-3', 17: 'M3', 912: 'Y' }))
    })
  }
  const outcome = await venue.openOrders('A1')
  return { venue, outcome, logs: logs.filter((record) => record.event === 'fix.open_order_unnamed'), rejects: acceptor.ofType(MsgType.Reject) }
}

describe('FixVenue: a mass status report without ClOrdID', () => {
  test('of an open order ends openOrders unknown and is logged, not a list short of that order', async () => {
    for (const ordStatus of [{ 39: '0' }, { 39: '1' }, { 39: '3' }, { 39: 'Z' }]) {
      const { outcome, logs, rejects } = await listing(ordStatus)
      expect(outcome.kind === 'unknown' && outcome.reason).toStartWith(`${FixReason.openOrdersUnnamed}: ClOrdID (11) missing`)
      expect(logs.map((record) => record.level)).toEqual(['error'])
      expect(logs[0]?.message).toContain('OrderID O2')
      // ClOrdID is not Required in a 4.4 ExecutionReport: the message is not malformed, so no session Reject.
      expect(rejects).toHaveLength(0)
    }
  })

  test('is not scored against the venue: its answer is sound FIX, one egress cannot take whole (VenueAdapter.answeredLocally)', async () => {
    // Scored, every listing while the venue holds an order entered there counted as an unknown answer (the heaviest
    // weight), enough to hold a healthy venue CRITICAL and refuse places to it, for as long as that order rests.
    const { venue, outcome } = await listing({ 39: '0' })
    expect(outcome.kind).toBe('unknown')
    expect(venue.answeredLocally(outcome)).toBe(true)
  })

  test('with no OrdStatus or Account to tell it by, it is unknown too', async () => {
    const { outcome } = await listing({ 39: undefined, 1: undefined })
    expect(outcome.kind === 'unknown' && outcome.reason).toStartWith(FixReason.openOrdersUnnamed)
  })

  test('that lists no open order of the account (ended, another account, TotNumReports 0) leaves the list whole', async () => {
    for (const unnamed of [{ 39: '2' }, { 39: '4' }, { 39: '8' }, { 1: 'A2' }, { 911: '0' }]) {
      const { outcome, logs } = await listing(unnamed)
      expect(outcome.kind === 'ok' && outcome.value.map((order) => order.clientOrderId)).toEqual(['c-1', 'c-3'])
      expect(logs).toHaveLength(0)
    }
  })
})
