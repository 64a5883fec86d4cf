/**
 * The held orders in a back-office section (section.ts), as builds before this one wrote them: a section's bytes stay
 * what they were while the ledger's in-memory layout (TrackedOrder, orders.ts) changes for memory. An order is written
 * member by member in the order those builds held it: its client ids as one list (`clientIds`, its own first) where the
 * ledger keeps its own and its applied amends' apart; `bootstrapSuspect` on every order, false where the ledger holds
 * none; `venueAcceptedAtMs`, which the ledger has from the start, after `updatedAtMs`, where those builds added it when
 * the venue's `new` report came; the synthetic quantity pending a true-up and a sell's fee held for it, where it has them; where its fills
 * stand in the venue's cumulative quantity when not (0, cumQty] (venue-ranges.ts); then the rarer venue facts in the order they were noted. One history writes other
 * bytes than those builds did: a `new` report noted after one of those facts (they wrote `venueAcceptedAtMs` after
 * that fact, this build before it); reading either gives the same order.
 */

import { clientIdsOf, type TrackedOrder } from './orders.ts'
import { copyFacts, copyTrackedOrder } from './tracked-order-layout.ts'
import { venueRangesProblem } from './venue-ranges.ts'

/**
 * What the section writes for a held order: built as each order is written (encodeTagged's MapValueForm) and dropped
 * after. A value not in the ledger's layout (no own client id) is written as it is.
 */
export function sectionFormOf(order: TrackedOrder): unknown {
  if (typeof order !== 'object' || order === null || typeof order.clientId !== 'string') return order
  // A member whose value is undefined is left out (JSON writes none), as an absent member was.
  const form = {
    orderId: order.orderId,
    acceptedLsn: order.acceptedLsn,
    accountId: order.accountId,
    venue: order.venue,
    symbol: order.symbol,
    baseAsset: order.baseAsset,
    quoteAsset: order.quoteAsset,
    side: order.side,
    qty: order.qty,
    cumQty: order.cumQty,
    status: order.status,
    clientIds: clientIdsOf(order),
    reservationAsset: order.reservationAsset,
    reservationTotal: order.reservationTotal,
    held: order.held,
    amend: order.amend,
    bootstrapSuspect: order.bootstrapSuspect === true,
    updatedAtMs: order.updatedAtMs,
    venueAcceptedAtMs: order.venueAcceptedAtMs,
    // The synthetic quantity pending a true-up (TrackedOrder): absent on most orders, as in sections before it was
    // kept, which read as none pending (their holds did not keep it either).
    syntheticPendingQty: order.syntheticPendingQty,
    syntheticPendingCash: order.syntheticPendingCash,
    // A sell's fee allowance held for it (synthetic-fee-hold.ts): absent while none, as in sections before it was kept.
    syntheticFeeHeld: order.syntheticFeeHeld,
    // Where its fills stand in the venue's cumulative quantity (venue-ranges.ts): absent while that is (0, cumQty], as
    // in sections before it was kept, which read as such (those builds placed every fill there).
    venueRanges: order.venueRanges,
    syntheticRanges: order.syntheticRanges,
  }
  copyFacts(order, form)
  return form
}

/**
 * A held order as a section wrote it (`value`, fresh from its JSON) in the ledger's layout, or what is wrong with it:
 * its client ids must be a list of one or more strings (the held-order index and the venue facts read them). Its other
 * members are taken as they are: the section's checks (section.ts) look at those they rely on.
 */
export function trackedOrderFromSection(value: unknown): TrackedOrder | string {
  if (typeof value !== 'object' || value === null) return 'not an object'
  const written = value as TrackedOrder & { clientIds?: unknown }
  const { clientIds } = written
  if (!Array.isArray(clientIds) || clientIds.length === 0 || clientIds.some(notString)) return 'clientIds is not a list of client ids'
  const { syntheticPendingQty: pendingQty, syntheticPendingCash: pendingCash } = written as { syntheticPendingQty?: unknown; syntheticPendingCash?: unknown }
  if (pendingQty !== undefined && !(typeof pendingQty === 'bigint' && pendingQty > 0n && typeof pendingCash === 'bigint' && pendingCash >= 0n)) {
    return 'syntheticPendingQty is not a positive amount with a syntheticPendingCash of zero or more'
  }
  if (pendingQty === undefined && pendingCash !== undefined) return 'syntheticPendingCash without a syntheticPendingQty'
  const { syntheticFeeHeld: feeHeld } = written as { syntheticFeeHeld?: unknown }
  if (feeHeld !== undefined && !(typeof feeHeld === 'bigint' && feeHeld > 0n && pendingQty !== undefined && written.side === 'sell')) {
    return 'syntheticFeeHeld is not a positive amount held by a sell with synthetic quantity pending'
  }
  const rangesProblem = venueRangesProblem(written.venueRanges, typeof written.cumQty === 'bigint' ? written.cumQty : null) ?? venueRangesProblem(written.syntheticRanges, null)
  if (rangesProblem !== null) return `venueRanges or syntheticRanges: ${rangesProblem}`
  written.clientId = clientIds[0] as string
  if (clientIds.length > 1) written.amendClientIds = clientIds.slice(1)
  // Only a marked order holds the member (TrackedOrder); a section writes it on every order.
  if (written.bootstrapSuspect !== true) delete written.bootstrapSuspect
  return copyTrackedOrder(written)
}

function notString(value: unknown): boolean {
  return typeof value !== 'string'
}
