/**
 * A reference price with more digits than a record holds. Venues state reference prices with more (a JSONL venue's
 * `$units` integer takes 40 digits; a record holds 20 whole and 8 places: src/domain/recordable-amounts.ts), and the
 * kernel records prices derived from it: a market order's protection or worst price (the band's edge of it), a
 * flatten's close price (the band's lower edge). Such an order's `order.accepted` made the log's writer assert
 * (Harness.run encodes every event as the engine does), failing the decision as a kernel bug. Now a reference price
 * whose band's upper edge no record holds is no price: data health refuses DATA_MISSING, and a flatten raises
 * FLATTEN_NO_PRICE for that instrument (its cancels and other closes go ahead).
 */

import { describe, expect, test } from 'bun:test'
import type { Instrument } from '../../src/domain/instruments.ts'
import type { MarketSnapshot } from '../../src/domain/market.ts'
import { RECORD_UNITS_MAX } from '../../src/domain/recordable-amounts.ts'
import { marketWorstPrice } from '../../src/kernel/intake/sent-order.ts'
import { ACCOUNT, config, d, Harness, market, ops, policy, T0 } from './fixtures.ts'

function snapshot(price: bigint): MarketSnapshot {
  return { referencePrice: price, observedAtMs: T0, previousPrice: price }
}

/** 10^22 whole: 30 digits of units, which the JSONL wire takes and no record holds. */
const HUGE = 10n ** 30n

function marketHarness(): Harness {
  // A cap no notional here reaches, so data health is what decides.
  const policies = [policy({ marketOrderInstruments: ['sim:BTC-USD'], maxOrderNotional: d('99999999999999999999') })]
  return Harness.funded({ config: config({ policies }) })
}

function btc(harness: Harness): Instrument {
  return harness.state.instruments.get('sim:BTC-USD') as Instrument
}

describe('a reference price no record can hold the band of', () => {
  test('a market sell priced from it is refused DATA_MISSING, and its rejection is recorded', () => {
    const harness = marketHarness()
    const decision = harness.place({ type: 'market', price: undefined, side: 'sell', qty: '0.0001', client_order_id: 's1' }, { market: snapshot(HUGE) })
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'DATA_MISSING', guard: 'data_health' })
    expect(harness.eventTypes(decision)).toEqual(['order.rejected'])
  })

  test('a market buy priced from it is refused DATA_MISSING', () => {
    const harness = marketHarness()
    const decision = harness.place({ type: 'market', price: undefined, side: 'buy', qty: '0.0001', client_order_id: 'b1' }, { market: snapshot(HUGE) })
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'DATA_MISSING', guard: 'data_health' })
  })

  test('a limit sell rounded up to the tick past the bound is refused, not recorded: its reference price is no price', () => {
    const harness = marketHarness()
    // 10^20 whole, one unit above the largest amount a record holds: the sell's 99 999 999 999 999 999 999.99999999
    // rounds up to it on the 0.01 tick, inside any band around it.
    const reference = RECORD_UNITS_MAX + 1n
    const decision = harness.place({ side: 'sell', qty: '0.0001', price: '99999999999999999999.99999999', client_order_id: 'l1' }, { market: snapshot(reference) })
    expect(decision.reply).toMatchObject({ kind: 'rejected', reason: 'DATA_MISSING', guard: 'data_health' })
  })

  // 500 bps: the config's default; 20 000 bps: more than the config takes (10 000), as a recorded config may hold.
  for (const bandBps of [500, 20_000]) {
    test(`the bound is the band (${bandBps} bps): the largest price whose upper edge a record holds is taken, one unit more is not`, () => {
      const policies = [policy({ marketOrderInstruments: ['sim:BTC-USD'], maxOrderNotional: d('99999999999999999999') })]
      const base = config({ policies })
      const harness = Harness.funded({ config: { ...base, instruments: base.instruments.map((item) => ({ ...item, priceBandBps: bandBps })) } })
      const instrument = btc(harness)
      // ceil(p × (10 000 + band) / 10 000) ≤ RECORD_UNITS_MAX: p ≤ RECORD_UNITS_MAX × 10 000 / (10 000 + band), rounded down.
      const largest = (RECORD_UNITS_MAX * 10_000n) / BigInt(10_000 + bandBps)
      expect(marketWorstPrice(largest, instrument) <= RECORD_UNITS_MAX).toBe(true)
      expect(marketWorstPrice(largest + 1n, instrument) > RECORD_UNITS_MAX).toBe(true)
      const sell = { type: 'market', price: undefined, side: 'sell', qty: '0.0001' }
      const over = harness.place({ ...sell, client_order_id: 'over' }, { market: snapshot(largest + 1n) })
      expect(over.reply).toMatchObject({ kind: 'rejected', reason: 'DATA_MISSING' })
      const taken = harness.place({ ...sell, client_order_id: 'taken' }, { market: snapshot(largest) })
      expect(taken.reply).toMatchObject({ kind: 'accepted' })
    })
  }

  test('a flatten raises FLATTEN_NO_PRICE for that instrument and closes the others', () => {
    const harness = Harness.funded()
    const decision = harness.run({ kind: 'flatten', nowMs: T0, principal: ops, accountId: ACCOUNT, flattenId: 'f-1', markets: { 'sim:BTC-USD': snapshot(HUGE), 'sim:AAPL': market('190') } })
    expect(decision.reply).toEqual({ kind: 'done' })
    const alerts = decision.events.filter((event) => event.type === 'alert.raised')
    expect(alerts).toMatchObject([{ reason: 'FLATTEN_NO_PRICE', detail: expect.stringContaining('acct-1 sim:BTC-USD: the reference price 10000000000000000000000 ') }])
    const closes = decision.events.filter((event) => event.type === 'order.accepted')
    expect(closes).toMatchObject([{ symbol: 'AAPL', side: 'sell', price: d('180.5') }])
  })
})
