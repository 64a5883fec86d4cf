/**
 * The policy's max order notional holds for the order as sent, not only as asked. Guard 2 (policy) runs before guard
 * 6 rounds the price to the tick, and a sell's price rounds up; before the fix a sell priced just under the limit
 * passed on its unrounded notional and was sent just over it — on place and on amend alike.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { config, d, Harness, policy } from './fixtures.ts'

// 0.1 × 49 999.995 = 4 999.9995 ≤ 4 999.9996, but the price rounds up to the 0.01 tick: 0.1 × 50 000 = 5 000 > limit.
const tight = () => Harness.funded({ config: config({ policies: [policy({ maxOrderNotional: d('4999.9996') })] }) })

describe('max order notional and tick rounding', () => {
  test('a sell whose price rounds up over the max notional is refused with ORDER_NOTIONAL_LIMIT and writes only that', () => {
    const harness = tight()
    const decision = harness.place({ side: 'sell', qty: '0.1', price: '49999.995' })
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'ORDER_NOTIONAL_LIMIT', guard: 'policy' })
    expect(decision.events.map((event) => event.type)).toEqual(['order.rejected'])
    expect((decision.events[0] as EventOf<'order.rejected'>).decision.guards.at(-1)?.inputs.notional).toBe('5000')
    expect(harness.reserved('BTC')).toBe(0n)
  })

  test('an amend of a sell to a price that rounds up over the max notional is refused with ORDER_NOTIONAL_LIMIT', () => {
    const harness = tight()
    const orderId = harness.openOrder({ side: 'sell', qty: '0.1', price: '49000' })
    const decision = harness.amend(orderId, { price: '49999.995' })
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'ORDER_NOTIONAL_LIMIT', guard: 'policy' })
    expect(harness.order(orderId)).toMatchObject({ price: d('49000'), amend: null })
  })

  test('a sell already on the tick just under the limit, and a buy rounding down, still pass', () => {
    const harness = tight()
    expect(harness.place({ side: 'sell', qty: '0.1', price: '49999.99' }).reply.kind).toBe('accepted')
    // On its own account state: the buy, rounded down to 49999.99, would cross the sell (SELF_TRADE_PREVENTED).
    expect(tight().place({ client_order_id: 'c2', side: 'buy', qty: '0.1', price: '49999.995' }).reply.kind).toBe('accepted')
  })
})
