/**
 * Venue fills a synthetic fill had already booked (`order.fill_covered`, src/kernel/synthetic-cover.ts), as the back
 * office keeps them for the trades check. Such a fill books no quantity of its own for the covered part — the synthetic
 * fill booked it, and a true-up swaps in the real price and fee — so the query model's fill records do not show it:
 * a fill straddling the synthetic quantity has an `order.fill` of its execId for the rest only, and a wholly covered
 * one has none. Egress's record of the venue trade is the covered part plus that rest, at the fill's real price and
 * fee (booked once: with the rest's `order.fill` when it has one, else with the true-up).
 *
 * Kept on the held order (TrackedOrder.coveredFills): the trades check compares only held orders, and an order has
 * covered fills only when a status-only reconcile booked a synthetic fill for it, so most orders carry none. Derived
 * from the log's `order.fill_covered` records, so replaying a log written before this was kept gives them too; a
 * back-office snapshot section written before it has none for the orders it holds (the README says what that means).
 */

import type { Units } from '../domain/decimal.ts'
import type { EventOf } from '../domain/events/index.ts'
import type { Liquidity } from './ledger-state.ts'
import type { TrackedOrder } from './orders.ts'

export interface CoveredFill {
  /** The LSN of its `order.fill_covered`: the trades check compares it only when its fills are read that far. */
  lsn: number
  execId: string
  /** The part of the venue fill a synthetic fill booked (the rest, if any, is an `order.fill` of the same execId). */
  coveredQty: Units
  /** The venue fill's own figures: its whole quantity's price and fee. */
  price: Units
  fee: Units
  feeAsset: string
  /**
   * The venue fill's liquidity flag from its report, if one was seen (null: none; absent: noted by a build before it
   * was kept), for the row its true-up lists (true-up-fills.ts): the report's flag goes to the part of the fill booked
   * as its own `order.fill`, which comes between the two.
   */
  liquidity?: Liquidity | null
}

/**
 * Notes a covered fill (its event at `lsn`) on its order, with `liquidity` from its report. The list is replaced, never
 * changed in place: a cloned ledger shares it.
 */
export function noteCoveredFill(order: TrackedOrder, event: EventOf<'order.fill_covered'>, at: { lsn: number; liquidity: Liquidity | null }): void {
  const { lsn, liquidity } = at
  const { execId, coveredQty, lastPrice: price, fee, feeAsset } = event
  const covered: CoveredFill = { lsn, execId, coveredQty, price, fee, feeAsset, liquidity }
  order.coveredFills = [...(order.coveredFills ?? []), covered]
}

/**
 * What is wrong with an order's covered fills as read from a snapshot section, or null: they reach the trades check
 * and the rows true-ups list (true-up-fills.ts), so each must be what noteCoveredFill writes.
 */
export function coveredFillsProblem(coveredFills: unknown): string | null {
  if (coveredFills === undefined) return null
  if (!Array.isArray(coveredFills)) return 'coveredFills is not a list'
  for (const [index, fill] of coveredFills.entries()) {
    const covered = fill as Partial<Record<keyof CoveredFill, unknown>> | null
    const well =
      typeof covered === 'object' && covered !== null && Number.isSafeInteger(covered.lsn) && (covered.lsn as number) > 0 &&
      typeof covered.execId === 'string' && typeof covered.coveredQty === 'bigint' && covered.coveredQty >= 0n &&
      typeof covered.price === 'bigint' && typeof covered.fee === 'bigint' && typeof covered.feeAsset === 'string' &&
      (covered.liquidity === undefined || covered.liquidity === null || covered.liquidity === 'maker' || covered.liquidity === 'taker')
    if (!well) return `coveredFills[${index}] is not a covered fill`
  }
  return null
}

/** What the trades check compares with a venue trade: egress's record of it. */
export interface RecordedTrade {
  execId: string
  side: 'buy' | 'sell'
  qty: Units
  price: Units
  fee: Units
  feeAsset: string
  synthetic: boolean
}

/**
 * Adds the covered fills of `order` booked through `toLsn` to `recorded` (execId → record, filled from the order's
 * fill records through the same LSN): a covered fill's record is its covered quantity plus the rest its execId booked,
 * at its own price and fee. Returns the execIds it added or changed.
 */
export function addCoveredFills(recorded: Map<string, RecordedTrade>, order: TrackedOrder, toLsn: number): string[] {
  const execIds: string[] = []
  for (const covered of order.coveredFills ?? []) {
    if (covered.lsn > toLsn) continue
    const restQty = recorded.get(covered.execId)?.qty ?? 0n
    const { execId, price, fee, feeAsset } = covered
    recorded.set(execId, { execId, side: order.side, qty: covered.coveredQty + restQty, price, fee, feeAsset, synthetic: false })
    execIds.push(execId)
  }
  return execIds
}
