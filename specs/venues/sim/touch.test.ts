import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { BTC, ETH, harness, START_MS } from './fixture.ts'

describe('sim venue touch', () => {
  test('every price comes with a touch at that price, each side sized in whole lots within the configured bounds', () => {
    const { clock, venue } = harness({ priceStepTicksMax: 3, touchLotsMin: 5, touchLotsMax: 9 })
    const sizes = new Set<bigint>()
    for (let step = 0; step < 40; step++) {
      for (const instrument of [BTC, ETH]) {
        const quote = venue.referencePrice(instrument.symbol)
        expect(quote).not.toBeNull()
        if (quote === null) continue
        expect(quote.touch.bidPrice).toBe(quote.price)
        expect(quote.touch.askPrice).toBe(quote.price)
        for (const qty of [quote.touch.bidQty, quote.touch.askQty]) {
          expect(qty % instrument.lot).toBe(0n)
          expect(qty >= 5n * instrument.lot && qty <= 9n * instrument.lot).toBe(true)
          if (instrument === BTC) sizes.add(qty)
        }
      }
      clock.advance(100)
    }
    // The sizes move with the steps (5 values possible, 80 draws).
    expect(sizes.size).toBeGreaterThan(1)
  })

  test('the touch is a function of seed, symbol and observation time: reading often, rarely or never changes nothing', () => {
    const often = harness({ priceStepTicksMax: 2 })
    const rarely = harness({ priceStepTicksMax: 2 })
    for (let index = 0; index < 30; index++) {
      often.venue.referencePrice('BTC-USD')
      often.clock.advance(37)
    }
    rarely.clock.advance(30 * 37)
    expect(rarely.venue.referencePrice('BTC-USD')).toEqual(often.venue.referencePrice('BTC-USD'))
    expect(often.venue.referencePrice('BTC-USD')).toEqual(often.venue.referencePrice('BTC-USD'))
  })

  test('drawing the touch shifts no price: the walk is the same whatever the size bounds', () => {
    const narrow = harness({ priceStepTicksMax: 3, touchLotsMin: 1, touchLotsMax: 1 })
    const wide = harness({ priceStepTicksMax: 3 })
    for (let step = 0; step < 25; step++) {
      const a = narrow.venue.referencePrice('BTC-USD')
      const b = wide.venue.referencePrice('BTC-USD')
      expect(a?.price).toBe(b?.price as bigint)
      expect(a?.touch.bidQty).toBe(BTC.lot)
      narrow.clock.advance(100)
      wide.clock.advance(100)
    }
  })

  test('the touch holds still while the feed stalls, and a price set by hand comes with a fresh one', () => {
    const { clock, venue } = harness({ priceStepTicksMax: 2, faults: { priceStalls: [{ symbol: 'BTC-USD', startMs: START_MS + 50, endMs: START_MS + 2_000 }] } })
    const before = venue.referencePrice('BTC-USD')
    clock.advance(1_000)
    expect(venue.referencePrice('BTC-USD')).toEqual(before)
    venue.setReferencePrice('BTC-USD', d('51000'))
    const moved = venue.referencePrice('BTC-USD')
    expect(moved?.touch.bidPrice).toBe(d('51000'))
    expect(moved?.observedAtMs).toBe(START_MS + 1_000)
  })

  test('size bounds that are not whole, positive and ordered are refused', () => {
    expect(() => harness({ touchLotsMin: 0 })).toThrow('touchLotsMin must be an integer ≥ 1, got 0')
    expect(() => harness({ touchLotsMin: 10, touchLotsMax: 9 })).toThrow('touchLotsMax must be an integer ≥ 10, got 9')
    expect(() => harness({ touchLotsMax: 1.5 })).toThrow('touchLotsMax must be an integer')
    expect(() => harness({ touchLotsMax: 2 ** 32 })).toThrow('touchLotsMax must be at most')
  })
})
