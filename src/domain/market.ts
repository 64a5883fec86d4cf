/**
 * What the runtime observed about an instrument's market when a command was made. The kernel never fetches prices:
 * the snapshot travels inside the command (and is echoed into the decision record), so replay needs no market feed.
 */

import type { Units } from './decimal.ts'

export interface MarketSnapshot {
  /** Reference price (mid or last) used for the price band and market-order reservations. */
  referencePrice: Units
  observedAtMs: number
  /** The observation before this one, for jump detection; null when there is none. */
  previousPrice: Units | null
}
