/**
 * The price band holds for the price as sent, not only as asked. Guard 4 (data health) runs before guard 6 rounds the
 * price to the tick — a sell's up, a buy's down — so before the fix a sell priced just inside the band's upper edge
 * was sent just outside it (and a buy just inside the lower edge just below it). Both are PRICE_BAND now, on place
 * and on amend.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { d, Harness, market } from './fixtures.ts'

// Reference 50 000.01, band 5 %: [47 500.0095, 52 500.0105], edges off the 0.01 tick.
const offTick = { market: market('50000.01') }

describe('price band and tick rounding', () => {
  test('a sell inside the upper edge that rounds up past it is refused with PRICE_BAND, checked at its sent price', () => {
    const harness = Harness.funded()
    const decision = harness.place({ side: 'sell', price: '52500.0104' }, offTick)
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'PRICE_BAND', guard: 'data_health' })
    expect((decision.events[0] as EventOf<'order.rejected'>).decision.guards.at(-1)?.inputs.price).toBe('52500.02')
    expect(harness.reserved('BTC')).toBe(0n)
  })

  test('a buy inside the lower edge that rounds down past it is refused with PRICE_BAND', () => {
    const harness = Harness.funded()
    const decision = harness.place({ side: 'buy', price: '47500.0096' }, offTick)
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'PRICE_BAND', guard: 'data_health' })
  })

  test('prices whose rounding stays inside the band pass', () => {
    const harness = Harness.funded()
    expect(harness.place({ side: 'sell', price: '52500.0095' }, offTick).reply.kind).toBe('accepted')
    expect(harness.place({ client_order_id: 'c2', side: 'buy', price: '47500.0196' }, offTick).reply.kind).toBe('accepted')
  })

  test('an amend of a sell to a price that rounds up past the upper edge is refused with PRICE_BAND', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ side: 'sell', price: '50000' })
    const decision = harness.amend(orderId, { price: '52500.0104' }, offTick)
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'PRICE_BAND', guard: 'data_health' })
    expect(harness.order(orderId)).toMatchObject({ price: d('50000'), amend: null })
  })
})
