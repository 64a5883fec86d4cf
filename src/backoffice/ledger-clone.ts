/** A deep copy of the back-office ledger (ledger-state.ts), for a snapshot's capture step. */

import { GenerationalMap } from '../domain/generational-map.ts'
import type { Units } from '../domain/decimal.ts'
import type { LedgerState } from './ledger-state.ts'
import { copyTrackedOrder } from './tracked-order-layout.ts'
import type { Position } from './positions.ts'

/**
 * A deep copy of the ledger (a snapshot's capture step: the copy is brought forward from the log while the live one
 * moves on). Hand-written for speed — it runs while intake waits; structuredClone took several times as long.
 */
export function cloneLedger(state: LedgerState): LedgerState {
  const books = new Map<string, Map<string, Units>>()
  for (const [book, assets] of state.books) books.set(book, new Map(assets))
  const positions = new Map<string, Position>()
  for (const [key, position] of state.positions) {
    const copy: Position = { ...position, fees: new Map(position.fees) }
    // Lots are replaced, never changed in place (synthetic-lots.ts): a new Map of the same lots is a deep copy.
    if (position.syntheticLots !== undefined) copy.syntheticLots = new Map(position.syntheticLots)
    positions.set(key, copy)
  }
  // In the held orders' layout (orders.ts), as small as the live ledger's: the projector keeps a snapshot's copy as its
  // replay base until the next snapshot. Each copied into the same generations (a plain Map is handed over whole).
  const orders = GenerationalMap.copyOf(state.orders, copyTrackedOrder)
  const reserved = new Map<string, Map<string, Units>>()
  for (const [accountId, assets] of state.reserved) reserved.set(accountId, new Map(assets))
  return {
    lastLsn: state.lastLsn,
    books,
    positions,
    orders,
    // A new Map in the same order: ended-order-list.ts builds its list for it on first use.
    endedOrders: new GenerationalMap(state.endedOrders),
    retention: state.retention === null ? null : { ...state.retention },
    takerFeeBps: state.takerFeeBps,
    holdRule: state.holdRule,
    retiredThroughAtMs: state.retiredThroughAtMs,
    venueAccounts: new Map([...state.venueAccounts].map(([venue, accounts]) => [venue, new Map(accounts)])),
    reserved,
    pendingLiquidity: new Map(state.pendingLiquidity),
    lotsUntrackedThroughLsn: state.lotsUntrackedThroughLsn,
    counters: { ...state.counters },
  }
}
