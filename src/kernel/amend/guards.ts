/**
 * The intake guards as they apply to an amend of a resting order, in the §5 order. An amend reuses the order's
 * instrument, side and type; what it changes is quantity and price, so each guard looks at the amended order:
 * syntax (something to change, above what has filled), policy (role, scope, validity, instrument, notional, no
 * cross of the account's own open orders: intake/self-trade.ts), mode
 * (the intake mode guard as is), data health (the intake guard, band-checking a new price, or the standing one when
 * the amend adds quantity at it), reservation (the extra worst case over what the order already holds),
 * capability/rounding (the amended order rounds and fits the instrument like a new one) and lane admission (Lane2,
 * like a new order). Like a new order's, every guard prices the amended order as it will be sent: rounded to the tick
 * and the lot (intake/sent-order.ts).
 */

import { hasAnyRole, newOrdersAllowedFor, policyValidAt, rolesText, TRADING_ROLES, type Policy, type Principal } from '../../domain/accounts.ts'
import { kindInputs } from '../intake/guard-policy.ts'
import { formatDecimal, maxUnits, mulUnits, type Units } from '../../domain/decimal.ts'
import { instrumentKey, type Instrument } from '../../domain/instruments.ts'
import type { KernelParams } from '../../domain/kernel-config.ts'
import type { Order } from '../../domain/orders.ts'
import { failed, passed, type GuardResult } from '../intake/guard-result.ts'
import { selfTradeCheck } from '../intake/self-trade.ts'
import { sentPrice, sentQty } from '../intake/sent-order.ts'
import { isRecordableUnits, RECORD_UNITS_MAX } from '../../domain/recordable-amounts.ts'
import { remainingAfterFill, reservationFor, syntheticHeldFor } from '../reservations.ts'
import { availableBalance, type KernelState } from '../state.ts'

/** The amended order: the new values, or the order's where the amend leaves them; before rounding, or after (sentTarget). */
export interface AmendTarget {
  qty: Units
  price: Units
}

export function amendSyntaxGuard(order: Order, input: { qty: Units | null; price: Units | null }): GuardResult<AmendTarget> {
  const text = (units: Units | null): string | null => (units === null ? null : formatDecimal(units))
  const inputs = { qty: text(input.qty), price: text(input.price), cumQty: formatDecimal(order.cumQty) }
  if (input.qty === null && input.price === null) return failed('SYNTAX_INVALID', { ...inputs, error: 'an amend needs a new qty, a new price, or both' })
  if ((input.qty !== null && input.qty <= 0n) || (input.price !== null && input.price <= 0n)) {
    return failed('SYNTAX_INVALID', { ...inputs, error: 'qty and price must be positive' })
  }
  const qty = input.qty ?? order.qty
  if (qty <= order.cumQty) return failed('AMEND_QTY_BELOW_FILLED', inputs)
  // Only limit orders rest, and only resting orders are amendable, so the order has a price.
  const price = input.price ?? order.price ?? 0n
  return passed({ qty, price }, inputs)
}

/** The amended order as it will be sent: its price rounded to the tick (never more aggressive), its qty down to the lot. */
export function sentTarget(order: Order, target: AmendTarget, instrument: Instrument): AmendTarget {
  return { qty: sentQty(target.qty, instrument), price: sentPrice(target.price, order.side, instrument) }
}

export interface AmendPolicyValue {
  policy: Policy
  instrument: Instrument
}

export function amendPolicyGuard(
  state: KernelState,
  input: { principal: Principal; order: Order; target: AmendTarget; nowMs: number },
): GuardResult<AmendPolicyValue> {
  const { principal, order, target } = input
  const key = instrumentKey(order.venue, order.symbol)
  const policy = state.policies.get(order.accountId)
  const instrument = state.instruments.get(key)
  const inputs = { principalId: principal.id, roles: rolesText(principal.roles), account: order.accountId, instrument: key, policyPresent: policy !== undefined }
  if (!hasAnyRole(principal, TRADING_ROLES)) return failed('PERMISSION_DENIED', inputs)
  if (!principal.accounts.includes(order.accountId)) return failed('ACCOUNT_NOT_PERMITTED', inputs)
  if (policy === undefined) return failed('POLICY_MISSING', inputs)
  if (!policyValidAt(policy, input.nowMs)) return failed('POLICY_EXPIRED', { ...inputs, validFromMs: policy.validFromMs, validUntilMs: policy.validUntilMs })
  // An amend is a new order's terms sent again (it may raise them): a kind the policy keeps from placing may not amend.
  if (!newOrdersAllowedFor(policy, principal)) return failed('PRINCIPAL_KIND_NOT_ALLOWED', { ...inputs, ...kindInputs(policy, principal) })
  if (instrument === undefined) return failed('INSTRUMENT_UNKNOWN', inputs)
  if (!policy.instruments.includes(key)) return failed('SYMBOL_NOT_ALLOWED', inputs)
  const sent = sentTarget(order, target, instrument)
  const notional = mulUnits(sent.qty, sent.price, 'up')
  const limits = { ...inputs, ...kindInputs(policy, principal), notional: formatDecimal(notional), maxOrderNotional: formatDecimal(policy.maxOrderNotional) }
  if (notional > policy.maxOrderNotional) return failed('ORDER_NOTIONAL_LIMIT', limits)
  // The amended order must not cross one of the account's own open orders on the other side, as a new one must not.
  const selfTrade = selfTradeCheck(state, policy, { accountId: order.accountId, instrumentKey: key, side: order.side, price: sent.price })
  const checked = { ...limits, ...selfTrade.inputs }
  if (selfTrade.crosses) return failed('SELF_TRADE_PREVENTED', checked)
  return passed({ policy, instrument }, checked)
}

