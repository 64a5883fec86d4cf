/**
 * Resend: an operator's or a start's request to send again an order reconciliation proved the venue never received
 * (Failed, not at venue; reconcile.ts `resendable`). The order keeps its id and venue client order id, so the venue
 * would recognise a second copy; and it is Failed, which is terminal, so it holds nothing — the resend reserves it
 * once again, never twice.
 *
 * It is a new send of the order, possibly long after intake passed it, so it faces again the checks whose facts may
 * have changed since, on the order as recorded (already rounded): the trading switch (as the send path applies it),
 * the account's policy (present, valid now, instrument listed, market orders enabled, max notional, open orders, no
 * cross of the account's own open orders — while Failed the order blocked none, so one crossing it may be open now),
 * data health and the price band at the current reference price, the instrument's rules (send.ts
 * instrumentRuleRefusing, the send's own check: a start may have recorded changed ones, and the send would block the
 * order after it was reserved again), and the reservation (a market order's at the band edge of the current price, or
 * a protected buy's at its recorded protection price, the limit it is sent at again). Flatten closes skip policy, band
 * and instrument rules, as they skip intake (flatten.ts) and the send's guards. The mode guard's
 * live prerequisites are the I-100 gate's at the send itself. Lane admission is not re-run: a resend is not new
 * client load, and a start resends before intake opens.
 *
 * A refusal leaves the order as it was (Failed, or whatever made it not resendable), and it is recorded: an
 * `order.resend_refused` with who asked, the reason code and what the refusing check looked at, so the order's events,
 * its explanation and the audit chain say why a resend (a start's, which no caller reads the reply of) did not happen.
 * Two refusals write nothing: a request naming no order (there is no order to attach it to), and one by a principal
 * who may not act for the order's account (it must not write into the history of an account it cannot see).
 */

import { policyValidAt } from '../domain/accounts.ts'
import { formatDecimal, mulUnits, type Units } from '../domain/decimal.ts'
import { instrumentKey, type Instrument } from '../domain/instruments.ts'
import type { ReasonCode } from '../domain/reasons.ts'
import type { Order } from '../domain/orders.ts'
import { DONE_REPLY, type Decision, type ResendCommand } from './commands.ts'
import { dataHealthGuard } from './intake/guard-data-health.ts'
import type { GuardInputs } from './intake/guard-result.ts'
import type { EventOf } from '../domain/events/index.ts'
import { marketWorstPrice, plainMarketWorstPrice } from './intake/sent-order.ts'
import { selfTradeCheck } from './intake/self-trade.ts'
import { mayActFor } from './permissions.ts'
import { firedListOf } from './order-lists/index.ts'
import { resendable } from './reconcile.ts'
import { reservationFor } from './reservations.ts'
import { instrumentRuleRefusing, switchHolds, switchHoldText } from './send.ts'
import { ttlPassed } from './ttl.ts'
import { attributed, attributionOf } from './attribution.ts'
import { availableBalance, type KernelState } from './state.ts'

