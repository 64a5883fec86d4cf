/**
 * What a sim venue resumes from when the process that held it restarts. A real venue outlives the gateway; the sim
 * lives inside it, so without this a restart would be a venue wipe: resting orders gone, balances back to nothing, and
 * order and execution ids issued again from 1 — ids that earlier orders already carry. serve builds the memory from
 * egress's own log (src/runtime/paper-sim-memory.ts), the only record of what the sim did.
 */

import type { Units } from '../../domain/decimal.ts'
import type { VenueOrderStatus, VenueTrade } from '../adapter.ts'
import { simOrder, type SimOrder, type SimOrderFields } from './order.ts'

/**
 * An order resting at the venue when it stopped, as the venue's own reports left it: a SimOrder's lasting fields
 * (its client-id chain's last entry is the current id; sequence and expiry are the resumed venue's to give).
 */
export type RestingOrder = Pick<
  SimOrderFields,
  'venueOrderId' | 'clientOrderIds' | 'account' | 'symbol' | 'side' | 'type' | 'tif' | 'postOnly' | 'reduceOnly' | 'qty' | 'price' | 'cumQty' | 'createdAtMs'
>

/** An order that ended within the venue's trade history: held, with its trades, as the venue would still hold it. */
export interface EndedOrder extends RestingOrder {
  status: Exclude<VenueOrderStatus, 'open' | 'partially_filled'>
  endedAtMs: number
}

/** A trade the venue made and never reported: all but its execution id (SimMemory.unreported). */
export type UnreportedTrade = Omit<VenueTrade, 'execId'>

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
  /**
   * Trades of those orders the venue made and never reported (egress booked them as synthetic fills: it read the
   * order's filled quantity, not the trades), in execution order. Their ids died with the venue: the resumed venue
   * issues them new ones, under its session, as it resumes.
   */
  unreported: UnreportedTrade[]
  /** What trading moved per account and asset (the sim holds no funding). */
  balances: Map<string, Map<string, Units>>
  /**
   * What each account holds there besides its trades (account → asset → amount), replacing SimVenueOptions.deposits:
   * the fundings egress's log holds, which a config read at this start may no longer state. Absent: the options' stay.
   */
  deposits?: Record<string, Record<string, Units>>
}

/**
 * The orders of `memory` as the resumed book holds them: numbered 1, 2, … in creation order (the venue's own order),
 * each with when it ended (0 for a resting one).
 */
export function heldOrdersOf(memory: SimMemory, dayOrderTtlMs: number): { order: SimOrder; endedAtMs: number }[] {
  const remembered = [
    ...memory.ended.map(({ endedAtMs, ...order }) => ({ order, endedAtMs })),
    ...memory.orders.map((order) => ({ order: { ...order, status: order.cumQty > 0n ? ('partially_filled' as const) : ('open' as const) }, endedAtMs: 0 })),
  ].sort((a, b) => a.order.createdAtMs - b.order.createdAtMs)
  return remembered.map(({ order: kept, endedAtMs }, index) => {
    const order = simOrder({
      ...kept,
      clientOrderId: kept.clientOrderIds.at(-1) ?? kept.venueOrderId,
      sequence: index + 1,
      ...(kept.tif === 'DAY' ? { expireAtMs: kept.createdAtMs + dayOrderTtlMs } : {}),
    })
    return { order, endedAtMs }
  })
}

/** Two trade lists, each in execution order, as one (a trade of `a` first at the same venue time). */
export function mergedByTime(a: readonly VenueTrade[], b: readonly VenueTrade[]): VenueTrade[] {
  const merged: VenueTrade[] = []
  let bIndex = 0
  for (const trade of a) {
    while (bIndex < b.length && b[bIndex]!.venueTimeMs < trade.venueTimeMs) merged.push(b[bIndex++]!)
    merged.push(trade)
  }
  merged.push(...b.slice(bIndex))
  return merged
}
