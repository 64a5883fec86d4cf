/**
 * Reconciliation decisions (§7.4): given what the venue says about one order (its status by client order id and its
 * trades), produce the events that converge the order to a definite state. Trades not yet seen are applied first (in
 * venue time order), then the status. "Not found" within the grace time after the last send is not proof — the
 * venue may not have indexed the order yet — so the decision is deferred; after the grace time an Unknown order the
 * venue does not know is Failed and marked not-at-venue, which is what makes it resendable — unless fills prove the
 * venue had it: it stays Unknown and is asked again, less often while the answer repeats (reconcile-recheck.ts).
 *
 * An amend still pending (its answer lost or unknown) is settled first, from the venue's view of the order: the venue
 * knowing the order by the amend's id, or holding the amend's quantity and price, proves the replace; the old values
 * after the grace time since the amend was sent prove it did not happen; within the grace time the whole decision is
 * deferred. Trades are matched to the order by any of its client ids (the venue reports later trades under the
 * amend's id).
 */

import { formatDecimal, type Units } from '../domain/decimal.ts'
import { orderIdFromClientId, type Order } from '../domain/orders.ts'
import { isRecordableUnits, RECORD_UNITS_MAX } from '../domain/recordable-amounts.ts'
import type { OrderState } from '../domain/states.ts'
import type { VenueOrder, VenueTrade } from '../venues/adapter.ts'
import { DONE_REPLY, type Decision, type ReconcileResultCommand } from './commands.ts'
import { anomaly, emit, emitterFor, type Emitter } from './emit.ts'
import { applyAmend, failAmend } from './amend/evidence.ts'
import { emitFill, type VenueFill } from './inbox.ts'
import { fillAmounts } from './ledger.ts'
import { isRepeatedOverfill, overfillRecheck } from './overfill-recheck.ts'
import { recheckLater } from './reconcile-recheck.ts'
import { reconcileTransition } from './state-machine.ts'
import type { KernelState } from './state.ts'
import { coveredQtyOf, syntheticExecId } from './synthetic-cover.ts'

export function decideReconcile(state: KernelState, command: ReconcileResultCommand): Decision {
  const order = state.orders.get(command.orderId)
  if (order === undefined) return { events: [], reply: { kind: 'refused', reason: 'ORDER_NOT_FOUND', detail: command.orderId } }
  if (order.status === 'Sent' || order.status === 'Enqueued') {
    return { events: [], reply: { kind: 'refused', reason: 'TRANSITION_REFUSED', detail: `cannot reconcile an order in ${order.status}` } }
  }
  // The venue's view is evidence of what it held when it looked, which is after it was asked and before its answer was
  // back: the grace is measured to when it was asked. Dated by the answer's arrival instead, a "not found" read early
  // in the grace and answered late (a slow trades query beside it) would prove absence of an order still on its way.
  const askedAtMs = Math.min(command.askedAtMs ?? command.nowMs, command.nowMs)
  // An order that is not Unknown and had news after the question (a fill report while the sweep's answer was on its
  // way) is newer than the venue's view, and converging to the view would undo the news (a Filled order read back as
  // open). The order stands as the news left it; a quiet order is read back by the next sweep. The clock counts whole
  // milliseconds: news in the question's own millisecond, after it, comes with an askedAtMs one earlier
  // (runtime/read-back-asked.ts). An Unknown order takes the answer: it waits for one, and every conclusion it allows
  // is checked against the grace. The answer's trades are still booked: each is a fact with its own execId whatever
  // the answer's age, and one egress never heard of (a fill while it was down, read back by bootstrap) would otherwise
  // wait for the next sweep.
  const emitter = emitterFor(order)
  if (order.status !== 'Unknown' && order.updatedAtMs > askedAtMs) {
    bookUnseenTrades(emitter, command, { quietOverfill: false })
    if (emitter.events.length > 0) return { events: emitter.events, reply: DONE_REPLY }
    return { events: [], reply: { kind: 'refused', reason: 'TRANSITION_REFUSED', detail: `order changed at ${order.updatedAtMs}, after the venue was asked at ${askedAtMs}` } }
  }
  // The overfill alerted already: the trades that make it are not offered again (each would alert once more).
  const quietOverfill = command.venueOrder !== null && isRepeatedOverfill(emitter, command.venueOrder.cumQty)
  const amendSettled = command.venueOrder === null || settleAmend(state, emitter, command.venueOrder, { nowMs: command.nowMs, askedAtMs })
  bookUnseenTrades(emitter, command, { quietOverfill })
  if (!amendSettled) deferred(state, emitter, command.nowMs, emitter.draft.amend?.sentAtMs ?? command.nowMs)
  else if (command.venueOrder === null) notFound(state, emitter, { nowMs: command.nowMs, askedAtMs })
  else found(state, emitter, command.venueOrder, { nowMs: command.nowMs, wasUnknown: order.status === 'Unknown' })
  // An answer that leaves the order Unknown without saying when to ask again (venue state the order cannot take) is
  // asked about again after the recheck time, backing off while it repeats (reconcile-recheck.ts). Otherwise the order
  // is due at once, and every answer is followed by the next query, as fast as the venue answers.
  if (emitter.draft.status === 'Unknown' && !emitter.events.some((event) => event.type === 'order.reconcile_deferred' || event.type === 'order.overfill_recheck')) {
    recheckLater(state, emitter, command.nowMs)
  }
  return { events: emitter.events, reply: DONE_REPLY }
}

