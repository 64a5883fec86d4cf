/**
 * The JSONL client's cache of the venue's pushed reference prices, by symbol (client.ts). Bounded: a push of ever new
 * symbols (a broken venue's, or a hostile one's) grew the cache for good, so past REFERENCE_SYMBOLS_MAX symbols a new
 * one's price is dropped (and counted for the log); symbols already cached keep updating.
 */

import type { Units } from '../../domain/decimal.ts'
import type { BookTouch } from '../../domain/market.ts'
import type { PriceEntry } from './messages.ts'

/** Symbols whose reference price is cached at most. */
export const REFERENCE_SYMBOLS_MAX = 10_000

export interface ReferencePrice {
  price: Units
  observedAtMs: number
  touch?: BookTouch
}

export class ReferencePrices {
  private readonly prices = new Map<string, ReferencePrice>()

  get(symbol: string): ReferencePrice | null {
    return this.prices.get(symbol) ?? null
  }

  /** Symbols with a price cached (at most REFERENCE_SYMBOLS_MAX). */
  get size(): number {
    return this.prices.size
  }

  /** Takes a push's entries; how many were dropped for new symbols past the bound. */
  note(entries: readonly PriceEntry[]): number {
    let beyond = 0
    for (const entry of entries) {
      if (this.prices.size >= REFERENCE_SYMBOLS_MAX && !this.prices.has(entry.symbol)) beyond++
      else {
        const { price, observedAtMs, touch } = entry
        this.prices.set(entry.symbol, touch === undefined ? { price, observedAtMs } : { price, observedAtMs, touch })
      }
    }
    return beyond
  }
}
