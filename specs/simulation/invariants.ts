/**
 * The invariants checked after every step, and the end-of-run agreement between egress and the venue. Each check
 * returns violations (invariant name + what was seen and what was expected) rather than throwing, so a run reports
 * every broken rule of the step that broke first.
 */

import type { Units } from '../../src/domain/decimal.ts'
import { formatDecimal, mulUnits } from '../../src/domain/decimal.ts'
import { orderIdFromClientId, type Order } from '../../src/domain/orders.ts'
import { isTerminal } from '../../src/domain/states.ts'
import { heldFor, type KernelState } from '../../src/kernel/index.ts'
import type { SimInspection, SimOrderView } from '../../src/venues/sim/index.ts'
import type { VenueWatch } from './venue-watch.ts'

export interface Violation {
  invariant: string
  message: string
  /** The id of the known, reported bug this violation is attributed to (see known-issues.ts), if any. */
  known?: string
}

export const INVARIANTS = [
  'no-double-send',
  'fills-monotonic',
  'reservations',
  'unknown-converges',
  'lane0-bounded',
  'lane0-priority',
  'replay-equals-live',
  'venue-agrees',
  'ledger-agrees',
  'backoffice-agrees',
  'idempotency',
  'permissions',
  'oco-lists',
  'order-ttl',
  'market-protection',
  'runtime-errors',
] as const

/** Venue orders by the egress order they belong to (via the first client order id of their chain). */
export function venueOrdersByOrderId(inspection: SimInspection): Map<string, SimOrderView[]> {
  const byOrder = new Map<string, SimOrderView[]>()
  for (const venueOrder of inspection.orders) {
    const orderId = orderIdFromClientId(venueOrder.clientOrderIds[0] ?? '') ?? `?${venueOrder.clientOrderId}`
    const list = byOrder.get(orderId) ?? []
    list.push(venueOrder)
    byOrder.set(orderId, list)
  }
  return byOrder
}

/**
 * 1. At most one venue order per egress order, none the venue holds that egress never accepted, and no place of a
 * client order id the venue already held. The last is a second send even though it made no second venue order: the
 * sim refuses it (or acks the order it has) by its client id, as a real venue that dedupes would, so counting venue
 * orders alone never saw it. egress places an id again only after the venue did not act (a retryable answer) or was
 * proven not to hold it (a resend), so the count stays 0.
 */
export function checkNoDoubleSend(state: KernelState, inspection: SimInspection): Violation[] {
  const violations: Violation[] = []
  const duplicatePlaces = inspection.requests.duplicatePlaces
  if (duplicatePlaces > 0) {
    violations.push({ invariant: 'no-double-send', message: `the venue received ${duplicatePlaces} place(s) of a client order id it already held` })
  }
  for (const [orderId, venueOrders] of venueOrdersByOrderId(inspection)) {
    const order = state.orders.get(orderId)
    if (order === undefined) {
      violations.push({ invariant: 'no-double-send', message: `venue holds ${venueOrders.map((o) => o.venueOrderId).join(', ')} for ${orderId}, which egress never accepted` })
      continue
    }
    const carrying = venueOrders.filter((venueOrder) => venueOrder.clientOrderIds.includes(order.venueClientOrderId))
    if (carrying.length > 1) {
      violations.push({ invariant: 'no-double-send', message: `order ${orderId} has ${carrying.length} venue orders: ${carrying.map((o) => o.venueOrderId).join(', ')}` })
    }
  }
  return violations
}

