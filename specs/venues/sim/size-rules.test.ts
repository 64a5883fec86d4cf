/**
 * The instrument's size rules at the sim venue (src/venues/sim/size-check.ts): a place or an amend under minQty, over
 * maxQty, or under minNotional (qty × its limit, a market order's at the reference price, rounded down) is refused,
 * as a real venue's filters refuse it, with a reason that gives the venue reject code QTY_INVALID. The sim used to
 * check only lot and tick, and filled such orders.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import type { SimInstrument } from '../../../src/venues/index.ts'
import { venueRejectCodeOf } from '../../../src/venues/reject-code-of.ts'
import { SimReason } from '../../../src/venues/sim/reasons.ts'
import { BTC, ETH, harness, kinds, limit, market, okValue, within } from './fixture.ts'

// Calls take ≤ 5 ms each way: 20 simulated ms settle one.
const CALL_MS = 20

/** BTC-USD at 50000 (lot 0.001) with rules: 0.002 at least, 5 at most, a notional of 150 at least (0.003 at 50000). */
const RULED_BTC: SimInstrument = { ...BTC, minQty: d('0.002'), maxQty: d('5'), minNotional: d('150') }

function ruled() {
  return harness({ instruments: [RULED_BTC, ETH] })
}

describe('sim venue: size rules on a place', () => {
  test('a quantity under minQty, over maxQty, or a limit notional under minNotional is refused, with its reject report', async () => {
    const { clock, venue, reports } = ruled()
    const placed = async (overrides: Parameters<typeof limit>[0]) => within(clock, venue.place(limit(overrides)), CALL_MS)
    expect(await placed({ clientOrderId: 'small', qty: d('0.001') })).toEqual({ kind: 'rejected', reason: SimReason.qtyBelowMin })
    expect(await placed({ clientOrderId: 'big', side: 'sell', qty: d('5.001'), price: d('60000') })).toEqual({ kind: 'rejected', reason: SimReason.qtyAboveMax })
    // 0.003 × 49999.99 = 149.99997, under 150.
    expect(await placed({ clientOrderId: 'cheap', qty: d('0.003'), price: d('49999.99') })).toEqual({ kind: 'rejected', reason: SimReason.notionalBelowMin })
    expect(reports.map((report) => [report.kind, report.clientOrderId, report.reason])).toEqual([
      ['rejected', 'small', SimReason.qtyBelowMin],
      ['rejected', 'big', SimReason.qtyAboveMax],
      ['rejected', 'cheap', SimReason.notionalBelowMin],
    ])
    expect(venue.inspect().orders.map((order) => [order.clientOrderId, order.status, order.rejectReason])).toEqual([
      ['small', 'rejected', SimReason.qtyBelowMin],
      ['big', 'rejected', SimReason.qtyAboveMax],
      ['cheap', 'rejected', SimReason.notionalBelowMin],
    ])
    expect(venue.inspect().trades).toEqual([])
  })

  test('at the bounds the order is taken: minQty and minNotional exactly, maxQty exactly', async () => {
    const { clock, venue, reports } = ruled()
    // 0.003 × 50000 = 150: the notional's minimum; a buy at the reference trades at once.
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'least', qty: d('0.003'), price: d('50000') })), CALL_MS))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'most', side: 'sell', qty: d('5'), price: d('60000') })), CALL_MS))
    // 0.002 × 75000 = 150: minQty exactly, at a price that makes the notional.
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'fewest', side: 'sell', qty: d('0.002'), price: d('75000') })), CALL_MS))
    expect(kinds(reports)).toEqual(['new', 'fill', 'new', 'new'])
  })

  test("a market order's notional is taken at the reference price it would trade at", async () => {
    const { clock, venue, reports } = ruled()
    // 0.002 × 50000 = 100, under 150.
    expect(await within(clock, venue.place(market({ clientOrderId: 'm-small', qty: d('0.002') })), CALL_MS)).toEqual({ kind: 'rejected', reason: SimReason.notionalBelowMin })
    okValue(await within(clock, venue.place(market({ clientOrderId: 'm-ok', qty: d('0.003') })), CALL_MS))
    expect(reports.map((report) => [report.kind, report.clientOrderId])).toEqual([['rejected', 'm-small'], ['new', 'm-ok'], ['fill', 'm-ok']])
  })

  test('an instrument without size rules takes any quantity on the lot (the rules are optional)', async () => {
    const { clock, venue } = harness()
    okValue(await within(clock, venue.place(limit({ qty: d('0.001'), price: d('40000') })), CALL_MS))
    okValue(await within(clock, venue.place(limit({ side: 'sell', qty: d('500'), price: d('60000') })), CALL_MS))
  })
})

