/**
 * The real execution behind a true-up, as the query model lists it (table true_up_fills, `GET /v1/fills`).
 *
 * A true-up (`order.fill_trued_up`, src/kernel/synthetic-cover.ts) books no fill record: the synthetic fill's record
 * already holds the quantity, and the true-up swaps in the real cash and fee. The books are right, but a list of fill
 * records alone would keep showing the synthetic fill's guessed price for quantity that traded at another. So each
 * true-up the ledger books also gives this row: the real execution's id, price, fee and liquidity for the quantity it
 * repriced, keyed by the true-up's own LSN. It is not a second booking of that quantity — the fill list marks the
 * synthetic fill it supersedes (fill-list.ts) — and the ledger's counters, positions and the trades check, which read
 * fill records, do not see it.
 *
 * Its quantity is the true-up's (`qty`, what the kernel repriced; 0 when the synthetic fill was logged before pending
 * quantity was kept, so only the fee is booked and the quantity stays at the synthetic price: stored, but not listed
 * as a fill, store-fills.ts), its fee the true-up's (the real fill's, unless the same execution's `order.fill` for the
 * part above the synthetic quantity booked it), its cash the real cash for that quantity as the account sees it
 * (negative for a buy), like a fill record's.
 */

import type { EventOf } from '../domain/events/index.ts'
import type { FillRecord, Liquidity } from './ledger-state.ts'
import type { TrackedOrder } from './orders.ts'

export type TrueUpFill = Omit<FillRecord, 'synthetic'>

/** The row of the true-up `event` (at `lsn`) of `order`. */
export function trueUpFillOf(order: TrackedOrder, event: EventOf<'order.fill_trued_up'>, lsn: number): TrueUpFill {
  return {
    lsn,
    execId: event.execId,
    orderId: order.orderId,
    accountId: order.accountId,
    venue: order.venue,
    symbol: order.symbol,
    side: order.side,
    qty: event.qty,
    price: event.lastPrice,
    fee: event.fee,
    feeAsset: event.feeAsset,
    liquidity: coveredLiquidity(order, event.execId),
    cash: order.side === 'buy' ? -event.cash : event.cash,
    venueTimeMs: event.venueTimeMs,
    atMs: event.atMs,
  }
}

/** The liquidity noted with the order's covered fill of `execId` (covered-fills.ts), or null. */
function coveredLiquidity(order: TrackedOrder, execId: string): Liquidity | null {
  const covered = order.coveredFills ?? []
  for (let index = covered.length - 1; index >= 0; index--) {
    const fill = covered[index]
    if (fill?.execId === execId) return fill.liquidity ?? null
  }
  return null
}
