/**
 * A market order's max-notional check prices it where the gateway assumes it can fill: the upper edge of the
 * instrument's band around the reference price — the same worst price its reservation is taken at. Before the fix the
 * policy guard priced it at the reference price, so a market order whose band-edge notional was over the account's
 * limit passed, while its reservation (at the band edge) already said it could cost more. The upper edge is used for
 * a sell too: the limit caps how large an order is, and the largest notional a sell can reach in the band is there.
 */

import { describe, expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { config, Harness, policy, d } from './fixtures.ts'

// Reference 50 000, band 5 %: upper edge 52 500. 0.1 × 50 000 = 5 000 ≤ 5 100 < 5 250 = 0.1 × 52 500.
const limited = () =>
  Harness.funded({ config: config({ policies: [policy({ maxOrderNotional: d('5100'), marketOrderInstruments: ['sim:BTC-USD'] })] }) })

const market = (overrides: Record<string, unknown>) => ({ type: 'market', price: undefined, tif: 'IOC', ...overrides })

describe('max order notional of a market order', () => {
  for (const side of ['buy', 'sell'] as const) {
    test(`a market ${side} over the limit at the band's upper edge is refused with ORDER_NOTIONAL_LIMIT`, () => {
      const harness = limited()
      const decision = harness.place(market({ side, qty: '0.1' }))
      expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'ORDER_NOTIONAL_LIMIT', guard: 'policy' })
      expect((decision.events[0] as EventOf<'order.rejected'>).decision.guards.at(-1)?.inputs.notional).toBe('5250')
      expect(harness.reserved('USD') + harness.reserved('BTC')).toBe(0n)
    })
  }

  test('a market buy within the limit at the band edge passes and reserves at that edge', () => {
    const harness = limited()
    const decision = harness.place(market({ side: 'buy', qty: '0.097' }))
    expect(decision.reply.kind).toBe('accepted')
    // 0.097 × 52 500 = 5 092.5, plus the 10 bps taker-fee allowance.
    expect(harness.reserved('USD')).toBe(d('5097.5925'))
  })
})
