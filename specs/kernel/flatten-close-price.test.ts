/**
 * Flatten's closing orders are limit sells at the lower edge of the instrument's band. A band of 100 % (the most the
 * config allows, 10 000 bps) put that edge at 0: a sell priced 0, which a venue refuses (the sim venue: invalid
 * price), so the flatten closed nothing. The close is priced at one tick at least.
 */

import { expect, test } from 'bun:test'
import type { EventOf } from '../../src/domain/events/index.ts'
import { ACCOUNT, config, d, Harness, market, ops, T0 } from './fixtures.ts'

function closeOf(bandBps: number): EventOf<'order.accepted'> {
  const base = config()
  // No minimum notional: 2 BTC at one tick is 0.02 USD, which BTC-USD's 10 would leave unclosed (NOTIONAL_BELOW_MIN,
  // flatten-close-sizes.test.ts), and this is about the price.
  const instruments = base.instruments.map((instrument) => (instrument.symbol === 'BTC-USD' ? { ...instrument, priceBandBps: bandBps, minNotional: 0n } : instrument))
  const harness = Harness.funded({ config: { ...base, instruments } })
  const decision = harness.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': market('50000') } })
  const close = decision.events.find((event) => event.type === 'order.accepted' && event.symbol === 'BTC-USD')
  if (close === undefined || close.type !== 'order.accepted') throw new Error('no close for BTC-USD')
  return close
}

test('a close is priced at the lower edge of the band, rounded up to the tick', () => {
  expect(closeOf(500).price).toBe(d('47500'))
})

test('with a band of 100 % the close is priced at one tick, not 0', () => {
  expect(closeOf(10_000).price).toBe(d('0.01'))
})
