/**
 * An amend cannot add quantity at a price the band now refuses. A qty-only amend keeps the order's price, and before
 * the fix only a new price was band-checked, so after the market moved away a trader could grow an order at a price
 * a new order would be refused at (PRICE_BAND). Cutting quantity still passes: it only lowers the risk.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { d, Harness, market } from './fixtures.ts'

// Reference 40 000 with a 5 % band: [38 000, 42 000]. The order rests at 50 000, placed when the reference was 50 000.
const moved = { market: market('40000') }

describe('amend and the price band', () => {
  test('a place at the standing price is refused with PRICE_BAND once the market has moved', () => {
    const harness = Harness.funded()
    harness.openOrder()
    const decision = harness.place({ client_order_id: 'c2', qty: '0.2' }, moved)
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'PRICE_BAND', guard: 'data_health' })
  })

  test('a qty-only amend adding quantity at that price is refused with PRICE_BAND and writes only its rejection', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    const reservedBefore = harness.reserved('USD')
    const decision = harness.amend(orderId, { qty: '0.2' }, moved)
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'PRICE_BAND', guard: 'data_health' })
    expect(decision.events.map((event) => event.type)).toEqual(['order.amend_rejected'])
    const guard = (decision.events[0] as EventOf<'order.amend_rejected'>).decision.guards.at(-1)
    expect(guard?.inputs.price).toBe('50000')
    expect(harness.order(orderId)).toMatchObject({ qty: d('0.1'), amend: null })
    expect(harness.reserved('USD')).toBe(reservedBefore)
  })

  test('a qty-only amend cutting quantity at that price still passes: it only lowers the risk', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder({ qty: '0.2' })
    expect(harness.amend(orderId, { qty: '0.1' }, moved).reply.kind).toBe('amend_accepted')
  })

  test('a qty-only amend adding quantity within the band passes as before', () => {
    const harness = Harness.funded()
    const orderId = harness.openOrder()
    expect(harness.amend(orderId, { qty: '0.2' }, { market: market('51000') }).reply.kind).toBe('amend_accepted')
  })
})
