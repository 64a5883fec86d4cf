/**
 * The executor's send decision: the I-100 gate runs for every send, in every mode, and its verdict is recorded.
 * If the gate allows, `order.send_requested` (or `order.cancel_send_requested`, `order.amend_send_requested`) is
 * emitted: the runtime appends it durably and only then calls the adapter (outbox, §5 step 8). The venue sees the
 * deterministic client order id; cancels and amends name the order by the id the venue knows it by now.
 */

import { policyValidAt } from '../domain/accounts.ts'
import { instrumentKey, type Instrument } from '../domain/instruments.ts'
import type { GateInput, GateVerdict, GateAction } from '../domain/gate.ts'
import { cancelClientOrderId, currentClientOrderId, type Order } from '../domain/orders.ts'
import { formatDecimal, mulUnits, type Units } from '../domain/decimal.ts'
import type { DomainEvent } from '../domain/events/index.ts'
import type { KernelParams } from '../domain/kernel-config.ts'
import type { MarketSnapshot } from '../domain/market.ts'
import type { ReasonCode } from '../domain/reasons.ts'
import { DONE_REPLY, type Decision, type SendCommand } from './commands.ts'
import { emit, emitterFor, type Emitter } from './emit.ts'
import { evaluateGate, LIVE_ONLY } from './gate.ts'
import { callSlotBusy } from './in-flight.ts'
import type { BookOrder } from './intake/book-check.ts'
import { sizeReason, unsupportedReason } from './intake/guard-capability.ts'
import { bookLimitsOff, bookReason, marketDataReason } from './intake/guard-data-health.ts'
import { marketWorstPrice, sentPrice, sentQty } from './intake/sent-order.ts'
import { heldFor, reservationFor } from './reservations.ts'
import type { KernelState } from './state.ts'
import { healthGateFacts } from './venue-health.ts'
import { ttlEndOf, ttlPassed } from './ttl.ts'

export function decideSend(state: KernelState, command: SendCommand): Decision {
  const order = state.orders.get(command.orderId)
  if (order === undefined) return { events: [], reply: { kind: 'refused', reason: 'ORDER_NOT_FOUND', detail: command.orderId } }
  const notReady = notReadyFor(order, command.action)
  if (notReady !== null) return { events: [], reply: { kind: 'refused', reason: 'TRANSITION_REFUSED', detail: notReady } }
  // A place past the order's time-to-live is never sent: the order ends (or, sent before, is read back) instead (ttl.ts).
  // Nor is an amend: a replace sent past it would change (at a cancel-replace venue, place anew) an order whose life
  // ended; the amend is superseded and the order's cancel asked, as the expiry's notice would. Cancels always go.
  // A send names no build (the executor's command): the end is recorded with the config digest only (its object made
  // only for an order whose time-to-live passed, not per send).
  const expired = command.action === 'cancel' || !ttlPassed(order, command.nowMs) ? null : ttlEndOf(order, command.nowMs, { configDigest: state.config?.digest, buildCommit: undefined })
  if (expired !== null) return { events: expired, reply: DONE_REPLY }
  const overtaken = command.action === 'amend' ? amendOvertaken(order, command.nowMs) : null
  if (overtaken !== null) return { events: overtaken, reply: DONE_REPLY }
  const busy = callSlotBusy(state, order)
  if (busy !== null) return { events: [], reply: { kind: 'refused', reason: 'TRANSITION_REFUSED', detail: busy } }
  const held = switchHolds(state, order, command.action)
  if (held !== null) return { events: [], reply: { kind: 'refused', reason: held, detail: switchHoldText(state, order, held) } }
  const gate = evaluateGate(gateInput(state, order, command))
  const emitter = emitterFor(order)
  const atMs = command.nowMs
  const orderId = order.orderId
  if (!gate.sendAllowed) {
    const reason = state.mode === 'shadow' ? 'SHADOW_NOT_SENT' : blockedReason(gate)
    const retried = command.action === 'cancel'
    // A blocked place of an order never sent is final (the order is rejected) and so is a blocked amend (the order
    // stands unchanged); a blocked cancel is retried, never dropped. A place sent before is never ended on egress's
    // word (readBackBlocked).
    const retryAtMs = retried ? command.nowMs + (state.config?.params.sendRetryMs ?? 1_000) : command.nowMs
    if (command.action === 'place' && order.sendAttempts > 0) readBackBlocked(emitter, { atMs, orderId, reason, gate })
    emit(emitter, { type: 'order.send_blocked', atMs, orderId, action: command.action, reason, gate, retryAtMs })
    if (command.action === 'amend' && order.amend !== null) {
      emit(emitter, { type: 'order.amend_failed', atMs, orderId, amendId: order.amend.amendId, reason, detail: 'the I-100 gate did not pass' })
    }
  } else if (command.action === 'place') {
    const attempt = order.sendAttempts + 1
    emit(emitter, { type: 'order.send_requested', atMs, orderId, attempt, venueClientOrderId: order.venueClientOrderId, gate })
  } else if (command.action === 'cancel') {
    const attempt = order.cancelAttempts + 1
    const cancelId = cancelClientOrderId(order.orderId, attempt)
    const origClientOrderId = currentClientOrderId(order)
    emit(emitter, { type: 'order.cancel_send_requested', atMs, orderId, attempt, cancelClientOrderId: cancelId, origClientOrderId, gate })
  } else if (order.amend !== null) {
    const { amendId, clientOrderId, qty, price } = order.amend
    const attempt = order.amend.attempts + 1
    const origClientOrderId = currentClientOrderId(order)
    emit(emitter, { type: 'order.amend_send_requested', atMs, orderId, amendId, attempt, amendClientOrderId: clientOrderId, origClientOrderId, qty, price, gate })
  }
  return { events: emitter.events, reply: DONE_REPLY }
}