/**
 * What the amended order must reserve (its new total) and whether the account can cover the part of it the order does
 * not already hold. `sent` is the amended order as it will be sent (sentTarget), like a new order's reservation (see
 * intake/guard-reservation.ts): what is checked is what is held.
 */
export function amendReservationGuard(
  state: KernelState,
  input: { order: Order; sent: AmendTarget; instrument: Instrument; params: KernelParams },
): GuardResult<Units> {
  const { order, sent, instrument } = input
  const quote = reservationFor({
    side: order.side,
    qty: sent.qty,
    worstPrice: sent.price,
    takerFeeBps: input.params.takerFeeBps,
    instrument,
  })
  // Rounding may take the qty to or below what has filled; capability (next) refuses that, so hold nothing more here.
  const needed = sent.qty > order.cumQty ? remainingAfterFill(quote.amount, sent.qty, order.cumQty) : 0n
  // The order's synthetic quantity pending a true-up keeps its share held beside (syntheticHeldFor), the current
  // version's while the amend is pending and the amended one's once it applies: the larger is checked.
  const amended = sent.qty > order.cumQty ? syntheticHeldFor({ ...order, qty: sent.qty, reservation: { ...order.reservation, total: quote.amount } }) : 0n
  const extra = maxUnits(0n, needed + maxUnits(syntheticHeldFor(order), amended) - order.reservation.remaining)
  const available = availableBalance(state, order.accountId, quote.asset)
  const inputs = {
    side: order.side,
    asset: quote.asset,
    total: formatDecimal(quote.amount),
    needed: formatDecimal(needed),
    held: formatDecimal(order.reservation.remaining),
    extra: formatDecimal(extra),
    available: formatDecimal(available),
  }
  // A total no record can hold could not be logged (guard-reservation.ts).
  if (!isRecordableUnits(quote.amount)) return failed('ORDER_NOTIONAL_LIMIT', { ...inputs, recordableMax: formatDecimal(RECORD_UNITS_MAX) })
  if (available < extra) return failed(order.side === 'buy' ? 'INSUFFICIENT_FUNDS' : 'INSUFFICIENT_POSITION', inputs)
  return passed(quote.amount, inputs)
}

/** Rounds the amended order like a new one (price to tick, never more aggressive; quantity down to lot) and checks it fits. */
export function amendCapabilityGuard(input: { order: Order; target: AmendTarget; instrument: Instrument }): GuardResult<AmendTarget> {
  const { order, target, instrument } = input
  const { qty, price } = sentTarget(order, target, instrument)
  const notional = mulUnits(qty, price, 'down')
  const inputs = {
    price: formatDecimal(price),
    qty: formatDecimal(qty),
    notional: formatDecimal(notional),
    tickSize: formatDecimal(instrument.tickSize),
    lotSize: formatDecimal(instrument.lotSize),
    minQty: formatDecimal(instrument.minQty),
    maxQty: formatDecimal(instrument.maxQty),
    minNotional: formatDecimal(instrument.minNotional),
  }
  if (qty < instrument.minQty || price === 0n) return failed('QTY_BELOW_MIN', inputs)
  if (qty > instrument.maxQty) return failed('QTY_ABOVE_MAX', inputs)
  if (qty <= order.cumQty) return failed('AMEND_QTY_BELOW_FILLED', inputs)
  if (notional < instrument.minNotional) return failed('NOTIONAL_BELOW_MIN', inputs)
  return passed({ qty, price }, inputs)
}
