/**
 * Synthetic fills and the real fills they stand for. A venue answering status only (no trade query) is reconciled from
 * its cumulative quantity: what egress holds no fill for is booked as one synthetic fill, up to the venue's cumulative
 * quantity at that answer. The fills behind it are real and their reports may still arrive (a status read racing a
 * fill's execution report): booked again, the quantity would count twice — an order Filled in egress while part of it
 * rests at the venue, and a cancel of that part refused.
 *
 * The order remembers the highest venue cumulative quantity a synthetic fill booked up to (Order.syntheticCumQty). A
 * venue fill covers the venue range (cumQty − lastQty, cumQty]; the part of that range at or below the remembered
 * quantity was booked already. Ranges are compared, not arrival order, so fills reordered among themselves (fill 2
 * before fill 1) are matched the same way; a fill straddling the remembered quantity is booked for the part above it.
 *
 * A fill without a usable venue cumulative quantity (a report with no CumQty) cannot be placed and is booked whole,
 * as before. Covering errs towards booking too little: a shortfall shows up as the venue's cumulative quantity above
 * egress's at the next read-back and is booked then, while a double count would hold a wrong position for good.
 *
 * The synthetic fill's price (the order's limit) and fee (none) are a guess; the covering fill's are the venue's, and
 * they win. The order keeps the synthetic quantity not yet covered and what it was booked at (Order.syntheticPending…,
 * from `order.synthetic_pending`); a covering fill takes its share of it and books, as `order.fill_trued_up`, the
 * difference between the real cash and the synthetic cash for that share, and its fee. Once every real fill behind a
 * synthetic fill has arrived, the books hold exactly what they would had the real fills come first, to the unit.
 * Synthetic fills logged before `order.synthetic_pending` existed have nothing pending: their real fills book the fee
 * only, and the quantity stays at the synthetic price.
 */

import type { Units } from '../domain/decimal.ts'
import type { Order } from '../domain/orders.ts'
import { emit, type Emitter } from './emit.ts'
import { fillAmounts } from './ledger.ts'

const SYNTHETIC_EXEC_ID_PREFIX = 'reconcile:'

/** The execution id of a synthetic fill: one per venue cumulative quantity, so the same inference is never booked twice. */
export function syntheticExecId(venueClientOrderId: string, venueCumQty: Units): string {
  return `${SYNTHETIC_EXEC_ID_PREFIX}${venueClientOrderId}:${venueCumQty}`
}

/** How much of a venue fill a synthetic fill booked already (0 … lastQty). */
export function coveredQtyOf(syntheticCumQty: Units, fill: { lastQty: Units; venueCumQty: Units | null }): Units {
  const { lastQty, venueCumQty } = fill
  if (syntheticCumQty === 0n || venueCumQty === null || venueCumQty < lastQty) return 0n
  const rangeStart = venueCumQty - lastQty
  if (rangeStart >= syntheticCumQty) return 0n
  const covered = syntheticCumQty - rangeStart
  return covered < lastQty ? covered : lastQty
}

/**
 * Order.syntheticCumQty from the execution ids an order has applied, for states written before the field existed:
 * every synthetic fill's id carries the venue cumulative quantity it booked up to (syntheticExecId), and apply sets the
 * field to the highest of them, so replaying the same events gives the same value.
 */
export function syntheticCumQtyOfExecIds(execIds: Iterable<string>): Units {
  let highest = 0n
  for (const execId of execIds) {
    if (!execId.startsWith(SYNTHETIC_EXEC_ID_PREFIX)) continue
    const digits = execId.slice(execId.lastIndexOf(':') + 1)
    if (!/^[0-9]{1,40}$/.test(digits)) continue
    const cumQty = BigInt(digits)
    if (cumQty > highest) highest = cumQty
  }
  return highest
}

type PendingFigures = Pick<Order, 'syntheticPendingQty' | 'syntheticPendingCash' | 'syntheticPendingNotional'>

/**
 * The share of the pending synthetic quantity a real fill covering `coveredQty` reprices, and what the synthetic fills
 * booked for it: proportional (rounded down), and all that is left once the last of it is covered, so the shares add
 * up to what was booked. Covered quantity beyond what is pending (a synthetic fill logged before pending quantity was
 * kept, or a cover that erred towards covering) has nothing to reprice.
 */
export function pendingShareOf(order: PendingFigures, coveredQty: Units): { qty: Units; cash: Units; notional: Units } {
  const pendingQty = order.syntheticPendingQty
  if (coveredQty >= pendingQty) return { qty: pendingQty, cash: order.syntheticPendingCash, notional: order.syntheticPendingNotional }
  return { qty: coveredQty, cash: (order.syntheticPendingCash * coveredQty) / pendingQty, notional: (order.syntheticPendingNotional * coveredQty) / pendingQty }
}

export interface CoveringFill {
  execId: string
  lastPrice: Units
  venueTimeMs: number
  coveredQty: Units
  /** The part of the fill booked as its own `order.fill` (the rest above the synthetic quantity; 0 when none). */
  bookedQty: Units
  /** The fee this event books: the fill's, unless its `order.fill` booked it. */
  fee: Units
  feeAsset: string
}

/**
 * Trues up the synthetic quantity a real fill covered: its cash is the real fill's for the share (worked out as the
 * fill's cash with the share less its cash without it, so the share and the booked rest add up to exactly what the
 * whole fill would have booked), in place of the synthetic cash. Nothing is emitted when there is nothing to reprice
 * and no fee to book.
 */
export function emitTrueUp(emitter: Emitter, fill: CoveringFill, atMs: number): void {
  const { draft } = emitter
  const share = pendingShareOf(draft, fill.coveredQty)
  if (share.qty === 0n && fill.fee === 0n) return
  const withShare = fillAmounts(draft.side, fill.bookedQty + share.qty, fill.lastPrice)
  const without = fillAmounts(draft.side, fill.bookedQty, fill.lastPrice)
  emit(emitter, {
    type: 'order.fill_trued_up',
    atMs,
    orderId: draft.orderId,
    execId: fill.execId,
    qty: share.qty,
    lastPrice: fill.lastPrice,
    cash: withShare.cash - without.cash,
    notional: withShare.notional - without.notional,
    syntheticCash: share.cash,
    syntheticNotional: share.notional,
    fee: fill.fee,
    feeAsset: fill.feeAsset,
    venueTimeMs: fill.venueTimeMs,
  })
}
