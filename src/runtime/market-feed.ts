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

/** The last two distinct observations of one venue:symbol: updated in place, read only by MarketFeed.snapshot. */
interface Observed {
  price: Units
  observedAtMs: number
  previousPrice: Units | null
}

export class MarketFeed {
  private readonly sources = new Map<string, PriceSource>()
  /**
   * Last two distinct observations per venue, per symbol: looked up without a `venue:symbol` key string, and kept in
   * one object per instrument (read twice per order: at its place and at its send).
   */
  private readonly observed = new Map<string, Map<string, Observed>>()

  addSource(venue: string, source: PriceSource): void {
    this.sources.set(venue, source)
  }

  snapshot(venue: string, symbol: string): MarketSnapshot | null {
    const quote = this.sources.get(venue)?.referencePrice(symbol) ?? null
    if (quote === null) return null
    let bySymbol = this.observed.get(venue)
    if (bySymbol === undefined) {
      bySymbol = new Map()
      this.observed.set(venue, bySymbol)
    }
    const last = bySymbol.get(symbol)
    // The previous observation is the quote before this one: re-reading the same quote (same price, same time) keeps
    // its predecessor, and a price that jumped and then holds still stops counting as a jump at the next fresh quote.
    const sameQuote = last !== undefined && quote.observedAtMs === last.observedAtMs && quote.price === last.price
    const previousPrice = last === undefined ? null : sameQuote ? last.previousPrice : last.price
    if (last === undefined) bySymbol.set(symbol, { price: quote.price, observedAtMs: quote.observedAtMs, previousPrice })
    else {
      last.price = quote.price
      last.observedAtMs = quote.observedAtMs
      last.previousPrice = previousPrice
    }
    const snapshot: MarketSnapshot = { referencePrice: quote.price, observedAtMs: quote.observedAtMs, previousPrice }
    // A copy of the four values only: a source's object may hold more, and the command record refuses unknown members.
    if (quote.touch !== undefined) {
      const { bidPrice, bidQty, askPrice, askQty } = quote.touch
      snapshot.touch = { bidPrice, bidQty, askPrice, askQty }
    }
    return snapshot
  }

  /**
   * The snapshots of the instruments given by their keys (instrumentKey): each read by its own venue and symbol, not
   * by splitting the key, which a symbol holding ':' (the kernel's ids allow it) would cut in the wrong place.
   */
  snapshots(instruments: Iterable<readonly [key: string, instrument: { readonly venue: string; readonly symbol: string }]>): Record<string, MarketSnapshot> {
    const result: Record<string, MarketSnapshot> = {}
    for (const [key, { venue, symbol }] of instruments) {
      const snapshot = this.snapshot(venue, symbol)
      if (snapshot !== null) result[key] = snapshot
    }
    return result
  }
}
