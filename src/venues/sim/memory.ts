/**
 * What a sim venue resumes from when the process that held it restarts. A real venue outlives the gateway; the sim
 * lives inside it, so without this a restart would be a venue wipe: resting orders gone, balances back to nothing, and
 * order and execution ids issued again from 1 — ids that earlier orders already carry. serve builds the memory from
 * egress's own log (src/runtime/paper-sim-memory.ts), the only record of what the sim did.
 */

import type { Units } from '../../domain/decimal.ts'
import type { OrderType, Side, TimeInForce, VenueOrderStatus, VenueTrade } from '../adapter.ts'

/** An order resting at the venue when it stopped, as the venue's own reports left it. */
export interface RestingOrder {
  venueOrderId: string
  /** Every client order id it has carried, oldest first (the amend chain); the last is the current one. */
  clientOrderIds: string[]
  account: string
  symbol: string
  side: Side
  type: OrderType
  tif: TimeInForce
  postOnly: boolean
  reduceOnly: boolean
  qty: Units
  price?: Units
  cumQty: Units
  createdAtMs: number
}

/** An order that ended within the venue's trade history: held, with its trades, as the venue would still hold it. */
export interface EndedOrder extends RestingOrder {
  status: Exclude<VenueOrderStatus, 'open' | 'partially_filled'>
  endedAtMs: number
}

export interface SimMemory {
  /**
   * Marks the ids issued from now on (`<venue>-<session>-o1`, `<venue>-<session>-x1`), so none repeats an id issued
   * before the restart. Unique per start: serve uses the start time.
   */
  session: string
  orders: RestingOrder[]
  ended: EndedOrder[]
  /** The trades of those orders, in execution order, with the ids the venue reported them under. */
  trades: VenueTrade[]
  /** What trading moved per account and asset (the sim holds no funding). */
  balances: Map<string, Map<string, Units>>
}
