import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../../src/domain/decimal.ts'
import { harness } from './fixture.ts'

// The reference answer is built once per observation and shared by every read of it (prices.ts): reads of one
// observation get the same frozen answer, and any move of the price or its time gives a new one.
describe('sim venue reference price, reused per observation', () => {
  test('reads within one observation share one frozen answer; a step, a stalled step and a set each answer as the walk says', () => {
    const { clock, venue } = harness({ priceStepTicksMax: 3, priceStepMs: 100 })
    const first = venue.referencePrice('BTC-USD')
    expect(first).not.toBeNull()
    expect(venue.referencePrice('BTC-USD')).toBe(first)
    expect(Object.isFrozen(first) && Object.isFrozen(first?.touch)).toBe(true)
    clock.advance(50)
    expect(venue.referencePrice('BTC-USD')).toBe(first)
    let moved = false
    for (let step = 0; step < 20 && !moved; step++) {
      clock.advance(100)
      const quote = venue.referencePrice('BTC-USD')
      expect(quote?.observedAtMs).toBeGreaterThan(first?.observedAtMs ?? Number.POSITIVE_INFINITY)
      expect(quote?.touch.bidPrice).toBe(quote?.price as bigint)
      moved = quote?.price !== first?.price
    }
    expect(moved).toBe(true)
    // A set at the very instant of the observation read last: a new price, at the same time.
    const before = venue.referencePrice('BTC-USD')
    venue.setReferencePrice('BTC-USD', d('12345'))
    const set = venue.referencePrice('BTC-USD')
    expect(set?.price).toBe(d('12345'))
    expect(set?.touch.askPrice).toBe(d('12345'))
    expect(set).not.toBe(before)
  })

  test('a stalled feed keeps its observation, so its answer is the one read before the stall', () => {
    const { clock, venue } = harness({ priceStepTicksMax: 3, priceStepMs: 100 })
    clock.advance(100)
    const before = venue.referencePrice('BTC-USD')
    const nowMs = clock.nowMs()
    venue.setFaults({ priceStalls: [{ symbol: 'BTC-USD', startMs: nowMs, endMs: nowMs + 1_000 }] })
    clock.advance(500)
    expect(venue.referencePrice('BTC-USD')).toBe(before)
    clock.advance(1_000)
    expect(venue.referencePrice('BTC-USD')?.observedAtMs).toBeGreaterThan(before?.observedAtMs ?? Number.POSITIVE_INFINITY)
  })
})
