/**
 * A DAY order past its time is expired whenever it is read, not at the next price step only. The sim expired DAY
 * orders on steps (and on a cancel or amend), so between its time and the next step a status query and the open-order
 * list still showed it open: a reconcile then held it open at egress after the venue's own session had ended it.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { harness, kinds, limit, okValue, within } from './fixture.ts'

/** Steps an hour apart, so none falls between the order's time and the reads. */
function slowSteps() {
  return harness({ dayOrderTtlMs: 1_000, priceStepMs: 3_600_000, latencyMsMin: 1, latencyMsMax: 1 })
}

describe('sim venue: a due DAY order reads expired', () => {
  test('a status query after its time answers expired, and the expiry is reported once', async () => {
    const { clock, venue, reports } = slowSteps()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'day', tif: 'DAY', price: d('40000') })), 5))
    await clock.advanceAsync(1_500)
    expect(kinds(reports)).toEqual(['new'])
    expect(okValue(await within(clock, venue.orderStatus('day'), 5))).toMatchObject({ clientOrderId: 'day', status: 'expired' })
    expect(kinds(reports)).toEqual(['new', 'expired'])
    expect(okValue(await within(clock, venue.orderStatus('day'), 5))).toMatchObject({ status: 'expired' })
    expect(kinds(reports)).toEqual(['new', 'expired'])
  })

  test('the open-order list after its time leaves it out (and expires it), keeping orders still in their time', async () => {
    const { clock, venue, reports } = slowSteps()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'day', tif: 'DAY', price: d('40000') })), 5))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'gtc', tif: 'GTC', price: d('40000') })), 5))
    await clock.advanceAsync(1_500)
    expect(okValue(await within(clock, venue.openOrders(), 5)).map((order) => order.clientOrderId)).toEqual(['gtc'])
    expect(kinds(reports)).toEqual(['new', 'new', 'expired'])
    expect(venue.inspect().orders.map((order) => [order.clientOrderId, order.status])).toEqual([['day', 'expired'], ['gtc', 'open']])
  })

  test('before its time it reads open', async () => {
    const { clock, venue } = slowSteps()
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'day', tif: 'DAY', price: d('40000') })), 5))
    expect(okValue(await within(clock, venue.orderStatus('day'), 5))).toMatchObject({ status: 'open' })
  })
})
