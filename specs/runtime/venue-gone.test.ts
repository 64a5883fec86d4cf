/**
 * Which orders make a leader's start refuse a config without their venue (src/runtime/venue-gone.ts): every order not
 * ended — in flight, resting, being canceled, Unknown — on a venue no adapter serves, and every ended one there still
 * holding synthetic quantity not trued up (its true-up could only come from that venue: before, it did not refuse and
 * the guessed fill stayed in the books); never another ended one, never one on a served venue. Per venue, in name
 * order, with the counts and the first ids (sorted, bounded).
 */

import { describe, expect, test } from 'bun:test'
import { ORDER_STATES, TERMINAL_STATES, type OrderState } from '../../src/domain/states.ts'
import { GONE_VENUE_ORDER_IDS_SHOWN, goneVenueOrders, refuseOrdersOnGoneVenues, VenueGoneError } from '../../src/runtime/venue-gone.ts'

const SERVED = new Set(['sim'])

function order(orderId: string, venue: string, status: OrderState = 'AckedOpen', syntheticPendingQty = 0n) {
  return { orderId, venue, status, syntheticPendingQty }
}

const NONE_AWAITING = { count: 0, orderIds: [] }

describe('goneVenueOrders', () => {
  test('every state that is not terminal counts, and no terminal one', () => {
    const orders = ORDER_STATES.map((state) => order(`o-${state}`, 'fx', state))
    const open = ORDER_STATES.filter((state) => !TERMINAL_STATES.has(state))
    expect(open).toEqual(expect.arrayContaining(['Enqueued', 'Sent', 'AckedOpen', 'Partial', 'CancelRequested', 'CancelPending', 'Unknown']))
    const [fx] = goneVenueOrders(orders, SERVED)
    expect(fx?.count).toBe(open.length)
  })

  test('orders on a served venue, or ended, are fine', () => {
    expect(goneVenueOrders([order('a', 'sim'), order('b', 'sim', 'Unknown'), order('c', 'fx', 'Canceled'), order('d', 'fx', 'Failed')], SERVED)).toEqual([])
    expect(() => refuseOrdersOnGoneVenues([order('c', 'fx', 'Filled')], SERVED)).not.toThrow()
  })

  test(`per venue in name order, at most ${GONE_VENUE_ORDER_IDS_SHOWN} ids (the smallest), the rest counted`, () => {
    const many = Array.from({ length: 12 }, (_, index) => order(`o${String(11 - index).padStart(2, '0')}`, 'fx', 'Unknown'))
    const gone = goneVenueOrders([order('z1', 'broker-z', 'Sent'), ...many], SERVED)
    expect(gone).toEqual([
      { venue: 'broker-z', count: 1, orderIds: ['z1'], awaitingTrueUp: NONE_AWAITING },
      { venue: 'fx', count: 12, orderIds: ['o00', 'o01', 'o02', 'o03', 'o04'], awaitingTrueUp: NONE_AWAITING },
    ])
    let refusal: unknown = null
    try {
      refuseOrdersOnGoneVenues([order('z1', 'broker-z', 'Sent'), ...many], SERVED)
    } catch (error) {
      refusal = error
    }
    expect(refusal).toBeInstanceOf(VenueGoneError)
    expect((refusal as VenueGoneError).message).toContain('venue broker-z: 1 open order (z1); venue fx: 12 open orders (o00, o01, o02, o03, o04 and 7 more)')
  })

  test('an ended order on a gone venue still awaiting the true-up of a synthetic fill refuses the start, named apart', () => {
    const orders = [order('f1', 'fx', 'Filled', 5n), order('c1', 'fx', 'Canceled', 1n), order('f0', 'fx', 'Filled'), order('s1', 'sim', 'Filled', 5n)]
    expect(goneVenueOrders(orders, SERVED)).toEqual([{ venue: 'fx', count: 0, orderIds: [], awaitingTrueUp: { count: 2, orderIds: ['c1', 'f1'] } }])
    let refusal: unknown = null
    try {
      refuseOrdersOnGoneVenues([...orders, order('o1', 'fx', 'Unknown')], SERVED)
    } catch (error) {
      refusal = error
    }
    expect(refusal).toBeInstanceOf(VenueGoneError)
    const { code, message } = refusal as VenueGoneError
    expect(code).toBe('VENUE_GONE_ORDERS_OPEN')
    expect(message).toStartWith(
      'VENUE_GONE_ORDERS_OPEN: the log holds orders not ended, or ended with a synthetic fill not yet trued up, on a venue the config no longer lists — ' +
        'venue fx: 1 open order (o1), 2 ended orders awaiting a true-up (c1, f1). ',
    )
    expect(message).toContain('until none is open and none awaits a true-up, then remove it')
    // Trued up (nothing pending), the ended order needs the venue no more.
    expect(() => refuseOrdersOnGoneVenues([order('f1', 'fx', 'Filled', 0n)], SERVED)).not.toThrow()
  })
})
