/**
 * The double-entry ledger: a pure projection of the log. `applyEvent(state, event, lsn)` folds one domain event into
 * the state (ledger-state.ts) and returns what it booked — the postings of its journal entry and, for a fill, the fill
 * record — so a caller can write them to the query model in the same batch. Entries are booked to the chart of books
 * of books.ts. Cash legs mirror the kernel's booking exactly (a buy pays qty × price rounded up, a sell receives it
 * rounded down) so the ledger and the kernel's balances can be reconciled to the unit.
 */

import { assert } from '../domain/assert.ts'
import { mulUnits, type Units } from '../domain/decimal.ts'
import type { DomainEvent, EventOf } from '../domain/events/index.ts'
import { isTerminal } from '../domain/states.ts'
import { HOLD_RULE_SYNTHETIC } from '../kernel/reservations.ts'
import { dropHeldEnded } from '../kernel/synthetic-held-ended.ts'
import { accountBook, bookEntry, feeBook, FUNDING_BOOK, venueBook } from './books.ts'
import { noteCoveredFill } from './covered-fills.ts'
import { noteOrderStatus } from './held-order-index.ts'
import type { Booked, FillRecord, LedgerState, Posting } from './ledger-state.ts'
import { addReserved, applyOrderEvent, takeSyntheticPending } from './orders.ts'
import { trackAccepted } from './tracked-order-layout.ts'
import { applyFillToPosition, applyTrueUpToPosition, noteSyntheticPending, noteTrueUpCover, positionFor, positionKey } from './positions.ts'
import { ledgerRetentionOf, noteSyntheticTaken, retainEnded } from './retention.ts'
import { holdSyntheticFee, keepSyntheticFee } from './synthetic-fee-hold.ts'
import { trueUpFillOf } from './true-up-fills.ts'
import { noteEndedAs, noteReportFacts } from './venue-facts.ts'
import { placeFill, takeSyntheticRanges } from './venue-ranges.ts'

export { cloneLedger } from './ledger-clone.ts'

/** Fill reports waiting for their fill event: it follows in the same command, so a handful suffices. */
const PENDING_LIQUIDITY_MAX = 1_024

const NOTHING: Booked = { postings: [], fill: null }

/** Folds one event into `state` (in place) and returns what it booked. Events must arrive in LSN order. */
export function applyEvent(state: LedgerState, event: DomainEvent, lsn: number): Booked {
  // This path runs for every event, twice (live and in the replay): assertions test first and build their text only on
  // failure, without the closure a message function costs per call.
  if (lsn <= state.lastLsn) assert(false, `ledger events must arrive in LSN order: ${lsn} after ${state.lastLsn}`)
  state.lastLsn = lsn
  switch (event.type) {
    case 'kernel.configured':
      state.retention = ledgerRetentionOf(event.config.params)
      state.takerFeeBps = event.config.params.takerFeeBps
      return NOTHING
    case 'kernel.hold_rule_adopted':
      state.holdRule = event.rule
      // The ended orders holding for synthetic quantity are indexed again from the ledger under the rule adopted.
      dropHeldEnded(state.endedOrders)
      return NOTHING
    case 'account.funded': {
      const booked = bookEntry(state, fundingPostings(event, lsn), null)
      state.counters.fundings += 1
      return booked
    }
    case 'order.accepted': {
      if (state.orders.has(event.orderId)) assert(false, `ledger: order ${event.orderId} accepted twice`)
      const order = trackAccepted(event, lsn)
      state.orders.set(order.orderId, order)
      noteOrderStatus(state.orders, order)
      countVenueAccount(state.venueAccounts, order.venue, order.accountId)
      addReserved(state.reserved, order.accountId, order.reservationAsset, order.held)
      return NOTHING
    }
    case 'inbox.report_accepted': {
      rememberLiquidity(state, event)
      const order = event.orderId === null ? undefined : state.orders.get(event.orderId)
      if (order !== undefined) noteReportFacts(order, event.report)
      return NOTHING
    }
    case 'order.fill':
      return bookFill(state, event, lsn)
    case 'order.fill_trued_up':
      return bookTrueUp(state, event, lsn)
    default:
      // Every other order event may change a status or a hold; a rejected order never held anything, and a refused
      // resend changes nothing (the kernel's apply does nothing with it either).
      if (event.type.startsWith('order.') && event.type !== 'order.rejected' && event.type !== 'order.resend_refused') {
        const order = state.orders.get((event as { orderId: string }).orderId)
        if (order !== undefined) {
          // A covered fill books nothing (its synthetic fill did): it is kept for the trades check (covered-fills.ts).
          if (event.type === 'order.fill_covered') noteCoveredFill(order, event, { lsn, liquidity: state.pendingLiquidity.get(event.execId) ?? null })
          // What a true-up will reprice: the range a real fill covers, the synthetic quantity pending, at the venue ranges
          // its synthetic fill booked (synthetic-lots.ts, venue-ranges.ts). Synthetic quantity booked through
          // lotsUntrackedThroughLsn gets no lot, as the build that booked it kept none.
          if (event.type === 'order.fill_covered') noteTrueUpCover(state.positions, order, event)
          else if (event.type === 'order.synthetic_pending') {
            const ranges = takeSyntheticRanges(order, event.qty)
            if (lsn > state.lotsUntrackedThroughLsn) noteSyntheticPending(state.positions, order, { ...event, ranges })
          }
          const statusBefore = order.status
          const wasTerminal = isTerminal(statusBefore)
          // A synthetic fill applied before the log adopted the hold rule holds nothing and is not kept pending, as the
          // builds before did (the kernel's apply-order.ts alike): its true-ups then release nothing (takeSyntheticPending).
          if (event.type !== 'order.synthetic_pending') applyOrderEvent(order, event, state.reserved)
          else if ((state.holdRule ?? 0) >= HOLD_RULE_SYNTHETIC) {
            applyOrderEvent(order, event, state.reserved)
            holdSyntheticFee(order, event, state.takerFeeBps ?? 0, state.reserved)
          }
          order.updatedAtMs = event.atMs
          noteEndedAs(order, statusBefore, state.endedOrders)
          retainEnded(state, order, wasTerminal, event.atMs)
        }
      }
      return NOTHING
  }
}

