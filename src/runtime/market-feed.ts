/**
 * Reference prices for the data-health guard. The runtime observes a venue's reference price when a command needs
 * it and hands the kernel a snapshot (price, when observed, the observation before, and the touch when the source
 * shows one) inside the command, so the command record holds exactly what the kernel saw and replay needs no feed.
 */

import type { Units } from '../domain/decimal.ts'
import type { BookTouch, MarketSnapshot } from '../domain/market.ts'

/** Anything that can tell the current reference price of a symbol (the sim venue; later a market-data feed). */
export interface PriceSource {
  /** `touch`: the best bid and offer with their visible sizes, from the same observation as the price, if shown. */
  referencePrice(symbol: string): { price: Units; observedAtMs: number; touch?: BookTouch } | null
}

export class MarketFeed {
  private readonly sources = new Map<string, PriceSource>()
  /** Last two distinct observations per venue:symbol. */
  private readonly observed = new Map<string, { price: Units; observedAtMs: number; previousPrice: Units | null }>()

  addSource(venue: string, source: PriceSource): void {
    this.sources.set(venue, source)
  }

  snapshot(venue: string, symbol: string): MarketSnapshot | null {
    const quote = this.sources.get(venue)?.referencePrice(symbol) ?? null
    if (quote === null) return null
    const key = `${venue}:${symbol}`
    const last = this.observed.get(key)
    // The previous observation is the quote before this one: re-reading the same quote (same price, same time) keeps
    // its predecessor, and a price that jumped and then holds still stops counting as a jump at the next fresh quote.
    const sameQuote = last !== undefined && quote.observedAtMs === last.observedAtMs && quote.price === last.price
    const previousPrice = last === undefined ? null : sameQuote ? last.previousPrice : last.price
    this.observed.set(key, { price: quote.price, observedAtMs: quote.observedAtMs, previousPrice })
    const snapshot: MarketSnapshot = { referencePrice: quote.price, observedAtMs: quote.observedAtMs, previousPrice }
    // A copy of the four values only: a source's object may hold more, and the command record refuses unknown members.
    if (quote.touch !== undefined) {
      const { bidPrice, bidQty, askPrice, askQty } = quote.touch
      snapshot.touch = { bidPrice, bidQty, askPrice, askQty }
    }
    return snapshot
  }

  snapshots(keys: Iterable<string>): Record<string, MarketSnapshot> {
    const result: Record<string, MarketSnapshot> = {}
    for (const key of keys) {
      const [venue, symbol] = key.split(':') as [string, string]
      const snapshot = this.snapshot(venue, symbol)
      if (snapshot !== null) result[key] = snapshot
    }
    return result
  }
}
