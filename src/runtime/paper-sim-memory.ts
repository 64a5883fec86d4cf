/**
 * The sim venue's memory (src/venues/sim/memory.ts) rebuilt from egress's own state after a restart. The sim lives in
 * the gateway's process and reported everything it did to egress, so the log holds what it held: the orders resting
 * there (the kernel's orders open at the venue, and the Unknown ones it had acked: ackedUnknownOf), the orders that
 * ended within its trade history, the trades of all of these (egress's record of each venue trade, true-ups included:
 * paper-sim-trades.ts), and what trading moved in each account (its positions). Without it a restart is a venue wipe
 * that only the sim suffers: orders egress shows open would never fill, /v1/reconcile would show balance breaks, and
 * the ids would start again from 1.
 *
 * What the log does not hold, the resumed sim does not either: a call the sim died with (a place, cancel or amend
 * whose effect never reached the log) counts as lost on its way, and reconciliation reads the order back as the resumed
 * sim holds it (a place never acked is not there, and bootstrap resends it while it is young). A trade a synthetic fill
 * still stands for at the stop (its real report never came) is in the log only as that synthetic fill: the resumed
 * sim holds it as such (paper-sim-trades.ts unreportedTradesOf), under an id of its own, so the trades check finds the
 * order's filled quantity at the sim as the books hold it.
 *
 * From the back office's ledger (src/backoffice/venue-facts.ts) come what the kernel's order does not keep: when the
 * venue took the order (its `new` report's venue time: a DAY order expires a day after it), which client id each trade
 * came under after an amend, and how an order that went Unknown after it ended had ended. A ledger without them (a
 * back-office section written before they were kept) resumes as before: an order created at its last send (at its
 * acceptance if never sent), trades under the order's own id, and such an Unknown order not held (reconciliation then
 * fails it, RECONCILE_NOT_FOUND; its trades are held all the same).
 */

import { tradingFlows, type FillRecord, type LedgerState, type Store, type TrackedOrder } from '../backoffice/index.ts'
import type { Units } from '../domain/decimal.ts'
import type { KernelState } from '../kernel/index.ts'
import { venueFormOf } from '../kernel/index.ts'
import type { Order } from '../domain/orders.ts'
import type { VenueTrade } from '../venues/adapter.ts'
import type { EndedOrder, RestingOrder, SimMemory, UnreportedTrade } from '../venues/sim/index.ts'
import { OPEN_AT_VENUE } from './bootstrap.ts'
import { unreportedTradesOf, venueTradesOf } from './paper-sim-trades.ts'

export interface SimMemorySources {
  state: KernelState
  ledger: LedgerState
  /** The back office's fills of one order, synthetic ones included (they are left out here). */
  fillsOf: (orderId: string) => FillRecord[]
  /** The venue time of each true-up of one order, by the execId of the trade it matched (paper-sim-trades.ts). */
  trueUpTimesOf: (orderId: string) => ReadonlyMap<string, number>
  venue: string
  session: string
  /** The start of the venue's trade history: orders that ended before it are not held any more. */
  historyFromMs: number
}

const ENDED_STATUS: ReadonlyMap<string, EndedOrder['status']> = new Map([
  ['Filled', 'filled'],
  ['Canceled', 'canceled'],
  ['Expired', 'expired'],
  ['Rejected', 'rejected'],
] as const)

export function simMemoryOf(sources: SimMemorySources): SimMemory {
  const { state, ledger, venue } = sources
  const orders: RestingOrder[] = []
  const ended: EndedOrder[] = []
  const held: { order: Order; venueOrderId: string }[] = []
  for (const order of state.orders.values()) {
    if (order.venue !== venue || order.venueOrderId === null) continue
    const tracked = ledger.orders.get(order.orderId)
    if (OPEN_AT_VENUE.has(order.status)) {
      orders.push(restingOf(order, order.venueOrderId, tracked))
      held.push({ order, venueOrderId: order.venueOrderId })
    } else if (order.status === 'Unknown') {
      const acked = ackedUnknownOf(order, { venueOrderId: order.venueOrderId, tracked, historyFromMs: sources.historyFromMs })
      if (acked === 'ended') {
        // Ended before it went Unknown, and how is not known: not on the book, but its trades (real ones the log holds)
        // are in the history.
        if (order.updatedAtMs >= sources.historyFromMs) held.push({ order, venueOrderId: order.venueOrderId })
        continue
      }
      if (acked === null) continue
      if (acked.ended === null) orders.push(acked.resting)
      else ended.push(acked.ended)
      held.push({ order, venueOrderId: order.venueOrderId })
    }
  }
  for (const [orderId, endedAtMs] of ledger.endedOrders) {
    const order = state.orders.get(orderId)
    const status = order === undefined ? undefined : ENDED_STATUS.get(order.status)
    if (order === undefined || status === undefined || order.venue !== venue || order.venueOrderId === null || endedAtMs < sources.historyFromMs) continue
    ended.push({ ...restingOf(order, order.venueOrderId, ledger.orders.get(orderId)), status, endedAtMs })
    held.push({ order, venueOrderId: order.venueOrderId })
  }
  const trades: VenueTrade[] = []
  const unreported: UnreportedTrade[] = []
  for (const { order, venueOrderId } of held) {
    const fills = { fills: sources.fillsOf(order.orderId), trueUpTimesMs: sources.trueUpTimesOf(order.orderId), tracked: ledger.orders.get(order.orderId) }
    trades.push(...venueTradesOf(order, venueOrderId, fills))
    if (order.syntheticPendingQty > 0n) unreported.push(...unreportedTradesOf(order, venueOrderId, fills))
  }
  trades.sort((a, b) => a.venueTimeMs - b.venueTimeMs)
  unreported.sort((a, b) => a.venueTimeMs - b.venueTimeMs)
  const balances = new Map<string, Map<string, Units>>()
  for (const position of ledger.positions.values()) {
    if (position.venue !== venue || balances.has(position.accountId)) continue
    balances.set(position.accountId, tradingFlows(ledger, position.accountId, venue))
  }
  return { session: sources.session, orders, ended, trades, unreported, balances }
}

