/**
 * The start's lines about orders open on an instrument the config no longer lists (src/cli/dropped-instruments.ts):
 * one per instrument, with the count and the first order ids; terminal orders and listed instruments say nothing; an
 * order whose venue has no entry at all is left to the start's refusal (src/runtime/venue-gone.ts).
 */

import { describe, expect, test } from 'bun:test'
import { DROPPED_ORDER_IDS_SHOWN, droppedInstrumentLines } from '../../src/cli/dropped-instruments.ts'
import type { OrderState } from '../../src/domain/states.ts'

const LISTED = [{ venue: 'fx', symbol: 'IBM' }, { venue: 'sim', symbol: 'BTC-USD' }]
const SERVED = new Set(['fx', 'sim'])

function order(orderId: string, venue: string, symbol: string, status: OrderState = 'AckedOpen') {
  return { orderId, venue, symbol, status }
}

describe('droppedInstrumentLines', () => {
  test('nothing for orders on listed instruments, nor for ended orders on a dropped one', () => {
    const orders = [order('a', 'fx', 'IBM'), order('b', 'sim', 'BTC-USD', 'Unknown'), order('c', 'fx', 'MSFT', 'Canceled'), order('d', 'fx', 'MSFT', 'Failed')]
    expect(droppedInstrumentLines(orders, LISTED, SERVED)).toEqual([])
  })

  test('one line per dropped instrument, in key order, with the count and the open orders of every state that is not terminal', () => {
    const orders = [order('o2', 'fx', 'MSFT', 'Unknown'), order('s1', 'sim', 'ETH-USD'), order('o1', 'fx', 'MSFT', 'CancelRequested'), order('o3', 'fx', 'MSFT', 'Enqueued')]
    const lines = droppedInstrumentLines(orders, LISTED, SERVED)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toStartWith('warning: instrument fx:MSFT is no longer in the config, and 3 orders are still open on it (o1, o2, o3): ')
    expect(lines[0]).toContain('INSTRUMENT_UNKNOWN')
    expect(lines[1]).toStartWith('warning: instrument sim:ETH-USD is no longer in the config, and 1 order is still open on it (s1): ')
  })

  test(`at most ${DROPPED_ORDER_IDS_SHOWN} ids are named, the rest counted`, () => {
    const orders = Array.from({ length: 12 }, (_, index) => order(`o${String(index).padStart(2, '0')}`, 'fx', 'MSFT'))
    const [line] = droppedInstrumentLines(orders, LISTED, SERVED)
    expect(line).toContain('12 orders are still open on it (o00, o01, o02, o03, o04 and 7 more)')
  })

  test('an order on a venue the config no longer has is not named here: the start refuses it (VENUE_GONE_ORDERS_OPEN)', () => {
    expect(droppedInstrumentLines([order('g1', 'gone', 'IBM')], LISTED, SERVED)).toEqual([])
  })
})