function fundingPostings(event: EventOf<'account.funded'>, lsn: number): Posting[] {
  const at = { lsn, accountId: event.accountId, asset: event.asset, kind: 'funding' as const, ref: event.reference, atMs: event.atMs }
  return [
    { ...at, seq: 0, book: accountBook(event.accountId), amount: event.amount },
    { ...at, seq: 1, book: FUNDING_BOOK, amount: -event.amount },
  ]
}

function bookFill(state: LedgerState, event: EventOf<'order.fill'>, lsn: number): Booked {
  const order = state.orders.get(event.orderId)
  if (order === undefined) {
    state.counters.unbookedFills += 1
    return NOTHING
  }
  const statusBefore = order.status
  const wasTerminal = isTerminal(statusBefore)
  const buy = order.side === 'buy'
  const cash = buy ? -mulUnits(event.lastQty, event.lastPrice, 'up') : mulUnits(event.lastQty, event.lastPrice, 'down')
  const baseDelta = buy ? event.lastQty : -event.lastQty
  const account = accountBook(order.accountId)
  const venue = venueBook(order.venue)
  const { accountId, baseAsset, quoteAsset } = order
  const { execId: ref, atMs } = event
  // Written out rather than spread from a shared part: a spread copies property by property on every fill.
  const postings: Posting[] = [
    { lsn, seq: 0, book: account, accountId, asset: baseAsset, amount: baseDelta, kind: 'trade_base', ref, atMs },
    { lsn, seq: 1, book: venue, accountId, asset: baseAsset, amount: -baseDelta, kind: 'trade_base', ref, atMs },
    { lsn, seq: 2, book: account, accountId, asset: quoteAsset, amount: cash, kind: 'trade_quote', ref, atMs },
    { lsn, seq: 3, book: venue, accountId, asset: quoteAsset, amount: -cash, kind: 'trade_quote', ref, atMs },
  ]
  if (event.fee !== 0n) {
    postings.push({ lsn, seq: 4, book: account, accountId, asset: event.feeAsset, amount: -event.fee, kind: 'fee', ref, atMs })
    postings.push({ lsn, seq: 5, book: feeBook(order.venue), accountId, asset: event.feeAsset, amount: event.fee, kind: 'fee', ref, atMs })
  }
  const liquidity = state.pendingLiquidity.get(event.execId) ?? null
  if (liquidity !== null) state.pendingLiquidity.delete(event.execId)
  const fill: FillRecord = {
    lsn,
    execId: event.execId,
    orderId: order.orderId,
    accountId,
    venue: order.venue,
    symbol: order.symbol,
    side: order.side,
    qty: event.lastQty,
    price: event.lastPrice,
    fee: event.fee,
    feeAsset: event.feeAsset,
    liquidity,
    synthetic: event.synthetic,
    cash,
    venueTimeMs: event.venueTimeMs,
    atMs,
  }
  applyFillToPosition(positionFor(state.positions, order), fill)
  // Where its quantity stands in the venue's cumulative quantity, before its cumQty moves (venue-ranges.ts).
  placeFill(order, event)
  applyOrderEvent(order, event, state.reserved)
  const booked = bookEntry(state, postings, fill)
  state.counters.fills += 1
  order.updatedAtMs = event.atMs
  noteEndedAs(order, statusBefore, state.endedOrders)
  retainEnded(state, order, wasTerminal, event.atMs)
  return booked
}