describe('sim venue: size rules on an amend', () => {
  test('an amend to a quantity under minQty, over maxQty, or to a notional under minNotional is refused; the order stands', async () => {
    const { clock, venue, reports } = ruled()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'r', side: 'sell', qty: d('1'), price: d('60000') })), CALL_MS))
    const base = { account: 'acct', symbol: 'BTC-USD', origClientOrderId: 'r' }
    const amended = async (clientOrderId: string, qty: bigint, price?: bigint) =>
      within(clock, venue.amend({ ...base, clientOrderId, qty, ...(price === undefined ? {} : { price }) }), CALL_MS)
    expect(await amended('r.1', d('0.001'))).toEqual({ kind: 'rejected', reason: SimReason.qtyBelowMin })
    expect(await amended('r.2', d('5.001'))).toEqual({ kind: 'rejected', reason: SimReason.qtyAboveMax })
    // 0.002 × 60000 = 120, under 150: checked at the standing price when the amend names none.
    expect(await amended('r.3', d('0.002'))).toEqual({ kind: 'rejected', reason: SimReason.notionalBelowMin })
    expect(await amended('r.4', d('0.003'), d('49999.99'))).toEqual({ kind: 'rejected', reason: SimReason.notionalBelowMin })
    expect(reports.slice(1).map((report) => [report.kind, report.clientOrderId, report.reason])).toEqual([
      ['cancel_rejected', 'r.1', SimReason.qtyBelowMin],
      ['cancel_rejected', 'r.2', SimReason.qtyAboveMax],
      ['cancel_rejected', 'r.3', SimReason.notionalBelowMin],
      ['cancel_rejected', 'r.4', SimReason.notionalBelowMin],
    ])
    expect(okValue(await within(clock, venue.orderStatus('r'), CALL_MS))).toMatchObject({ status: 'open', qty: d('1'), price: d('60000') })
    // Within the rules it goes through: 0.003 × 60000 = 180.
    okValue(await amended('r.5', d('0.003')))
    expect(okValue(await within(clock, venue.orderStatus('r.5'), CALL_MS))).toMatchObject({ status: 'open', qty: d('0.003') })
  })
})

test('the size reasons give the venue reject code QTY_INVALID (fix the quantity)', () => {
  for (const reason of [SimReason.qtyBelowMin, SimReason.qtyAboveMax, SimReason.notionalBelowMin]) expect(venueRejectCodeOf(reason)).toBe('QTY_INVALID')
})

test('size rules that refuse every order, or a negative minimum, are refused when the venue is made', () => {
  expect(() => harness({ instruments: [{ ...BTC, minQty: d('2'), maxQty: d('1') }] })).toThrow('instrument BTC-USD: maxQty must be ≥ minQty (2), got 1')
  expect(() => harness({ instruments: [{ ...BTC, minQty: 0n }] })).toThrow('instrument BTC-USD: minQty must be positive, got 0')
  expect(() => harness({ instruments: [{ ...BTC, maxQty: 0n }] })).toThrow('instrument BTC-USD: maxQty must be positive, got 0')
  expect(() => harness({ instruments: [{ ...BTC, minNotional: -1n }] })).toThrow('instrument BTC-USD: minNotional must be ≥ 0')
})
