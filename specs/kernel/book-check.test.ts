import { describe, expect, test } from 'bun:test'
import { parseDecimal as d } from '../../src/domain/decimal.ts'
import type { MarketSnapshot } from '../../src/domain/market.ts'
import { BOOK_LIMITS_OFF, bookCheck, type BookLimits, type BookOrder } from '../../src/kernel/intake/book-check.ts'

// Bid 99.90 × 2, ask 100.10 × 5 around a reference of 100: a spread of 0.20 (20 bps).
const market: MarketSnapshot = {
  referencePrice: d('100'),
  observedAtMs: 1,
  previousPrice: null,
  touch: { bidPrice: d('99.9'), bidQty: d('2'), askPrice: d('100.1'), askQty: d('5') },
}
const on: BookLimits = { touchQtyMin: d('1'), spreadBpsMax: 50, touchShareBpsMax: 5_000 }

function order(overrides: Partial<BookOrder> = {}): BookOrder {
  return { side: 'buy', orderType: 'market', price: null, qty: d('1'), reduceOnly: false, ...overrides }
}

const reasonOf = (o: BookOrder, limits: BookLimits = on, snapshot: MarketSnapshot = market) => bookCheck(o, { market: snapshot, limits }).reason

describe('book check (thin book and impact)', () => {
  test('with every limit off it runs no rule and records nothing, whatever the book', () => {
    const empty = { ...market, touch: { bidPrice: d('1'), bidQty: 0n, askPrice: d('1000'), askQty: 0n } }
    expect(bookCheck(order({ qty: d('1000') }), { market: empty, limits: BOOK_LIMITS_OFF })).toEqual({ reason: null, inputs: {} })
    const { touch: _touch, ...noTouch } = market
    expect(bookCheck(order(), { market: noTouch, limits: BOOK_LIMITS_OFF })).toEqual({ reason: null, inputs: {} })
  })

  test('a market order within the limits passes and its inputs show the side it takes, the spread, the qty and the limits', () => {
    expect(bookCheck(order({ qty: d('2.5') }), { market, limits: on })).toEqual({
      reason: null,
      inputs: { aggressive: true, touchPrice: '100.1', touchQty: '5', spread: '0.2', qty: '2.5', touchQtyMin: '1', spreadBpsMax: 50, touchShareBpsMax: 5_000 },
    })
    expect(bookCheck(order({ side: 'sell', qty: d('1') }), { market, limits: on }).inputs).toMatchObject({ touchPrice: '99.9', touchQty: '2' })
  })

  test('too little size at the side taken is a thin book: a sell hits the 2 bid, a buy lifts the 5 offer', () => {
    const limits = { ...on, touchQtyMin: d('3') }
    expect(reasonOf(order({ side: 'sell' }), limits)).toBe('DATA_THIN_BOOK')
    expect(reasonOf(order({ side: 'buy' }), limits)).toBeNull()
    expect(reasonOf(order({ side: 'sell' }), { ...limits, touchQtyMin: d('2') })).toBeNull() // the bound itself is enough
  })

  test('a spread wider than its bound (bps of the reference) is a thin book; at the bound it passes', () => {
    expect(reasonOf(order(), { ...on, spreadBpsMax: 19 })).toBe('DATA_THIN_BOOK')
    expect(reasonOf(order(), { ...on, spreadBpsMax: 20 })).toBeNull()
  })

  test('taking more than the allowed share of the touch is IMPACT_TOO_LARGE; exactly the share passes', () => {
    // 50% of the 5 offer is 2.5; 50% of the 2 bid is 1.
    expect(reasonOf(order({ qty: d('2.5') }))).toBeNull()
    expect(reasonOf(order({ qty: d('2.5001') }))).toBe('IMPACT_TOO_LARGE')
    expect(reasonOf(order({ side: 'sell', qty: d('1') }))).toBeNull()
    expect(reasonOf(order({ side: 'sell', qty: d('1.01') }))).toBe('IMPACT_TOO_LARGE')
    // Thin comes first: a book too thin is said so even when the order is also too large for it.
    expect(reasonOf(order({ side: 'sell', qty: d('10') }), { ...on, touchQtyMin: d('3') })).toBe('DATA_THIN_BOOK')
  })

  test('a limit that crosses the touch is aggressive; one that rests passes however thin the book and large the order', () => {
    const thin = { touchQtyMin: d('100'), spreadBpsMax: 1, touchShareBpsMax: 1 }
    expect(reasonOf(order({ orderType: 'limit', price: d('100.1') }), thin)).toBe('DATA_THIN_BOOK')
    expect(reasonOf(order({ orderType: 'limit', side: 'sell', price: d('99.9') }), thin)).toBe('DATA_THIN_BOOK')
    const resting = bookCheck(order({ orderType: 'limit', price: d('100.09'), qty: d('1000') }), { market, limits: thin })
    expect(resting.reason).toBeNull()
    expect(resting.inputs.aggressive).toBe(false)
    expect(reasonOf(order({ orderType: 'limit', side: 'sell', price: d('99.91'), qty: d('1000') }), thin)).toBeNull()
  })

  test('a reduce-only order is never held back, aggressive or not', () => {
    const thin = { touchQtyMin: d('100'), spreadBpsMax: 1, touchShareBpsMax: 1 }
    const close = bookCheck(order({ side: 'sell', qty: d('1000'), reduceOnly: true }), { market, limits: thin })
    expect(close.reason).toBeNull()
    expect(close.inputs.aggressive).toBe(true)
    const { touch: _touch, ...noTouch } = market
    expect(reasonOf(order({ reduceOnly: true }), thin, noTouch)).toBeNull()
  })

  test('with no touch shown, or a crossed, zero-priced or negative-sized one, an aggressive order meets a thin book', () => {
    const { touch: _touch, ...noTouch } = market
    expect(reasonOf(order(), on, noTouch)).toBe('DATA_THIN_BOOK')
    // Without a touch a limit is judged against the reference price: at or through it takes, short of it rests.
    expect(reasonOf(order({ orderType: 'limit', price: d('100') }), on, noTouch)).toBe('DATA_THIN_BOOK')
    expect(reasonOf(order({ orderType: 'limit', price: d('99.99') }), on, noTouch)).toBeNull()
    const touch = market.touch as NonNullable<MarketSnapshot['touch']>
    for (const bad of [{ ...touch, askPrice: d('99.8') }, { ...touch, bidPrice: 0n }, { ...touch, bidQty: -1n }]) {
      expect(reasonOf(order(), on, { ...market, touch: bad })).toBe('DATA_THIN_BOOK')
    }
  })

  test('a touch of zero size at the side taken is thin under a size bound, and too small for any share', () => {
    const empty = { ...market, touch: { ...(market.touch as NonNullable<MarketSnapshot['touch']>), askQty: 0n } }
    expect(reasonOf(order(), { ...BOOK_LIMITS_OFF, touchQtyMin: d('0.0001') }, empty)).toBe('DATA_THIN_BOOK')
    expect(reasonOf(order(), { ...BOOK_LIMITS_OFF, touchShareBpsMax: 10_000 }, empty)).toBe('IMPACT_TOO_LARGE')
  })
})