/**
 * A true-up (src/kernel/synthetic-cover.ts): the real fill's cash for synthetic quantity replaces what the synthetic
 * fill booked — the difference moves between the account and the venue in the quote asset, mirroring the kernel to the
 * unit — and its fee is paid. No fill record: the synthetic fill's is the quantity's, and the real fill's execution id
 * is the postings' reference; the real execution is listed apart (`trueUpFill`, true-up-fills.ts). The position's
 * cost basis takes the change for the part of the synthetic cash still in it, its realized PnL the rest (the order's
 * synthetic lot says how much: synthetic-lots.ts).
 */
function bookTrueUp(state: LedgerState, event: EventOf<'order.fill_trued_up'>, lsn: number): Booked {
  const order = state.orders.get(event.orderId)
  if (order === undefined) {
    // Part of a fill of an order the ledger retired (retention.ts): counted with such fills, not booked.
    state.counters.unbookedFills += 1
    return NOTHING
  }
  const { accountId, quoteAsset } = order
  const { execId: ref, atMs } = event
  order.updatedAtMs = atMs
  const pendingBefore = order.syntheticPendingQty
  takeSyntheticPending(order, event, state.reserved)
  keepSyntheticFee(order, pendingBefore, state.reserved)
  noteSyntheticTaken(state, order)
  // What the account's quote holding changes by: a buy pays the real cash instead of the synthetic, a sell receives it.
  const cashDelta = order.side === 'buy' ? event.syntheticCash - event.cash : event.cash - event.syntheticCash
  const postings: Posting[] = []
  if (cashDelta !== 0n) {
    postings.push({ lsn, seq: 0, book: accountBook(accountId), accountId, asset: quoteAsset, amount: cashDelta, kind: 'trade_quote', ref, atMs })
    postings.push({ lsn, seq: 1, book: venueBook(order.venue), accountId, asset: quoteAsset, amount: -cashDelta, kind: 'trade_quote', ref, atMs })
  }
  if (event.fee !== 0n) {
    postings.push({ lsn, seq: postings.length, book: accountBook(accountId), accountId, asset: event.feeAsset, amount: -event.fee, kind: 'fee', ref, atMs })
    postings.push({ lsn, seq: postings.length, book: feeBook(order.venue), accountId, asset: event.feeAsset, amount: event.fee, kind: 'fee', ref, atMs })
  }
  const realCash = order.side === 'buy' ? -event.cash : event.cash
  // An order accepted while lots were not kept may hold untracked synthetic quantity: a cover outside its lot is that.
  const lotFallback = order.acceptedLsn > state.lotsUntrackedThroughLsn
  const trueUp = { orderId: order.orderId, side: order.side, qty: event.qty, realCash, cashDelta, fee: event.fee, feeAsset: event.feeAsset, lsn, lotFallback }
  // Listed whether or not it books anything: the real execution supersedes the synthetic fill either way.
  const trueUpFill = trueUpFillOf(order, event, lsn)
  if (postings.length === 0) {
    // Nothing booked, but the true-up still takes its quantity from the order's synthetic lot (synthetic-lots.ts), and
    // may move cash between basis and realized PnL (synthetic fills at two prices, the total change zero).
    const position = state.positions.get(positionKey(order.accountId, order.venue, order.symbol))
    return position !== undefined && applyTrueUpToPosition(position, trueUp) ? { postings: [], fill: null, position, trueUpFill } : { postings: [], fill: null, trueUpFill }
  }
  const position = positionFor(state.positions, order)
  applyTrueUpToPosition(position, trueUp)
  return { ...bookEntry(state, postings, null), position, trueUpFill }
}

function rememberLiquidity(state: LedgerState, event: EventOf<'inbox.report_accepted'>): void {
  const { report } = event
  if (report.kind !== 'fill' || report.liquidity === undefined) return
  if (state.pendingLiquidity.size >= PENDING_LIQUIDITY_MAX) {
    const oldest = state.pendingLiquidity.keys().next().value
    if (oldest !== undefined) state.pendingLiquidity.delete(oldest)
  }
  state.pendingLiquidity.set(report.execId, report.liquidity)
}

/** Counts one more order of `accountId` on `venue` (venue → account → orders placed there). */
export function countVenueAccount(venueAccounts: Map<string, Map<string, number>>, venue: string, accountId: string): void {
  let accounts = venueAccounts.get(venue)
  if (accounts === undefined) {
    accounts = new Map()
    venueAccounts.set(venue, accounts)
  }
  accounts.set(accountId, (accounts.get(accountId) ?? 0) + 1)
}