/**
 * A blocked place of an order sent before (a resend after reconciliation proved it absent, a place the venue answered
 * retryable, waiting for its retry): nothing went out this time, but an earlier copy may be at the venue, so it is not
 * rejected — that would end it holding nothing, not resendable, never read back. It goes Unknown first (its worst
 * case stays held) and is read back, as a cancel of such an order is (cancel.ts): not found after the grace, it ends
 * Failed, not at the venue — resendable, as a resend refused in resend.ts leaves it; found, it converges. The
 * `order.send_blocked` that follows records the gate's verdict and moves nothing (event-transition.ts). Logs written
 * before hold such a place as rejected: a report of the earlier copy brings it back (inbox.ts provesAtVenue).
 */
function readBackBlocked(emitter: Emitter, input: { atMs: number; orderId: string; reason: ReturnType<typeof blockedReason> | 'SHADOW_NOT_SENT'; gate: GateVerdict }): void {
  const failing = input.gate.checks.filter((check) => !check.pass).map((check) => `${check.check}: ${check.detail}`)
  const detail = `the I-100 gate blocked sending it again (${failing.join('; ')}); sent before, so read back before it ends`
  emit(emitter, { type: 'order.unknown', atMs: input.atMs, orderId: input.orderId, reason: input.reason, detail })
}

/**
 * A waiting amend whose quantity fills have reached since it was accepted (its intake checked it above the filled
 * quantity then): never sent. A replace to no more than has filled is one its own intake refuses (AMEND_QTY_BELOW_FILLED);
 * sent, a venue refuses it or takes it as the order done, and its `ok` could not be applied (amend/evidence.ts). It
 * fails with that reason instead, and the order stands as the venue holds it; null when the amend may go.
 */
function amendOvertaken(order: Order, atMs: number): DomainEvent[] | null {
  const amend = order.amend
  if (amend === null || amend.qty > order.cumQty) return null
  const emitter = emitterFor(order)
  const detail = `amend ${amend.amendId} to ${formatDecimal(amend.qty)} is not above the ${formatDecimal(order.cumQty)} filled while it waited: not sent`
  emit(emitter, { type: 'order.amend_failed', atMs, orderId: order.orderId, amendId: amend.amendId, reason: 'AMEND_QTY_BELOW_FILLED', detail })
  return emitter.events
}

/** Why the order has no `action` to send now, or null when it has. */
function notReadyFor(order: Order, action: GateAction): string | null {
  switch (action) {
    case 'place':
      return order.status === 'Enqueued' ? null : `place needs Enqueued, order is ${order.status}`
    case 'cancel':
      return order.status === 'CancelRequested' ? null : `cancel needs CancelRequested, order is ${order.status}`
    case 'amend':
      if (order.status !== 'AckedOpen' && order.status !== 'Partial') return `amend needs AckedOpen or Partial, order is ${order.status}`
      if (order.cancelWanted) return 'amend of an order with a cancel wanted'
      return order.amend?.stage === 'requested' ? null : 'no amend is waiting to be sent'
  }
}