/** Settles a pending amend from the venue's view of the order (read after `askedAtMs`); false when it is too early to tell. */
function settleAmend(state: KernelState, emitter: Emitter, venueOrder: VenueOrder, at: { nowMs: number; askedAtMs: number }): boolean {
  const { nowMs } = at
  const amend = emitter.draft.amend
  if (amend === null || amend.stage === 'requested') return true
  const byId = venueOrder.clientOrderId === amend.clientOrderId
  const byValues = venueOrder.qty === amend.qty && (amend.price === null || venueOrder.price === amend.price)
  if (byId || byValues) {
    applyAmend(emitter, { atMs: nowMs, source: 'reconcile', amendId: amend.amendId })
    return true
  }
  if (amend.stage === 'failed') return true
  const graceMs = state.config?.params.reconcileGraceMs ?? 0
  if (at.askedAtMs - (amend.sentAtMs ?? 0) < graceMs) return false
  failAmend(emitter, { atMs: nowMs, reason: 'AMEND_NOT_APPLIED', detail: `venue holds ${formatDecimal(venueOrder.qty)} at ${venueOrder.price === undefined ? 'market' : formatDecimal(venueOrder.price)} under ${venueOrder.clientOrderId}`, amendId: amend.amendId })
  return true
}

/**
 * Books the answer's trades of this order that egress holds no fill for, in venue time order. The running total of
 * the order's trades (seen ones included) places each trade in the venue's cumulative quantity, which is what matching
 * it against a synthetic fill needs (synthetic-cover.ts); a list missing older trades places them lower, which errs
 * towards covering, never towards booking twice.
 *
 * An execution id is one trade however often the answer lists it (a venue listing it twice, pages that overlap): the
 * first copy is the trade, the others are dropped before they count in the running total or get booked, and copies of
 * a trade not yet booked that disagree with the first are alerted. (`seen` is the order as the decision found it, so
 * it cannot catch a repeat within the answer: before this, the repeat was booked a second time.)
 */
function bookUnseenTrades(emitter: Emitter, command: ReconcileResultCommand, options: { quietOverfill: boolean }): void {
  const order = emitter.draft
  const seen = order.execIds
  const trades = distinctTrades(emitter, command).sort((a, b) => a.venueTimeMs - b.venueTimeMs || (a.execId < b.execId ? -1 : a.execId > b.execId ? 1 : 0))
  let venueCumQty = 0n
  for (const trade of trades) {
    venueCumQty += trade.qty
    if (seen.has(trade.execId)) continue
    const fill = tradeAsFill(trade, venueCumQty)
    if (options.quietOverfill && wouldOverfill(emitter.draft, fill)) continue
    emitFill(emitter, fill, command.nowMs, 'reconcile')
  }
}

