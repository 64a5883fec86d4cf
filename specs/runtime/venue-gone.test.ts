/**
 * Which orders make a leader's start refuse a config without their venue (src/runtime/venue-gone.ts): every order not
 * ended — in flight, resting, being canceled, Unknown — on a venue no adapter serves; never an ended one, never one on
 * a served venue. Per venue, in name order, with the count and the first ids (sorted, bounded).
 */

import { describe, expect, test } from 'bun:test'
import { ORDER_STATES, TERMINAL_STATES, type OrderState } from '../../src/domain/states.ts'
import { GONE_VENUE_ORDER_IDS_SHOWN, goneVenueOrders, refuseOrdersOnGoneVenues, VenueGoneError } from '../../src/runtime/venue-gone.ts'

const SERVED = new Set(['sim'])

function order(orderId: string, venue: string, status: OrderState = 'AckedOpen') {
  return { orderId, venue, status }
}

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
      { venue: 'broker-z', count: 1, orderIds: ['z1'] },
      { venue: 'fx', count: 12, orderIds: ['o00', 'o01', 'o02', 'o03', 'o04'] },
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
})