/** The codes a kill switch holds work with: the gateway's switch, or the order's account's own (account-switch.ts). */
export type SwitchHoldReason = 'KILL_SWITCH_HALT' | 'KILL_SWITCH_CANCEL_ONLY' | 'ACCOUNT_HALTED' | 'ACCOUNT_CANCEL_ONLY'

/**
 * HALT holds every new order except Lane0 closes, and every amend; CANCEL_ONLY holds both. Cancels always go. The
 * gateway's switch first, then the order's account's own, which holds that account's work the same way.
 */
export function switchHolds(state: KernelState, order: Order, action: GateAction): SwitchHoldReason | null {
  return gatewaySwitchHolds(state, order, action) ?? accountSwitchHolds(state, order, action)
}

/** The gateway's switch alone: it depends on the kind of work and the order's lane only, never on whose it is. */
export function gatewaySwitchHolds(state: KernelState, order: Order, action: GateAction): 'KILL_SWITCH_HALT' | 'KILL_SWITCH_CANCEL_ONLY' | null {
  if (action === 'cancel') return null
  if (state.tradingSwitch === 'cancel_only') return 'KILL_SWITCH_CANCEL_ONLY'
  if (state.tradingSwitch === 'halted' && (action === 'amend' || order.lane !== 0)) return 'KILL_SWITCH_HALT'
  return null
}

/**
 * The order's account's own switch alone (account-switch.ts): the same rule, for that account's work, a flatten's
 * closes held under its CANCEL_ONLY as under the gateway's (why: account-switch.ts).
 */
export function accountSwitchHolds(state: KernelState, order: Order, action: GateAction): 'ACCOUNT_HALTED' | 'ACCOUNT_CANCEL_ONLY' | null {
  if (action === 'cancel' || state.accountSwitches.size === 0) return null
  const accountSwitch = state.accountSwitches.get(order.accountId)?.switch
  if (accountSwitch === 'cancel_only') return 'ACCOUNT_CANCEL_ONLY'
  if (accountSwitch === 'halted' && (action === 'amend' || order.lane !== 0)) return 'ACCOUNT_HALTED'
  return null
}

/**
 * The switch a hold's code names, in words (the gateway's, or the account's own), by the code switchHolds gave: under
 * the trading switch's HALT an account's own CANCEL_ONLY holds a flatten's close the HALT lets go, and is the cause.
 */
export function switchHoldText(state: KernelState, order: Order, reason: SwitchHoldReason): string {
  const accountSwitch = state.accountSwitches.get(order.accountId)?.switch
  if (reason === 'KILL_SWITCH_HALT' || reason === 'KILL_SWITCH_CANCEL_ONLY' || accountSwitch === undefined) return `trading switch is ${state.tradingSwitch}`
  return `account ${order.accountId}'s own switch is ${accountSwitch}`
}

function gateInput(state: KernelState, order: Order, command: SendCommand): GateInput {
  const policy = state.policies.get(order.accountId)
  const key = instrumentKey(order.venue, order.symbol)
  // A flatten close only reduces risk and bypasses intake's policy guard by design (flatten.ts): the policy's window
  // and instrument list do not hold it, or the account an operator flattens because its policy ran out, or dropped
  // the instrument, keeps its position (the close was Rejected GATE_BLOCKED). The policy must still exist, and allow
  // live in live: those are who may trade live at all, not what.
  const close = order.flattenId !== null
  const policyAllows =
    policy !== undefined &&
    (close || (policyValidAt(policy, command.nowMs) && policy.instruments.includes(key))) &&
    (state.mode !== 'live' || policy.liveAllowed)
  const reserved = state.accounts.get(order.accountId)?.reserved.get(order.reservation.asset) ?? 0n
  // A place must hold its whole reservation; an amend must hold the worst case of the order and the amend.
  const heldEnough = command.action === 'amend' ? order.reservation.remaining >= heldFor(order) : order.reservation.remaining === order.reservation.total
  const reservationHeld = order.reservation.total > 0n && heldEnough && reserved >= order.reservation.remaining
  const guardsFailure = guardRefusingSend(state, order, command)
  const input: GateInput = {
    ...command.facts,
    action: command.action,
    mode: state.mode,
    policyAllows,
    guardsPassed: guardsFailure === null,
    reservationHeld,
    ...healthGateFacts(state, order, command.nowMs),
  }
  // Set, not spread from an object made for it (the gate reads members by name: their order does not matter).
  if (guardsFailure !== null) input.guardsFailure = guardsFailure
  if (close && policyAllows) input.policyDetail = CLOSE_POLICY_DETAIL
  return input
}