export function decideResend(state: KernelState, command: ResendCommand): Decision {
  const order = state.orders.get(command.orderId)
  if (order === undefined) return refusedUnrecorded('ORDER_NOT_FOUND', command.orderId)
  if (!mayActFor(command.principal, order.accountId)) return refusedUnrecorded('ACCOUNT_NOT_PERMITTED', order.accountId)
  const refused = (reason: ReasonCode, detail: string): Decision => refusedRecorded(state, command, reason, detail)
  if (!resendable(order)) return refused('ORDER_NOT_RESENDABLE', notResendableDetail(order))
  // Past its time-to-live the order is never sent (send.ts would only read it back): reserving it again serves nothing.
  if (ttlPassed(order, command.nowMs)) return refused('ORDER_NOT_RESENDABLE', `its time-to-live ended at ${order.expiresAtMs}: it is never sent after it`)
  const list = firedListOf(state, order.orderId)
  if (list !== null && list.triggered !== null) {
    const { legOrderId, cause } = list.triggered
    return refused('ORDER_NOT_RESENDABLE', `a leg of order list ${list.listId}, which fired (${cause} of ${legOrderId}) and canceled the other leg: sent again, it would work on alone`)
  }
  const held = switchHolds(state, order, 'place')
  if (held !== null) return refused(held, switchHoldText(state, order, held))
  // In live a resend is a new send decided by who asks for it: a principal not allowed live may not send one, as it may
  // not place one (guard-mode.ts). An order decided in paper and Failed absent before paper → live was resent under
  // live by an operator not allowed live (the placer's own permission is not recorded on the order).
  if (state.mode === 'live' && !command.principal.liveAllowed) return refused('LIVE_NOT_PERMITTED', `the gateway is live and ${command.principal.id} is not allowed live`)
  const instrument = state.instruments.get(instrumentKey(order.venue, order.symbol))
  const params = state.config?.params
  if (instrument === undefined || params === undefined) return refused('INSTRUMENT_UNKNOWN', instrumentKey(order.venue, order.symbol))
  // A flatten's close faces neither the band nor the book rules; any other order faces both, as at its intake.
  const intake = order.flattenId === null
  const book = intake ? { side: order.side, orderType: order.type, price: order.price, qty: order.qty, reduceOnly: order.reduceOnly } : null
  const data = dataHealthGuard({ price: intake ? order.price : null, order: book, instrument, params, market: command.market, nowMs: command.nowMs })
  if (!data.pass) return refused(data.reason, `the reference price refuses the order now (${inputsText(data.inputs)})`)
  // The order goes out as recorded (rounded at intake, to the tick of its time): a limit is priced as it is, never
  // rounded again (to a tick changed since, a buy's would go down and the reservation fall short of what it sends).
  // So does a market order's protection price (venue-form.ts): a protected buy spends at most qty × it, whatever the
  // price now, and is reserved at it; a sell's (a floor) bounds nothing it holds, so it is priced at the band's edge.
  const protectedBuy = order.side === 'buy' ? order.protectionPrice : null
  const worstPrice = order.price ?? protectedBuy ?? marketWorstPrice(data.value, instrument)
  if (order.flattenId === null) {
    const policyRefusal = policyRefuses(state, { order, instrument, worstPrice, nowMs: command.nowMs })
    if (policyRefusal !== null) return refused(policyRefusal.reason, policyRefusal.detail)
    // The send reads the instrument's rules again (a start may have recorded changed ones) and would block the order.
    const rule = instrumentRuleRefusing(order, 'place', { instrument, referencePrice: data.value })
    if (rule !== null) return refused(rule, `the instrument's rules refuse the order as recorded now (${rulesText(instrument)})`)
  }
  const quote = reservationFor({ side: order.side, qty: order.qty, worstPrice, takerFeeBps: params.takerFeeBps, instrument })
  const available = availableBalance(state, order.accountId, quote.asset)
  if (available < quote.amount) {
    const detail = `the resend cannot be reserved again: needs ${formatDecimal(quote.amount)} ${quote.asset}, ${formatDecimal(available)} available`
    return refused(order.side === 'buy' ? 'INSUFFICIENT_FUNDS' : 'INSUFFICIENT_POSITION', detail)
  }
  const event: EventOf<'order.resend_requested'> = attributed(
    { type: 'order.resend_requested', atMs: command.nowMs, orderId: order.orderId, principalId: command.principal.id, reservationAmount: quote.amount },
    attributionOf(state, command),
  )
  // A plain market order is reserved again at the reference price of this resend: its fills are held to that worst price.
  if (order.price === null && order.protectionPrice === null) event.worstPrice = plainMarketWorstPrice(order.side, data.value, instrument)
  return { events: [event], reply: DONE_REPLY }
}

const POLICY_REFUSES = 'the account policy refuses the order now'

