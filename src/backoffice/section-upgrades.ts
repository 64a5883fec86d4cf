/**
 * Reading a back-office section written by an older build (section.ts decodeSection): each older layout brought to the
 * next, as the build that wrote it would have it read today.
 */

import { isTerminal } from '../domain/states.ts'
import type { LedgerState } from './ledger-state.ts'
import { countVenueAccount } from './ledger.ts'
import type { TrackedOrder } from './orders.ts'
import { ledgerRetentionOf } from './retention.ts'
import type { SectionUpgradeSource } from './section.ts'

/**
 * A version 1 ledger (every order ever, no retention) as version 2: each order's acceptedLsn is 0 (unknown: its fills
 * are read from the start), the ended orders are listed oldest end first with the end time the kernel holds for them,
 * or 0 for one it no longer holds (it cannot book a fill for it, so the ledger may retire it at once), the retention
 * follows the kernel's, and the venues' accounts are those of its orders. Fields of the wrong type are left for the
 * checks after it to refuse.
 */
export function upgradeV1Ledger(ledger: LedgerState, kernel: SectionUpgradeSource | null): LedgerState {
  if (!(ledger?.orders instanceof Map) || typeof ledger.counters !== 'object' || ledger.counters === null) return ledger
  const ended: [string, number][] = []
  const venueAccounts = new Map<string, Map<string, number>>()
  for (const order of ledger.orders.values()) {
    if (order.acceptedLsn === undefined) order.acceptedLsn = 0
    if (isTerminal(order.status)) ended.push([order.orderId, kernel?.terminalOrderIds.get(order.orderId) ?? 0])
    countVenueAccount(venueAccounts, order.venue, order.accountId)
  }
  // Stable: orders with the same end time keep their acceptance order.
  ended.sort((a, b) => a[1] - b[1])
  const params = kernel?.config?.params
  return {
    ...ledger,
    endedOrders: new Map(ended),
    retention: params === undefined ? null : ledgerRetentionOf(params),
    retiredThroughAtMs: 0,
    venueAccounts,
    counters: { ...ledger.counters, retiredOrders: 0, unbookedFills: 0 },
  }
}

/**
 * Whether an order of a section written before the ledger kept bootstrap marks (TrackedOrder.bootstrapSuspect) is one:
 * only a Failed order may be (retention.ts keeps it for a start's resend). With the kernel at hand, one it still holds
 * as a suspect, or holds reopened (a resend the log after the section holds: the ledger must not retire it before);
 * offline, every Failed order — held longer than needed rather than retired before its resend.
 */
export function suspectBeforeMarks(order: TrackedOrder, kernel: SectionUpgradeSource | null): boolean {
  if (order.status !== 'Failed') return false
  if (kernel === null) return true
  const held = kernel.orders.get(order.orderId)
  return held !== undefined && (held.bootstrapSuspect || held.status !== 'Failed')
}

/**
 * A version 1 or 2 ledger as version 3: no position has lots, and synthetic quantity booked through the section's LSN
 * is marked untracked. Its true-ups split by the rule before lots, as the build that wrote the section split every
 * true-up it booked: rebuilding the lots would take the log from each synthetic fill on, which a compacted log no
 * longer holds, and on a whole log a ledger so rebuilt would still hold the older split of every true-up already
 * booked. The replay check folds from genesis with the same untracked LSN, which repeats that build's split
 * (projector.ts replayBaseLedger).
 */
export function upgradeToLots(ledger: LedgerState, lsn: number): LedgerState {
  if (typeof ledger !== 'object' || ledger === null) return ledger
  return { ...ledger, lotsUntrackedThroughLsn: lsn }
}

/**
 * A version 3 ledger as version 4: every segment's price is null (that build kept none), every lot not mixed. Fields
 * of the wrong type are left for the checks after it to refuse.
 */
export function upgradeToPricedLots(ledger: LedgerState | undefined): LedgerState | undefined {
  if (!(ledger?.positions instanceof Map)) return ledger
  for (const position of ledger.positions.values()) {
    const lots = (position as { syntheticLots?: unknown } | null)?.syntheticLots
    if (!(lots instanceof Map)) continue
    for (const lot of lots.values()) {
      if (typeof lot !== 'object' || lot === null) continue
      ;(lot as { mixedPrices?: unknown }).mixedPrices ??= false
      const segments = (lot as { segments?: unknown }).segments
      if (Array.isArray(segments)) for (const segment of segments) if (typeof segment === 'object' && segment !== null) segment.price ??= null
    }
  }
  return ledger
}
