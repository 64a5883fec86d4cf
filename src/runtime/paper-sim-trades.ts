/**
 * The venue trades of one order as the paper sim resumes them (paper-sim-memory.ts): egress's record of each venue
 * trade, the one the back office's trades check compares with the venue (covered-fills.ts). That is the order's real
 * fill records, and for a trade a synthetic fill had booked first (`order.fill_covered`; a true-up swapped in its real
 * price and fee) the covered part plus the rest its execId booked as a fill record, at the trade's own price and fee.
 * Such a trade has no fill record of its own when it was covered whole: read from the fill records alone, the resumed
 * sim lost it and the trades check broke against the sim after a restart.
 *
 * A trade's venue time is its fill record's; for one covered whole, its true-up's (the query model's true-up fill), else
 * the latest venue time among the order's fills (a synthetic fill's is when reconciliation read the order, after the
 * trade): a query model upgraded in place holds no true-up fill through some LSN (store-schema.ts). Its client id is
 * the one the venue executed it under (venue-facts.ts tradeClientOrderId: after an amend, the amend's), or the order's
 * own where the ledger holds no facts of it.
 *
 * The synthetic quantity still pending at the stop stands for trades the venue made and never reported (their reports
 * and the trade list egress read missed them): they are not in the log, so the resumed venue would not have them, and
 * the trades check would find the order's filled quantity short at the sim after a restart. unreportedTradesOf gives
 * them back as the log knows them: at their synthetic fills' price and fee (zero), as the books hold them.
 */

import { addCoveredFills, type RecordedTrade } from '../backoffice/covered-fills.ts'
import type { FillRecord, TrackedOrder } from '../backoffice/index.ts'
import { tradeClientOrderId } from '../backoffice/venue-facts.ts'
import type { Units } from '../domain/decimal.ts'
import type { Order } from '../domain/orders.ts'
import type { VenueTrade } from '../venues/adapter.ts'
import type { UnreportedTrade } from '../venues/sim/index.ts'

export interface OrderFills {
  /** The back office's fill records of the order, synthetic ones included (they are left out). */
  fills: readonly FillRecord[]
  /** The venue time of each true-up of the order, by the execId of the venue trade it matched. */
  trueUpTimesMs: ReadonlyMap<string, number>
  /** The ledger's record of the order (its covered fills, its venue facts); undefined when the ledger does not hold it. */
  tracked: TrackedOrder | undefined
}

export function venueTradesOf(order: Order, venueOrderId: string, sources: OrderFills): VenueTrade[] {
  const real = sources.fills.filter((fill) => !fill.synthetic)
  const recorded = new Map<string, RecordedTrade>()
  for (const fill of real) recorded.set(fill.execId, { ...fill, side: order.side, synthetic: false })
  if (sources.tracked !== undefined) addCoveredFills(recorded, sources.tracked, Number.MAX_SAFE_INTEGER)
  const byExecId = new Map(real.map((fill) => [fill.execId, fill]))
  const coveredLiquidity = new Map((sources.tracked?.coveredFills ?? []).map((covered) => [covered.execId, covered.liquidity ?? null]))
  const latestMs = sources.fills.reduce((latest, fill) => Math.max(latest, fill.venueTimeMs), order.acceptedAtMs)
  const facts = { ownClientOrderId: order.venueClientOrderId, renamedReports: sources.tracked?.renamedReports }
  return [...recorded.values()].map((trade) => {
    const fill = byExecId.get(trade.execId)
    const venueTimeMs = fill?.venueTimeMs ?? sources.trueUpTimesMs.get(trade.execId) ?? latestMs
    return {
      execId: trade.execId,
      clientOrderId: tradeClientOrderId(facts, { execId: trade.execId, venueTimeMs }),
      venueOrderId,
      account: order.accountId,
      symbol: order.symbol,
      side: order.side,
      qty: trade.qty,
      price: trade.price,
      fee: trade.fee,
      feeAsset: trade.feeAsset,
      liquidity: coveredLiquidity.get(trade.execId) ?? fill?.liquidity ?? 'taker',
      venueTimeMs,
    }
  })
}

/**
 * The trades the order's pending synthetic quantity (Order.syntheticPendingQty) stands for, one per synthetic fill
 * it is left in: real fills cover synthetic quantity from the lowest venue cumulative quantity up, so what is pending
 * is the latest synthetic fills' share. Each is at its synthetic fill's price, fee and time (when reconciliation read
 * the order, after the trade); quantity no synthetic fill record accounts for (none held) is not given.
 */
export function unreportedTradesOf(order: Order, venueOrderId: string, sources: OrderFills): UnreportedTrade[] {
  let pendingQty: Units = order.syntheticPendingQty
  const trades: UnreportedTrade[] = []
  const synthetic = sources.fills.filter((fill) => fill.synthetic).sort((a, b) => b.lsn - a.lsn)
  const facts = { ownClientOrderId: order.venueClientOrderId, renamedReports: sources.tracked?.renamedReports }
  for (const fill of synthetic) {
    if (pendingQty <= 0n) break
    const qty = fill.qty < pendingQty ? fill.qty : pendingQty
    pendingQty -= qty
    const { venueTimeMs } = fill
    trades.push({
      clientOrderId: tradeClientOrderId(facts, { execId: fill.execId, venueTimeMs }),
      venueOrderId,
      account: order.accountId,
      symbol: order.symbol,
      side: order.side,
      qty,
      price: fill.price,
      fee: fill.fee,
      feeAsset: fill.feeAsset,
      liquidity: fill.liquidity ?? 'taker',
      venueTimeMs,
    })
  }
  return trades.reverse()
}