const CLOSE_POLICY_DETAIL = "a flatten close: the account's policy exists (and allows live in live); its validity and instrument list do not hold a close"

/**
 * The reason of a send the gate blocked: VENUE_HEALTH_CRITICAL when check 8 is the first check that holds the send in
 * this mode (a client can tell a sick venue from the rest), GATE_BLOCKED otherwise.
 */
function blockedReason(gate: GateVerdict): 'GATE_BLOCKED' | 'VENUE_HEALTH_CRITICAL' {
  const first = gate.checks.find((item) => !item.pass && (gate.mode === 'live' || !LIVE_ONLY.has(item.check)))
  return first?.check === 'health_not_critical' ? 'VENUE_HEALTH_CRITICAL' : 'GATE_BLOCKED'
}

/**
 * §15 check 4 at the send itself. Every queued order passed all intake guards when it was accepted (an order refused
 * by one never exists), but the guard whose facts move with the market may not pass any more: an order can wait in
 * its lane (a HALT, a venue throttling, a full instrument) while its reference price goes missing, stale or jumps, or
 * moves away from its limit. So a place or amend faces data health and the price band again, at the reference price
 * observed for this send, on the price it sends (an amend's as its own intake checked it: a new price, or the standing
 * one when it adds quantity), the account policy's limits on the order (policyLimitRefusing) and the instrument's
 * rules (instrumentRuleRefusing): its config may have changed since, at a start. Cancels reduce risk and never face
 * it; nor do flatten's closes, operator-issued risk reducers that bypass intake by design. A send command without a
 * market (a command record of an older leader) is decided as that leader decided it.
 */
function guardRefusingSend(state: KernelState, order: Order, command: SendCommand): ReasonCode | null {
  if (command.action === 'cancel' || order.flattenId !== null || command.market === undefined) return null
  const instrument = state.instruments.get(instrumentKey(order.venue, order.symbol))
  const params = state.config?.params
  if (instrument === undefined || params === undefined) return 'INSTRUMENT_UNKNOWN'
  const price = command.action === 'amend' ? amendBandPrice(order) : order.price
  const market = command.market
  // Data health's verdict without its record (a send records the gate, not the guard's inputs): no inputs, result or
  // argument object per send, and the book order is built only when a book limit is on.
  const reason = marketDataReason(market, command.nowMs, price, instrument, params) ?? bookRecheck(order, command.action, price, market, instrument, params)
  if (reason !== null || market === null) return reason
  const limit = policyLimitRefusing(state, order, command.action, { instrument, referencePrice: market.referencePrice })
  if (limit !== null) return limit
  if (command.action === 'place' && !marketOrderCovered(order, { instrument, takerFeeBps: params.takerFeeBps, referencePrice: market.referencePrice })) return 'INSUFFICIENT_FUNDS'
  return instrumentRuleRefusing(order, command.action, { instrument, referencePrice: market.referencePrice })
}

/**
 * The account policy's limits on the order itself (guard 2's market-order enablement and maxOrderNotional), read again
 * at the send, as a resend reads them (resend.ts): a start whose config changed records the new policies
 * (kernel.configured) before its executor sends what the stop left queued, and an order accepted under the old ones
 * would otherwise go out as a market order the policy no longer allows, or past the cap it lowered. The order is
 * priced as recorded, as a resend prices it: its limit, a protected buy's protection price, else the band's upper edge
 * of the reference price of this send; an amend at its target. A missing policy or an unlisted instrument is check
 * 3's (policy_allow), not this. Of newOrdersBy only the empty list is read (no kind may place or amend): the order does
 * not record the kind of principal that placed it, so a list naming some kinds cannot be checked against it.
 */