/** The answer's trades of this order, each execution id once (its first copy). */
function distinctTrades(emitter: Emitter, command: ReconcileResultCommand): VenueTrade[] {
  const { orderId } = emitter.draft
  const first = new Map<string, VenueTrade>()
  for (const trade of command.trades) {
    if (orderIdFromClientId(trade.clientOrderId) !== orderId) continue
    const earlier = first.get(trade.execId)
    if (earlier === undefined) {
      first.set(trade.execId, trade)
      continue
    }
    // Alerted only while the trade is to be booked: a disagreement about one booked already would be alerted again at
    // every read-back of the order.
    if (sameTrade(earlier, trade) || emitter.draft.execIds.has(trade.execId)) continue
    const detail = `trade ${trade.execId} listed twice and the copies differ: ${tradeText(earlier)} vs ${tradeText(trade)}; the first is taken`
    emitter.events.push({ type: 'alert.raised', atMs: command.nowMs, reason: 'REPORT_DUPLICATE', orderId, detail })
  }
  return [...first.values()]
}

function sameTrade(a: VenueTrade, b: VenueTrade): boolean {
  return a.qty === b.qty && a.price === b.price && a.fee === b.fee && a.feeAsset === b.feeAsset && a.venueTimeMs === b.venueTimeMs && a.clientOrderId === b.clientOrderId
}

function tradeText(trade: VenueTrade): string {
  return `${formatDecimal(trade.qty)} @ ${formatDecimal(trade.price)} fee ${formatDecimal(trade.fee)} ${trade.feeAsset} at ${trade.venueTimeMs}`
}

function wouldOverfill(draft: Order, fill: { lastQty: Units; venueCumQty: Units }): boolean {
  return draft.cumQty + fill.lastQty - coveredQtyOf(draft.syntheticCumQty, fill) > draft.qty
}

function deferred(state: KernelState, emitter: Emitter, nowMs: number, sentAtMs: number): void {
  const graceMs = state.config?.params.reconcileGraceMs ?? 0
  const recheckMs = state.config?.params.reconcileRecheckMs ?? 1_000
  const retryAtMs = Math.max(sentAtMs + graceMs, nowMs + recheckMs)
  emitter.events.push({ type: 'order.reconcile_deferred', atMs: nowMs, orderId: emitter.draft.orderId, retryAtMs })
}

function tradeAsFill(trade: VenueTrade, venueCumQty: Units): VenueFill & { lastQty: Units; venueCumQty: Units } {
  return { execId: trade.execId, lastQty: trade.qty, lastPrice: trade.price, fee: trade.fee, feeAsset: trade.feeAsset, venueTimeMs: trade.venueTimeMs, venueCumQty, clientOrderId: trade.clientOrderId }
}

function notFound(state: KernelState, emitter: Emitter, at: { nowMs: number; askedAtMs: number }): void {
  const { nowMs } = at
  const { draft } = emitter
  if (draft.status !== 'Unknown') {
    deniedOpen(state, emitter, at)
    return
  }
  const graceMs = state.config?.params.reconcileGraceMs ?? 0
  // Measured from its last request to the venue: the place, or an amend still under way. A venue that replaced the
  // order may not know it by the id asked yet, or any more (an amend renames it); measured from the place alone, an
  // Unknown amend read back at once was Failed, its reservation released, while it rested at the venue.
  const amendSentAtMs = draft.amend?.stage === 'sent' ? (draft.amend.sentAtMs ?? 0) : 0
  const sentAtMs = Math.max(draft.lastSendAtMs ?? 0, amendSentAtMs)
  if (at.askedAtMs - sentAtMs < graceMs) {
    // Too early to conclude absence: ask again later.
    deferred(state, emitter, nowMs, sentAtMs)
    return
  }
  if (draft.cumQty > 0n) {
    // Trades prove the order existed, so its absence is no conclusion: asked again, less often while this repeats.
    recheckLater(state, emitter, nowMs)
    return
  }
  emit(emitter, reconciled(draft, { to: 'Failed', nowMs, venueStatus: 'not_found', notAtVenue: draft.venueOrderId === null, venueOrderId: null }))
}

/** The states in which egress holds an order open at its venue (acknowledged, resting, or being canceled). */
const HELD_OPEN: ReadonlySet<OrderState> = new Set(['AckedOpen', 'Partial', 'CancelRequested', 'CancelPending'])