/** 2. Per order, cumQty never decreases from one step to the next, never exceeds qty nor what the venue filled. */
export function checkFills(state: KernelState, previous: Map<string, Units>, venueByOrder: Map<string, SimOrderView[]>): Violation[] {
  const violations: Violation[] = []
  for (const order of state.orders.values()) {
    const before = previous.get(order.orderId) ?? 0n
    if (order.cumQty < before) {
      violations.push({ invariant: 'fills-monotonic', message: `order ${order.orderId} cumQty went from ${formatDecimal(before)} to ${formatDecimal(order.cumQty)}` })
    }
    if (order.cumQty > order.qty) {
      violations.push({ invariant: 'fills-monotonic', message: `order ${order.orderId} overfilled: ${formatDecimal(order.cumQty)} of ${formatDecimal(order.qty)}` })
    }
    const venueCumQty = venueByOrder.get(order.orderId)?.[0]?.cumQty ?? 0n
    if (order.cumQty > venueCumQty) {
      violations.push({ invariant: 'fills-monotonic', message: `order ${order.orderId} has cumQty ${formatDecimal(order.cumQty)} but the venue filled ${formatDecimal(venueCumQty)}` })
    }
    previous.set(order.orderId, order.cumQty)
  }
  return violations
}

/** 3. Reservations are never negative, are zero at terminal states (but a buy's synthetic quantity pending a true-up), and each account's totals are the sum of its orders'. */
export function checkReservations(state: KernelState): Violation[] {
  const violations: Violation[] = []
  const expected = new Map<string, Units>()
  const openCount = new Map<string, number>()
  for (const order of state.orders.values()) {
    const { reservation, amend } = order
    // While an amend is requested or in flight the order may become either, so it holds up to the larger worst case.
    const amendPending = amend !== null && amend.stage !== 'failed'
    const ceiling = amendPending && amend.reservationTotal > reservation.total ? amend.reservationTotal : reservation.total
    if (reservation.remaining < 0n || reservation.remaining > ceiling) {
      violations.push({ invariant: 'reservations', message: `order ${order.orderId} holds ${formatDecimal(reservation.remaining)} of ${formatDecimal(ceiling)}` })
    }
    const key = `${order.accountId}/${reservation.asset}`
    // A sell's fee allowance for its synthetic quantity pending, held in its quote asset beside (Order.syntheticFeeHeld).
    if (order.syntheticFeeHeld > 0n) expected.set(`${order.accountId}/${order.quoteAsset}`, (expected.get(`${order.accountId}/${order.quoteAsset}`) ?? 0n) + order.syntheticFeeHeld)
    if (isTerminal(order.status)) {
      // Nothing but what a buy's synthetic quantity pending a true-up keeps held (src/kernel/reservations.ts).
      if (reservation.remaining !== heldFor(order)) {
        violations.push({ invariant: 'reservations', message: `order ${order.orderId} is ${order.status} but holds ${formatDecimal(reservation.remaining)} ${reservation.asset}, its pending synthetic quantity ${formatDecimal(heldFor(order))}` })
      }
      expected.set(key, (expected.get(key) ?? 0n) + reservation.remaining)
      continue
    }
    // And never less than its worst case: an open order the venue may fill holds what it can still cost.
    const held = heldFor(order)
    if (reservation.remaining < held) {
      violations.push({ invariant: 'reservations', message: `order ${order.orderId} is ${order.status} and holds ${formatDecimal(reservation.remaining)}, less than its worst case ${formatDecimal(held)}` })
    }
    openCount.set(order.accountId, (openCount.get(order.accountId) ?? 0) + 1)
    expected.set(key, (expected.get(key) ?? 0n) + reservation.remaining)
  }
  for (const [accountId, ledger] of state.accounts) {
    for (const [asset, reserved] of ledger.reserved) {
      const key = `${accountId}/${asset}`
      if (reserved < 0n) violations.push({ invariant: 'reservations', message: `${key} reserved is negative: ${formatDecimal(reserved)}` })
      if (reserved !== (expected.get(key) ?? 0n)) {
        violations.push({ invariant: 'reservations', message: `${key} reserved ${formatDecimal(reserved)}, open orders hold ${formatDecimal(expected.get(key) ?? 0n)}` })
      }
      expected.delete(key)
    }
    if ((state.openOrders.get(accountId) ?? 0) !== (openCount.get(accountId) ?? 0)) {
      violations.push({ invariant: 'reservations', message: `${accountId} open-order count ${state.openOrders.get(accountId) ?? 0}, orders say ${openCount.get(accountId) ?? 0}` })
    }
  }
  for (const [key, amount] of expected) {
    if (amount !== 0n) violations.push({ invariant: 'reservations', message: `${key}: open orders hold ${formatDecimal(amount)} but the account reserves nothing` })
  }
  return violations
}