/** What the account's policy now says against sending the order, or null. The order is Failed: not among the open. */
function policyRefuses(state: KernelState, input: { order: Order; instrument: Instrument; worstPrice: Units; nowMs: number }): { reason: ReasonCode; detail: string } | null {
  const { order } = input
  const key = instrumentKey(order.venue, order.symbol)
  const policy = state.policies.get(order.accountId)
  const refusal = (reason: ReasonCode, detail = POLICY_REFUSES) => ({ reason, detail })
  if (policy === undefined) return refusal('POLICY_MISSING')
  if (!policyValidAt(policy, input.nowMs)) return refusal('POLICY_EXPIRED')
  if (!policy.instruments.includes(key)) return refusal('SYMBOL_NOT_ALLOWED')
  if (order.type === 'market' && !policy.marketOrderInstruments.includes(key)) return refusal('MARKET_ORDERS_DISABLED')
  if (mulUnits(order.qty, input.worstPrice, 'up') > policy.maxOrderNotional) return refusal('ORDER_NOTIONAL_LIMIT')
  if ((state.openOrders.get(order.accountId) ?? 0) >= policy.maxOpenOrders) return refusal('OPEN_ORDERS_LIMIT')
  // While it was Failed it blocked no one: an order crossing it may have been placed since. The detail names it, as
  // intake's decision record does (selfTradeOrderId, selfTradePrice), so the refusal says which order to look at.
  const selfTrade = selfTradeCheck(state, policy, { accountId: order.accountId, instrumentKey: key, side: order.side, price: order.price })
  if (selfTrade.crosses) return refusal('SELF_TRADE_PREVENTED', `${POLICY_REFUSES}: it would cross the account's own open order (${inputsText(selfTrade.inputs)})`)
  return null
}

/** Why resendable() (reconcile.ts) says no, checked in its order. */
function notResendableDetail(order: Order): string {
  if (order.status !== 'Failed') return `order is ${order.status}`
  if (!order.notAtVenue) return 'order is Failed, not proven absent at the venue'
  if (order.venueOrderId !== null) return `order is Failed, and the venue acknowledged it as ${order.venueOrderId}`
  if (order.cumQty !== 0n) return `order is Failed with ${formatDecimal(order.cumQty)} filled`
  return 'order is Failed with a cancel wanted'
}

/** A refusal about an order the principal may act for: recorded, and the same reason and detail in the reply. */
function refusedRecorded(state: KernelState, command: ResendCommand, reason: ReasonCode, detail: string): Decision {
  const event = attributed({ type: 'order.resend_refused', atMs: command.nowMs, orderId: command.orderId, principalId: command.principal.id, reason, detail }, attributionOf(state, command))
  return { events: [event], reply: { kind: 'refused', reason, detail } }
}

function refusedUnrecorded(reason: ReasonCode, detail: string): Decision {
  return { events: [], reply: { kind: 'refused', reason, detail } }
}

/** The instrument's rules a resend is checked against, as guard 6 records them. */
function rulesText(instrument: Instrument): string {
  const { tickSize, lotSize, minQty, maxQty, minNotional } = instrument
  const sizes = Object.entries({ tickSize, lotSize, minQty, maxQty, minNotional }).map(([name, value]) => `${name}=${formatDecimal(value)}`)
  const capabilities = [`orderTypes=${instrument.orderTypes.join('|')}`, `timeInForce=${instrument.timeInForce.join('|')}`, `postOnly=${instrument.postOnly}`, `reduceOnly=${instrument.reduceOnly}`]
  return [`instrument=${instrumentKey(instrument.venue, instrument.symbol)}`, ...capabilities, ...sizes].join(', ')
}

/** A guard's inputs as `name=value, …`, in the guard's own order (deterministic: the standby re-decides the same text). */
function inputsText(inputs: GuardInputs): string {
  return Object.entries(inputs).map(([name, value]) => `${name}=${value === null ? 'none' : String(value)}`).join(', ')
}
