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
 */

import type { Units } from '../domain/decimal.ts'

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