const AGREEING: Readonly<Record<string, readonly string[]>> = {
  open: ['AckedOpen', 'Partial'],
  partially_filled: ['Partial'],
  filled: ['Filled'],
  canceled: ['Canceled'],
  rejected: ['Rejected'],
  expired: ['Expired'],
}

/**
 * End of run: each order's state and cumQty match the venue's record of it; orders the venue never had ended without
 * it. A mismatch is attributed to a lost report only when the venue's deciding report for that order (the missing
 * fill, the `canceled` or `expired`) never reached a running egress.
 */
export function checkVenueAgreement(state: KernelState, inspection: SimInspection, watch: VenueWatch): Violation[] {
  const violations: Violation[] = []
  const byOrder = venueOrdersByOrderId(inspection)
  const missedFills = new Map<string, string[]>()
  for (const trade of inspection.trades) {
    const orderId = orderIdFromClientId(trade.clientOrderId)
    const order = orderId === null ? undefined : state.orders.get(orderId)
    if (order === undefined || order.execIds.has(trade.execId)) continue
    const list = missedFills.get(order.orderId) ?? []
    list.push(trade.execId)
    missedFills.set(order.orderId, list)
  }
  for (const order of state.orders.values()) {
    const venueOrder = byOrder.get(order.orderId)?.[0]
    const problem = venueOrder === undefined ? withoutVenueOrder(order) : againstVenueOrder(order, venueOrder)
    const missed = missedFills.get(order.orderId) ?? []
    if (problem === null && missed.length === 0) continue
    const message = `order ${order.orderId}: ${problem ?? `${missed.length} venue fill(s) never applied`}${missed.length > 0 ? ` (missed fills ${missed.join(', ')})` : ''}`
    const known = venueOrder === undefined ? null : lostReportIssue(order, venueOrder, missed, watch)
    violations.push(known === null ? { invariant: 'venue-agrees', message } : { invariant: 'venue-agrees', message, known })
  }
  return violations
}

function lostReportIssue(order: Order, venueOrder: SimOrderView, missed: string[], watch: VenueWatch): string | null {
  if (missed.some((execId) => watch.delivered(execId))) return null // egress got the fill and did not apply it
  const terminalReport = venueOrder.status === 'canceled' ? 'canceled' : venueOrder.status === 'expired' ? 'expired' : null
  // A lost canceled/expired report explains an order egress still thinks is live.
  const statusLost = terminalReport !== null && !isTerminal(order.status) && !watch.deliveredKind(order.orderId, terminalReport)
  // Lost fills explain a short cumQty and the state that goes with it (live rather than Filled, AckedOpen rather than Partial).
  const stateExplained = (AGREEING[venueOrder.status] ?? []).includes(order.status) || !isTerminal(order.status)
  const fillsLost = missed.length > 0 && stateExplained
  if (!statusLost && !fillsLost) return null
  return order.status === 'CancelPending' && statusLost ? 'cancel-pending-without-report' : 'lost-report-never-recovered'
}

function withoutVenueOrder(order: Order): string | null {
  if (order.cumQty !== 0n) return `${order.status} with cumQty ${formatDecimal(order.cumQty)}, but the venue never had it`
  if (order.status === 'Canceled' || order.status === 'Rejected' || order.status === 'Failed') return null
  return `${order.status}, but the venue never had it`
}

function againstVenueOrder(order: Order, venueOrder: SimOrderView): string | null {
  const states = AGREEING[venueOrder.status] ?? []
  const sameState = states.includes(order.status) && (venueOrder.status !== 'open' || (order.status === 'Partial') === venueOrder.cumQty > 0n)
  if (sameState && venueOrder.cumQty === order.cumQty) {
    // An order still open at both must be the same order: amends applied on one side are applied on the other.
    if (venueOrder.status !== 'open' && venueOrder.status !== 'partially_filled') return null
    if (venueOrder.qty === order.qty && (venueOrder.price ?? null) === order.price) return null
    return `egress holds qty ${formatDecimal(order.qty)} @${order.price === null ? 'market' : formatDecimal(order.price)}, venue ${venueOrder.venueOrderId} qty ${formatDecimal(venueOrder.qty)} @${venueOrder.price === undefined ? 'market' : formatDecimal(venueOrder.price)} (amend ${order.amend === null ? 'none' : `${order.amend.amendId} ${order.amend.stage}`})`
  }
  return `egress ${order.status} cumQty ${formatDecimal(order.cumQty)}, venue ${venueOrder.venueOrderId} ${venueOrder.status} cumQty ${formatDecimal(venueOrder.cumQty)}`
}

