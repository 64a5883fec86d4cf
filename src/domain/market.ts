/**
 * What the runtime observed about an instrument's market when a command was made. The kernel never fetches prices:
 * the snapshot travels inside the command (and is echoed into the decision record), so replay needs no market feed.
 */

import type { Units } from './decimal.ts'

/**
 * The best bid and offer with the size visible at each, as the venue's feed showed them with the reference price
 * (same observation). Sizes are in the instrument's base units; a side with nothing resting has size 0.
 */
export interface BookTouch {
  bidPrice: Units
  bidQty: Units
  askPrice: Units
  askQty: Units
}

export interface MarketSnapshot {
  /** Reference price (mid or last) used for the price band and market-order reservations. */
  referencePrice: Units
  observedAtMs: number
  /** The observation before this one, for jump detection; null when there is none. */
  previousPrice: Units | null
  /**
   * The touch, when the venue's feed shows one (the sim venue's does). Absent from feeds that show only a price and
   * from every command recorded before the field existed: the thin-book and impact checks need it.
   */
  touch?: BookTouch
}