/**
 * An Unknown order the venue acked (the log holds its venue order id): a later call's answer was lost (an amend's, a
 * cancel's) or venue news contradicted what egress held. The venue took it, so the sim holds it as the log last saw it:
 * filled in full, it ended filled (when egress last heard of it; null: before the venue's trade history); else it rests
 * with its filled quantity, price and client ids. What the lost call did is not in the log: the call died with the
 * process that held the sim, like a request lost on its way, and reconciliation reads the order back as the resumed
 * sim holds it. One that had ended before it went Unknown (news contradicting a cancel or an expiry) never rests
 * again, which would let a done order trade: it ended as the ledger says it had (TrackedOrder.endedAs), so that
 * reconciliation reads it back so and it takes that end again (null when it ended before the venue's trade history),
 * or, where the ledger does not say and the order holds nothing, it is not held ('ended'): a ledger section written
 * before `endedAs` was kept does not say, and there the order's hold tells, as far as it can — it released its hold
 * when it ended, and a build before the kernel held a revived order's worst case again (kernel/apply-order.ts) left
 * it at nothing; a live order always holds some. Its trades before it ended are still the venue's (simMemoryOf keeps
 * them in the history, else the back office's trades check found egress's fills of it missing at the resumed sim).
 */
function ackedUnknownOf(
  order: Order,
  at: { venueOrderId: string; tracked: TrackedOrder | undefined; historyFromMs: number },
): { resting: RestingOrder; ended: EndedOrder | null } | 'ended' | null {
  const { historyFromMs } = at
  const resting = restingOf(order, at.venueOrderId, at.tracked)
  if (order.cumQty >= order.qty) return order.updatedAtMs < historyFromMs ? null : { resting, ended: { ...resting, status: 'filled', endedAtMs: order.updatedAtMs } }
  const endedAs = at.tracked?.endedAs
  if (endedAs === undefined) return order.reservation.remaining !== 0n ? { resting, ended: null } : 'ended'
  const status = ENDED_STATUS.get(endedAs.status)
  if (status === undefined) return 'ended'
  return endedAs.atMs < historyFromMs ? null : { resting, ended: { ...resting, status, endedAtMs: endedAs.atMs } }
}

/**
 * The order as the venue holds it. It was created when the venue took it: its `new` report's venue time where the
 * ledger holds it, else its last send (before the venue took it, closer than the acceptance), else its acceptance.
 */
function restingOf(order: Order, venueOrderId: string, tracked: TrackedOrder | undefined): RestingOrder {
  const form = venueFormOf(order)
  const resting: RestingOrder = {
    venueOrderId,
    clientOrderIds: [...order.clientIdChain],
    account: order.accountId,
    symbol: order.symbol,
    side: order.side,
    // As it was sent: a protected market order is a limit at its protection price (venue-form.ts).
    type: form.type,
    tif: form.tif,
    postOnly: order.postOnly,
    reduceOnly: order.reduceOnly,
    qty: order.qty,
    cumQty: order.cumQty,
    createdAtMs: tracked?.venueAcceptedAtMs ?? order.lastSendAtMs ?? order.acceptedAtMs,
  }
  if (form.price !== undefined) resting.price = form.price
  return resting
}

/** SimMemorySources.trueUpTimesOf from the back office's query model: its true-up fills of the order (the fill list's). */
export function trueUpTimesOf(store: Pick<Store, 'listedFillRows'>, orderId: string): Map<string, number> {
  const times = new Map<string, number>()
  for (const row of store.listedFillRows({ orderId, limit: Number.MAX_SAFE_INTEGER })) {
    if (row.replaces_synthetic !== 0n) times.set(row.exec_id, Number(row.venue_time_ms))
  }
  return times
}