/**
 * The venue does not know an order egress holds open there, asked past the grace since the order's last news: the
 * venue ended it and forgot it while egress was not listening (a restart after a downtime longer than the venue keeps
 * ended orders), or lost it. Left as it was, the order stayed open for good without a word: its reservation held,
 * read back by every sweep and bootstrap, each finding nothing. It goes Unknown instead, as a cancel answered
 * unknown_order does (VENUE_UNKNOWN_ORDER): it holds its worst case, shows in the Unknown metrics and runbook, and is
 * read back again after the recheck time; not found then, it ends Failed (not proven absent: the venue acknowledged
 * it), and with fills booked it stays Unknown until the venue answers. Within the grace since the order's last news
 * (an amend applied: the venue may not list it under the new id yet), or with an amend under way (the venue may know
 * the order by the amend's id by now), "not found" proves nothing.
 */
function deniedOpen(state: KernelState, emitter: Emitter, at: { nowMs: number; askedAtMs: number }): void {
  const { draft } = emitter
  if (!HELD_OPEN.has(draft.status) || (draft.amend !== null && draft.amend.stage !== 'failed')) return
  // Measured from the order's last news (its place, an amend sent or applied, a fill), which is never after the question.
  if (at.askedAtMs - draft.updatedAtMs < (state.config?.params.reconcileGraceMs ?? 0)) return
  const detail = `read back not found: the venue does not know an order egress holds ${draft.status}`
  emit(emitter, { type: 'order.unknown', atMs: at.nowMs, orderId: draft.orderId, reason: 'VENUE_UNKNOWN_ORDER', detail })
}

/**
 * Converges the order to what the venue says. When the trades booked just before already moved an Unknown order to
 * that state, the conclusion is still recorded (a same-state `order.reconciled`): it carries the venue order id and
 * says the Unknown was resolved by reconciliation.
 */
function found(state: KernelState, emitter: Emitter, venueOrder: VenueOrder, input: { nowMs: number; wasUnknown: boolean }): void {
  const { nowMs } = input
  const { draft } = emitter
  if (venueOrder.cumQty > draft.qty) {
    overfillRecheck(state, emitter, { venueCumQty: venueOrder.cumQty, nowMs })
    return
  }
  const below = venueOrder.cumQty < draft.cumQty
  if (below) cumBelow(emitter, venueOrder, nowMs)
  if (venueOrder.cumQty > draft.cumQty) syntheticFill(emitter, venueOrder, nowMs)
  const to = targetState(venueOrder, draft)
  if (to === draft.status && draft.status !== 'Unknown' && !input.wasUnknown) return
  const transitionName = reconcileTransition(to)
  if (transitionName === null) return
  const reason = below ? 'RECONCILE_CUM_BELOW' : undefined
  const converged = emit(emitter, reconciled(draft, { to, nowMs, venueStatus: venueOrder.status, notAtVenue: false, venueOrderId: venueOrder.venueOrderId, reason }))
  if (converged && to === 'CancelRequested') paceCancelRepeat(state, emitter, nowMs)
}

/**
 * The venue counts less filled than egress booked: it took back a fill egress booked (a trade bust, FIX ExecType H or
 * ExecTransType 1), or cut one (a correction, G or 2; src/venues/fix/reports.ts tradeBust reads the order back for
 * both), or never had it. No record reverses a fill, and which fill the venue no longer counts, at what price, the
 * answer does not say: guessing one would move money on a guess. So the fills stay as booked — the order's cumQty, the
 * position and the funds overstate what the venue holds — and an operator is told: the first such answer is an anomaly
 * (RECONCILE_CUM_BELOW, naming both quantities; the order goes Unknown, and shows in the Unknown gauges while this
 * decision lasts). The order then takes the venue's state, recorded with that reason (`order.reconciled`
 * RECONCILE_CUM_BELOW, counted in egress_reconcile_outcomes_total): left Unknown it would wait for good for an answer
 * that cannot come, and no route sets an order's state. The reason stays the order's last (lastReason), and a repeat
 * of the answer while it does — the open-order sweep reads a quiet open order back every interval while the venue
 * lists it differently — is not alerted again. Before, the answer converged the order as if the two agreed, or left it
 * as it was, without a word: a bust was seen only in a log line, or a back-office break on an order still open.
 */
