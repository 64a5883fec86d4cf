// An order that never rests (market, IOC, FOK) can be open in a resumed memory: egress's log held it open (its fill
// reported, the venue's expiry of the remainder not yet) when the process stopped. Resumed so, a market order (no
// price) failed every price step ('resting order … has no price', the step skipping it) and stayed open until
// canceled, and an IOC one rested and filled whenever the price reached it. A real venue never rests such a
// remainder: the resumed sim ends it as it ends one at its placement — expired, with its report — at the first touch
// (a price step, a read, a cancel or amend).
import { expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import type { RestingOrder } from '../../../src/venues/sim/index.ts'
import { SimReason } from '../../../src/venues/sim/reasons.ts'
import { START_MS, harness, kinds, okValue, within } from './fixture.ts'

function resting(overrides: Partial<RestingOrder> & Pick<RestingOrder, 'venueOrderId' | 'clientOrderIds' | 'type' | 'tif'>): RestingOrder {
  return { account: 'acct', symbol: 'BTC-USD', side: 'buy', postOnly: false, reduceOnly: false, qty: d('1'), cumQty: d('0.4'), createdAtMs: START_MS - 1_000, ...overrides }
}

const MARKET = resting({ venueOrderId: 'sim-o1', clientOrderIds: ['m1'], type: 'market', tif: 'IOC' })
/** A protected market order as it was sent: a limit IOC at its protection price (kernel/venue-form.ts). */
const IOC = resting({ venueOrderId: 'sim-o2', clientOrderIds: ['i1'], type: 'limit', tif: 'IOC', price: d('50000') })

function resumed(orders: RestingOrder[]) {
  const errors: string[] = []
  const h = harness({ onBookError: (message) => void errors.push(message) })
  h.venue.resume({ session: 's1', orders, ended: [], trades: [], unreported: [], balances: new Map() })
  return { ...h, errors }
}

test('a market or IOC order resumed open ends expired at the first price step, unfilled past what it had, with its report', async () => {
  const { clock, venue, reports, errors } = resumed([MARKET, IOC])
  await clock.advanceAsync(2_000)
  expect(reports.map((report) => [report.kind, report.clientOrderId, report.cumQty])).toEqual([
    ['expired', 'm1', d('0.4')],
    ['expired', 'i1', d('0.4')],
  ])
  expect(errors).toEqual([])
  expect(venue.inspect().trades).toEqual([])
  for (const id of ['m1', 'i1']) expect(okValue(await within(clock, venue.orderStatus(id), 1_000))).toMatchObject({ status: 'expired', cumQty: d('0.4') })
  expect(okValue(await within(clock, venue.openOrders('acct'), 1_000))).toEqual([])
})

test('read before any price step, it reads expired, its report sent; a cancel then finds it ended', async () => {
  const { clock, venue, reports } = resumed([MARKET])
  expect(okValue(await within(clock, venue.orderStatus('m1'), 50))).toMatchObject({ status: 'expired' })
  expect(kinds(reports)).toEqual(['expired'])
  const outcome = await within(clock, venue.cancel({ clientOrderId: 'm1.c1', origClientOrderId: 'm1', account: 'acct', symbol: 'BTC-USD' }), 1_000)
  expect(outcome).toEqual({ kind: 'rejected', reason: SimReason.tooLateToCancel })
  expect(kinds(reports)).toEqual(['expired', 'cancel_rejected'])
})
