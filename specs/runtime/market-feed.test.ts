import { describe, expect, test } from 'bun:test'
import { parseDecimal, type Units } from '../../src/domain/decimal.ts'
import { MarketFeed } from '../../src/runtime/index.ts'

function feedWith(quotes: { price: string; observedAtMs: number }[]): { feed: MarketFeed; next: () => void } {
  let index = 0
  const feed = new MarketFeed()
  feed.addSource('sim', {
    referencePrice: () => {
      const quote = quotes[index]
      return quote === undefined ? null : { price: parseDecimal(quote.price) as Units, observedAtMs: quote.observedAtMs }
    },
  })
  return { feed, next: () => void index++ }
}

describe('market feed', () => {
  test('the previous price is the quote before the current one; re-reading a quote keeps its predecessor', () => {
    const { feed, next } = feedWith([{ price: '100', observedAtMs: 1 }, { price: '150', observedAtMs: 2 }, { price: '150', observedAtMs: 3 }])
    expect(feed.snapshot('sim', 'X')?.previousPrice).toBeNull()
    next()
    expect(feed.snapshot('sim', 'X')?.previousPrice).toBe(parseDecimal('100'))
    expect(feed.snapshot('sim', 'X')?.previousPrice).toBe(parseDecimal('100')) // same quote read again
    next()
    // The jump is over once a fresh quote at the same price arrives: the guard no longer sees 100 → 150.
    expect(feed.snapshot('sim', 'X')?.previousPrice).toBe(parseDecimal('150'))
  })

  test('the touch a source shows is handed on as its four values; a source without one gives a snapshot without one', () => {
    const feed = new MarketFeed()
    const touch = { bidPrice: parseDecimal('99'), bidQty: parseDecimal('2'), askPrice: parseDecimal('101'), askQty: parseDecimal('0') }
    feed.addSource('book', { referencePrice: () => ({ price: parseDecimal('100'), observedAtMs: 1, touch: { ...touch, level: 1 } as typeof touch }) })
    feed.addSource('plain', { referencePrice: () => ({ price: parseDecimal('100'), observedAtMs: 1 }) })
    expect(feed.snapshot('book', 'X')).toEqual({ referencePrice: parseDecimal('100'), observedAtMs: 1, previousPrice: null, touch })
    const plain = feed.snapshot('plain', 'X')
    expect(plain).toEqual({ referencePrice: parseDecimal('100'), observedAtMs: 1, previousPrice: null })
    expect(plain !== null && 'touch' in plain).toBe(false)
  })

  test('snapshots reads each instrument by its own venue and symbol, a symbol holding a colon among them', () => {
    const feed = new MarketFeed()
    feed.addSource('sim', { referencePrice: (symbol: string) => (symbol === 'BTC:PERP' ? { price: parseDecimal('100'), observedAtMs: 1 } : null) })
    const snapshots = feed.snapshots([['sim:BTC:PERP', { venue: 'sim', symbol: 'BTC:PERP' }]])
    expect(snapshots).toEqual({ 'sim:BTC:PERP': { referencePrice: parseDecimal('100'), observedAtMs: 1, previousPrice: null } })
  })

  test('an unknown venue or symbol gives no snapshot', () => {
    const { feed } = feedWith([])
    expect(feed.snapshot('sim', 'X')).toBeNull()
    expect(feed.snapshot('other', 'X')).toBeNull()
  })
})
