/**
 * A tracked order's one layout (TrackedOrder in orders.ts says why it matters): made when the order is accepted
 * (trackAccepted) and copied (copyTrackedOrder) with every member every order has, in one order; the members only
 * some orders have (RARE_MEMBERS) are copied only when present, in the order they were added.
 */

import type { EventOf } from '../domain/events/index.ts'
import type { TrackedOrder } from './orders.ts'

/** The tracked order of an acceptance recorded at `lsn`: every member every order has, none of the rarer ones. */
export function trackAccepted(event: EventOf<'order.accepted'>, lsn: number): TrackedOrder {
  // Every member every order has, in the order copyTrackedOrder writes them: one layout for every held order.
  return {
    orderId: event.orderId,
    acceptedLsn: lsn,
    accountId: event.accountId,
    venue: event.venue,
    symbol: event.symbol,
    baseAsset: event.baseAsset,
    quoteAsset: event.quoteAsset,
    side: event.side,
    qty: event.qty,
    cumQty: 0n,
    status: 'Enqueued',
    clientId: event.venueClientOrderId,
    reservationAsset: event.reservationAsset,
    reservationTotal: event.reservationAmount,
    held: event.reservationAmount,
    amend: null,
    updatedAtMs: event.atMs,
    venueAcceptedAtMs: undefined,
  }
}

/**
 * A copy of `order` in the held orders' layout: a ledger's clone (ledger-clone.ts), an order read from a section
 * (section-orders.ts). It shares what is replaced rather than changed in place: its amend, its lists and facts.
 */
export function copyTrackedOrder(order: TrackedOrder): TrackedOrder {
  // Every member every order has, in the order trackAccepted writes them: one layout for every held order.
  const copy: TrackedOrder = {
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
    clientId: order.clientId,
    reservationAsset: order.reservationAsset,
    reservationTotal: order.reservationTotal,
    held: order.held,
    amend: order.amend,
    updatedAtMs: order.updatedAtMs,
    venueAcceptedAtMs: order.venueAcceptedAtMs,
  }
  if (hasRareMembers(order)) copyMembers(order, copy, RARE_MEMBERS)
  return copy
}

/** The members only some orders have, added when they occur (see TrackedOrder). */
const RARE_MEMBERS: ReadonlySet<string> = new Set(['amendClientIds', 'bootstrapSuspect', 'coveredFills', 'renamedReports', 'endedAs', 'syntheticPendingQty', 'syntheticPendingCash', 'syntheticFeeHeld', 'venueRanges', 'syntheticRanges'])
/** Those of them a section writes as members of their own, after the rest (section-orders.ts). */
const FACT_MEMBERS: ReadonlySet<string> = new Set(['coveredFills', 'renamedReports', 'endedAs'])

function hasRareMembers(order: TrackedOrder): boolean {
  return (
    order.amendClientIds !== undefined || order.bootstrapSuspect !== undefined || order.coveredFills !== undefined || order.renamedReports !== undefined ||
    order.endedAs !== undefined || order.syntheticPendingQty !== undefined || order.syntheticFeeHeld !== undefined || order.venueRanges !== undefined ||
    order.syntheticRanges !== undefined
  )
}

/** Copies the rarer venue facts `from` holds (FACT_MEMBERS) to `to`, in the order they were noted. */
export function copyFacts(from: TrackedOrder, to: object): void {
  if (from.coveredFills !== undefined || from.renamedReports !== undefined || from.endedAs !== undefined) copyMembers(from, to, FACT_MEMBERS)
}

/** Copies the members of `from` among `members` to `to`, in their order in `from` (most orders have none: see callers). */
function copyMembers(from: TrackedOrder, to: object, members: ReadonlySet<string>): void {
  const source = from as unknown as Record<string, unknown>
  const target = to as Record<string, unknown>
  for (const member in source) if (members.has(member)) target[member] = source[member]
}