/**
 * End of run: what egress booked per account and asset equals its funding plus the venue trades egress applied
 * (trades it never received are the venue-agrees check's business). Synthetic reconcile fills have no venue trade,
 * so a booking that differs from the venue's is caught here.
 */
export function checkLedger(state: KernelState, inspection: SimInspection, funded: Map<string, Units>): Violation[] {
  const venueMoves = new Map<string, Units>()
  for (const trade of inspection.trades) {
    const orderId = orderIdFromClientId(trade.clientOrderId)
    if (orderId === null || state.orders.get(orderId)?.execIds.has(trade.execId) !== true) continue
    const [base, quote] = assetsOf(state, trade.symbol)
    const sign = trade.side === 'buy' ? 1n : -1n
    // The cash the venue moves: qty × price rounded against the account (a buy pays up, a sell receives down), as the
    // sim venue charges it (README "Ledger arithmetic"); truncating it passed only while no sim trade's cash rounded.
    const cash = mulUnits(trade.qty, trade.price, trade.side === 'buy' ? 'up' : 'down')
    add(venueMoves, `${trade.account}/${base}`, sign * trade.qty)
    add(venueMoves, `${trade.account}/${quote}`, -sign * cash - trade.fee)
  }
  const violations: Violation[] = []
  const keys = new Set<string>([...venueMoves.keys()])
  for (const [accountId, ledger] of state.accounts) for (const asset of ledger.balances.keys()) keys.add(`${accountId}/${asset}`)
  for (const key of [...keys].sort()) {
    const [accountId = '', asset = ''] = key.split('/')
    const booked = state.accounts.get(accountId)?.balances.get(asset) ?? 0n
    const expected = (funded.get(key) ?? 0n) + (venueMoves.get(key) ?? 0n)
    if (booked !== expected) {
      violations.push({ invariant: 'ledger-agrees', message: `${key}: egress books ${formatDecimal(booked)}, funding + the venue trades it applied give ${formatDecimal(expected)}` })
    }
  }
  return violations
}

function assetsOf(state: KernelState, symbol: string): [string, string] {
  const instrument = state.instruments.get(`sim:${symbol}`)
  return [instrument?.baseAsset ?? symbol, instrument?.quoteAsset ?? 'USD']
}

function add(map: Map<string, Units>, key: string, delta: Units): void {
  map.set(key, (map.get(key) ?? 0n) + delta)
}

/**
 * End of run: no venue trade of a market order sent with a protection price is worse than it — a buy's above, a sell's
 * below (src/kernel/intake/sent-order.ts marketProtectionPrice): the venue was asked for a limit at it. Returns the
 * violations and how many such trades there were.
 */
export function checkProtectedFills(state: KernelState, inspection: SimInspection): { violations: Violation[]; trades: number } {
  const violations: Violation[] = []
  let trades = 0
  for (const trade of inspection.trades) {
    const orderId = orderIdFromClientId(trade.clientOrderId)
    const order = orderId === null ? undefined : state.orders.get(orderId)
    if (order === undefined || order.type !== 'market' || order.protectionPrice === null) continue
    trades++
    const worse = order.side === 'buy' ? trade.price > order.protectionPrice : trade.price < order.protectionPrice
    if (worse) {
      violations.push({ invariant: 'market-protection', message: `order ${order.orderId} (market ${order.side}, protected at ${formatDecimal(order.protectionPrice)}) traded ${trade.execId} at ${formatDecimal(trade.price)}` })
    }
  }
  return { violations, trades }
}
