/**
 * Client order ids are unique per account at the sim venue, as at real venues: one account cannot know (or collide
 * with) another's ids. The sim keyed them venue-wide, so a second account's order under an id the first had used was
 * refused as a duplicate (or, with duplicateClientOrderId "ack", answered with the other account's order).
 * The egress gateway's own ids are unique across accounts (eg-<order id>), so this is about the sim as a venue for
 * other clients (the JSONL server, tests); the duplicate refusal within one account stands.
 */

import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { SimReason } from '../../../src/venues/index.ts'
import { harness, kinds, limit, okValue, within } from './fixture.ts'

const resting = { clientOrderId: 'same', price: d('40000') }

describe('sim venue: client order ids per account', () => {
  test('two accounts may each place an order under the same client order id; within an account it is still a duplicate', async () => {
    const { clock, venue, reports } = harness({ balances: {} })
    const a = okValue(await within(clock, venue.place(limit({ ...resting, account: 'A' }))))
    const b = okValue(await within(clock, venue.place(limit({ ...resting, account: 'B' }))))
    expect(a.venueOrderId).not.toBe(b.venueOrderId)
    expect(await within(clock, venue.place(limit({ ...resting, account: 'A', qty: d('2') })))).toEqual({ kind: 'rejected', reason: SimReason.duplicateClientOrderId })
    expect(venue.inspect().orders.map((order) => order.account)).toEqual(['A', 'B'])
    expect(kinds(reports)).toEqual(['new', 'new'])
  })

  test('with duplicateClientOrderId "ack", a place is answered with its own account\'s order, never another\'s', async () => {
    const { clock, venue } = harness({ balances: {}, duplicateClientOrderId: 'ack' })
    const a = okValue(await within(clock, venue.place(limit({ ...resting, account: 'A' }))))
    const b = okValue(await within(clock, venue.place(limit({ ...resting, account: 'B' }))))
    expect(b.venueOrderId).not.toBe(a.venueOrderId)
    expect(okValue(await within(clock, venue.place(limit({ ...resting, account: 'B' }))))).toEqual(b)
  })

  test("cancel and amend act on the caller's account's order only", async () => {
    const { clock, venue } = harness({ balances: {} })
    okValue(await within(clock, venue.place(limit({ ...resting, account: 'A' }))))
    okValue(await within(clock, venue.place(limit({ ...resting, account: 'B' }))))
    okValue(await within(clock, venue.cancel({ clientOrderId: 'x1', origClientOrderId: 'same', account: 'B', symbol: 'BTC-USD' })))
    okValue(await within(clock, venue.amend({ clientOrderId: 'same.a1', origClientOrderId: 'same', account: 'A', symbol: 'BTC-USD', qty: d('3') })))
    // B may take the amend id A used: it is A's.
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'same.a1', account: 'B', price: d('40000') }))))
    const byAccount = venue.inspect().orders.map((order) => [order.account, order.clientOrderId, order.status, order.qty])
    expect(byAccount).toEqual([['A', 'same.a1', 'open', d('3')], ['B', 'same', 'canceled', d('1')], ['B', 'same.a1', 'open', d('1')]])
  })

  test("trades by client order id and account are that account's; a status query (no account) for a shared id answers unknown", async () => {
    const { clock, venue } = harness({ balances: {} })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'fill', account: 'A' }))))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'fill', account: 'B', qty: d('2') }))))
    expect(okValue(await within(clock, venue.trades({ clientOrderId: 'fill', account: 'B' }))).map((t) => [t.account, t.qty])).toEqual([['B', d('2')]])
    expect(okValue(await within(clock, venue.trades({ clientOrderId: 'fill' }))).map((t) => t.account)).toEqual(['A', 'B'])
    expect(await within(clock, venue.orderStatus('fill'))).toEqual({ kind: 'unknown', reason: SimReason.clientOrderIdAmbiguous })
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'alone', account: 'B', price: d('40000') }))))
    expect(okValue(await within(clock, venue.orderStatus('alone')))).toMatchObject({ account: 'B', status: 'open' })
  })
})

describe('sim venue: forgetting an order under a shared client order id', () => {
  test("forgets that account's order and its trades only; the other account's order and trades stay", async () => {
    const { clock, venue } = harness({ balances: {}, ordersMax: 2, endedOrderRetentionMs: 1_000 })
    // A's fills and ends at once; B's rests.
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'shared', account: 'A', tif: 'IOC', price: d('50100') })), 20))
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'shared', account: 'B', price: d('40000') })), 20))
    await clock.advanceAsync(1_000)
    okValue(await within(clock, venue.place(limit({ clientOrderId: 'next', account: 'A', tif: 'IOC', price: d('50100') })), 20))
    expect(venue.inspect().ordersForgotten).toBe(1)
    expect(okValue(await within(clock, venue.orderStatus('shared'), 20))).toMatchObject({ account: 'B', status: 'open' })
    expect(okValue(await within(clock, venue.trades({ clientOrderId: 'shared', account: 'A' }), 20))).toEqual([])
    expect(okValue(await within(clock, venue.trades({ account: 'A' }), 20)).map((t) => t.clientOrderId)).toEqual(['next'])
    okValue(await within(clock, venue.cancel({ clientOrderId: 'x', origClientOrderId: 'shared', account: 'B', symbol: 'BTC-USD' }), 20))
  })
})