function cumBelow(emitter: Emitter, venueOrder: VenueOrder, nowMs: number): void {
  const { draft } = emitter
  if (draft.lastReason === 'RECONCILE_CUM_BELOW') return
  const detail = `venue cumQty ${formatDecimal(venueOrder.cumQty)} is below the ${formatDecimal(draft.cumQty)} egress booked (${venueOrder.status} at the venue as ${venueOrder.clientOrderId}): a fill was busted or corrected there; nothing is reversed, the fills as booked overstate the position and funds`
  anomaly(emitter, { atMs: nowMs, reason: 'RECONCILE_CUM_BELOW', detail })
}

/** Cancels of one order that went out and left it open at the venue before an operator is alerted (once). */
export const CANCEL_ATTEMPTS_ALERT = 8

/** The longest a repeated cancel of an order the venue still holds open waits: 30 s. */
export const CANCEL_RETRY_MS_MAX = 30_000

/**
 * The venue holds open an order whose cancel went out already (refused, lost, or acked without the order ending): the
 * cancel goes out again, since it is still wanted. The first repeat goes at once — a refusal or a loss is usually a
 * race with the venue's own state — and each later one waits twice as long as the one before, from sendRetryMs up to
 * CANCEL_RETRY_MS_MAX (recorded as a deferral of the order's next work). Before, a venue refusing every cancel while
 * saying the order was open had egress cancel, read back and cancel again as fast as it answered, for good. The
 * cancel is never dropped: it keeps going at the bound, and the CANCEL_ATTEMPTS_ALERT-th attempt raises
 * CANCEL_ATTEMPTS_EXCEEDED (once per order) so an operator looks at what the venue is doing.
 */
function paceCancelRepeat(state: KernelState, emitter: Emitter, nowMs: number): void {
  const { draft } = emitter
  const attempts = draft.cancelAttempts
  if (attempts === CANCEL_ATTEMPTS_ALERT) {
    const detail = `${attempts} cancels went out and the venue still holds the order open; the cancel is repeated at most every ${CANCEL_RETRY_MS_MAX} ms`
    emitter.events.push({ type: 'alert.raised', atMs: nowMs, reason: 'CANCEL_ATTEMPTS_EXCEEDED', orderId: draft.orderId, detail })
  }
  if (attempts < 2) return
  const baseMs = state.config?.params.sendRetryMs ?? 1_000
  const waitMs = Math.min(baseMs * 2 ** Math.min(attempts - 2, 30), CANCEL_RETRY_MS_MAX)
  emitter.events.push({ type: 'order.reconcile_deferred', atMs: nowMs, orderId: draft.orderId, retryAtMs: nowMs + waitMs })
}

function targetState(venueOrder: VenueOrder, draft: Order): OrderState {
  switch (venueOrder.status) {
    case 'open':
    case 'partially_filled':
      if (draft.cancelWanted) return 'CancelRequested'
      return draft.cumQty > 0n ? 'Partial' : 'AckedOpen'
    case 'filled':
      return 'Filled'
    case 'canceled':
      return 'Canceled'
    case 'rejected':
      return 'Rejected'
    case 'expired':
      return 'Expired'
  }
}

/**
 * The venue says more filled than its trades explain: book the difference at the order's limit price and alert.
 *
 * Not booked when the synthetic cash the order would then hold pending is more than a record can hold: the real fill
 * that trues it up records that cash (order.fill_trued_up `syntheticCash`), and the log's writer asserts on it. The
 * gateway bounds each answer's cumQty × price (read-back-check.ts), but the pending cash adds up over several answers,
 * each fill rounded up against the account — two answers of half and all of 1 BTC at the largest price a record holds
 * passed that check and added up to one unit past it — so the sum is checked here, where it is made. The order then
 * stays below the venue's cumulative quantity until its real trades come, and every read-back (the sweep reads it
 * back as long as the two differ) declined the same fill again with one more alert. So the decline is alerted once
 * (RECONCILE_SYNTHETIC_UNRECORDABLE) and recorded (`order.synthetic_declined`, which the order keeps): a read-back
 * stating the same venue cumulative quantity is a repeat and adds nothing, one stating another is news and is alerted.
 */