function policyLimitRefusing(state: KernelState, order: Order, action: 'place' | 'amend', at: { instrument: Instrument; referencePrice: Units }): ReasonCode | null {
  const policy = state.policies.get(order.accountId)
  if (policy === undefined) return null
  if (policy.newOrdersBy?.length === 0) return 'PRINCIPAL_KIND_NOT_ALLOWED'
  if (order.type === 'market' && !policy.marketOrderInstruments.includes(instrumentKey(order.venue, order.symbol))) return 'MARKET_ORDERS_DISABLED'
  const amend = action === 'amend' ? order.amend : null
  const qty = amend?.qty ?? order.qty
  const price = amend?.price ?? order.price ?? (order.side === 'buy' ? order.protectionPrice : null) ?? marketWorstPrice(at.referencePrice, at.instrument)
  return mulUnits(qty, price, 'up') > policy.maxOrderNotional ? 'ORDER_NOTIONAL_LIMIT' : null
}

/**
 * The instrument's rules on the order as recorded (guard 6's, unsupportedReason and sizeReason; an amend's, at its
 * target, its sizes only, as its intake checked), read again at the send for the same reason as the policy's limits:
 * a start may have recorded changed instruments, and the venue refuses what they no longer take. The order was rounded
 * to the tick and lot of its intake and goes out as recorded, never rounded again (its reservation is for what it
 * was): a price (a limit, an amend's, a protected market order's protection price) or a quantity the rounding would now
 * move is off the new tick (PRICE_OFF_TICK) or lot (QTY_OFF_LOT). The notional is intake's: a market order's at the
 * reference price of this send. A resend reads them too (resend.ts), as a place: refused up front, not reserved again.
 */
export function instrumentRuleRefusing(order: Order, action: 'place' | 'amend', at: { instrument: Instrument; referencePrice: Units }): ReasonCode | null {
  const { instrument } = at
  const amend = action === 'amend' ? order.amend : null
  if (amend === null) {
    const unsupported = unsupportedReason(order, instrument)
    if (unsupported !== null) return unsupported
  }
  const qty = amend?.qty ?? order.qty
  const limit = amend?.price ?? order.price
  const sentAt = limit ?? order.protectionPrice
  if (sentQty(qty, instrument) !== qty) return 'QTY_OFF_LOT'
  if (sentAt !== null && sentPrice(sentAt, order.side, instrument) !== sentAt) return 'PRICE_OFF_TICK'
  return sizeReason({ qty, price: limit, notional: mulUnits(qty, limit ?? at.referencePrice, 'down') }, instrument)
}

/** The book rules at the send (data health's last part), for what faces them: a place, an amend its intake checked. */
function bookRecheck(order: Order, action: 'place' | 'amend', price: Units | null, market: MarketSnapshot | null, instrument: Instrument, params: KernelParams): ReasonCode | null {
  if (market === null || bookLimitsOff(instrument, params)) return null
  const book = bookOrderOf(order, action, price)
  return book === null ? null : bookReason(book, market, instrument, params)
}

/**
 * Whether a market order's reservation still covers its worst case at the reference price of its send. It was reserved
 * at the band edge of the price at intake; while it waited in its lane the price may have drifted past that edge in
 * steps no jump check sees, and a plain market buy sent then could spend more than it holds. A protected one cannot:
 * it goes out as a limit at its protection price (venue-form.ts), which its reservation covers — drifted past, it
 * just fills less. A limit order's worst case is its limit (the band check above keeps that near the market); a sell
 * holds its quantity, whatever the price.
 */
function marketOrderCovered(order: Order, at: { instrument: Instrument; takerFeeBps: number; referencePrice: Units }): boolean {
  if (order.price !== null || order.side !== 'buy') return true
  const { instrument, takerFeeBps } = at
  const worstPrice = order.protectionPrice ?? marketWorstPrice(at.referencePrice, instrument)
  const quote = reservationFor({ side: order.side, qty: order.qty, worstPrice, takerFeeBps, instrument })
  return quote.amount <= order.reservation.total
}

/** The order as the book rules see this send: a place as it is, an amend as its target when its intake checked one. */
function bookOrderOf(order: Order, action: 'place' | 'amend', bandPrice: Units | null): BookOrder | null {
  if (action === 'place') return { side: order.side, orderType: order.type, reduceOnly: order.reduceOnly, price: order.price, qty: order.qty }
  const amend = order.amend
  return amend === null || bandPrice === null ? null : { side: order.side, orderType: order.type, reduceOnly: order.reduceOnly, price: amend.price, qty: amend.qty }
}

/** The price an amend's intake band-checked: its new price, or the standing one when it adds quantity; else none. */
function amendBandPrice(order: Order): Units | null {
  const amend = order.amend
  if (amend === null) return null
  return amend.price !== order.price || amend.qty > order.qty ? amend.price : null
}