function syntheticFill(emitter: Emitter, venueOrder: VenueOrder, nowMs: number): void {
  const { draft } = emitter
  // A venue price of zero or below is none (a FIX status of a market order says Price 0): no fill is booked at it.
  const price = venueOrder.price !== undefined && venueOrder.price > 0n ? venueOrder.price : draft.price
  const lastQty = venueOrder.cumQty - draft.cumQty
  if (price !== null && !pendingRecordable(draft, fillAmounts(draft.side, lastQty, price))) {
    declineSynthetic(emitter, { venueCumQty: venueOrder.cumQty, price, nowMs })
    return
  }
  const detail = `venue cumQty ${formatDecimal(venueOrder.cumQty)}, trades explain ${formatDecimal(draft.cumQty)}`
  emitter.events.push({ type: 'alert.raised', atMs: nowMs, reason: 'RECONCILE_SYNTHETIC_FILL', orderId: draft.orderId, detail })
  if (price === null) return
  const execId = syntheticExecId(draft.venueClientOrderId, venueOrder.cumQty)
  const booked = emit(emitter, {
    type: 'order.fill',
    atMs: nowMs,
    orderId: draft.orderId,
    execId,
    lastQty,
    lastPrice: price,
    fee: 0n,
    feeAsset: draft.quoteAsset,
    cumQty: venueOrder.cumQty,
    synthetic: true,
    venueTimeMs: nowMs,
  })
  // Its price and fee are a guess, held until the real fills it stands for true it up (synthetic-cover.ts).
  if (booked) emit(emitter, { type: 'order.synthetic_pending', atMs: nowMs, orderId: draft.orderId, execId, qty: lastQty, price })
}

/** The synthetic fill up to `venueCumQty` is not booked: alerted and recorded once per venue cumulative quantity. */
function declineSynthetic(emitter: Emitter, input: { venueCumQty: Units; price: Units; nowMs: number }): void {
  const { draft } = emitter
  const { venueCumQty, price, nowMs } = input
  if (draft.syntheticDeclinedCumQty === venueCumQty) return
  const detail = `venue cumQty ${formatDecimal(venueCumQty)}, trades explain ${formatDecimal(draft.cumQty)}; not booked: the synthetic cash pending would pass ${formatDecimal(RECORD_UNITS_MAX)}, the most a record holds`
  emitter.events.push({ type: 'alert.raised', atMs: nowMs, reason: 'RECONCILE_SYNTHETIC_UNRECORDABLE', orderId: draft.orderId, detail })
  emit(emitter, { type: 'order.synthetic_declined', atMs: nowMs, orderId: draft.orderId, venueCumQty, price })
}

/** Whether the order's pending synthetic cash and notional, with `added`, are amounts a record holds. */
function pendingRecordable(draft: Order, added: { cash: Units; notional: Units }): boolean {
  return isRecordableUnits(draft.syntheticPendingCash + added.cash) && isRecordableUnits(draft.syntheticPendingNotional + added.notional)
}

function reconciled(
  draft: Order,
  input: { to: OrderState; nowMs: number; venueStatus: string; notAtVenue: boolean; venueOrderId: string | null; reason?: 'RECONCILE_CUM_BELOW' | undefined },
): { type: 'order.reconciled'; atMs: number; orderId: string; to: OrderState; reason: 'RECONCILE_NOT_FOUND' | 'RECONCILE_CONVERGED' | 'RECONCILE_CUM_BELOW'; venueStatus: string; notAtVenue: boolean; venueOrderId: string | null } {
  return {
    type: 'order.reconciled',
    atMs: input.nowMs,
    orderId: draft.orderId,
    to: input.to,
    reason: input.reason ?? (input.venueStatus === 'not_found' ? 'RECONCILE_NOT_FOUND' : 'RECONCILE_CONVERGED'),
    venueStatus: input.venueStatus,
    notAtVenue: input.notAtVenue,
    venueOrderId: input.venueOrderId,
  }
}

/**
 * Whether the runtime may send this order again: only when reconciliation proved, after the grace time, that the
 * venue never had it — never acked, nothing filled, no cancel wanted. A resend reuses the same venue client order id.
 */
export function resendable(order: Order): boolean {
  return order.status === 'Failed' && order.notAtVenue && order.venueOrderId === null && order.cumQty === 0n && !order.cancelWanted
}
