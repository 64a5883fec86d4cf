/**
 * Guard 2 — permission and policy. Who asks (role, account scope), then what the account's policy allows: a missing
 * or expired policy denies, the principal's kind (bot or trader) must be one the policy lets place new orders (§9; a
 * policy that names none lets every kind, and its kinds appear among the inputs only when it names them), the instrument must be listed, market orders must be explicitly enabled for the account
 * and instrument (§14), and the order notional and the count of open orders must be within the policy's limits. The
 * notional is the order's as sent (sent-order.ts): rounded qty × rounded limit price, or for a market order the worst
 * price its reservation assumes (the band's upper edge). Last, when the policy's selfTrade says `reject`, the order
 * must not cross an open order of the same account on the other side of the instrument (self-trade.ts,
 * SELF_TRADE_PREVENTED).
 */

import { hasAnyRole, newOrdersAllowedFor, policyValidAt, principalKindOf, rolesText, TRADING_ROLES, type Policy, type Principal } from '../../domain/accounts.ts'
import { formatDecimal, mulUnits } from '../../domain/decimal.ts'
import { instrumentKey, type Instrument } from '../../domain/instruments.ts'
import type { MarketSnapshot } from '../../domain/market.ts'
import type { PlaceBody } from '../../domain/orders.ts'
import type { KernelState } from '../state.ts'
import { failed, passed, type GuardInputs, type GuardResult } from './guard-result.ts'
import { NO_SELF_TRADE_INPUTS, selfTradeCheck } from './self-trade.ts'
import { marketWorstPrice, sentPrice, sentQty } from './sent-order.ts'

export interface PolicyValue {
  policy: Policy
  instrument: Instrument
}

export function policyGuard(
  state: KernelState,
  input: { principal: Principal; body: PlaceBody; market: MarketSnapshot | null; nowMs: number },
): GuardResult<PolicyValue> {
  const { principal, body } = input
  const key = instrumentKey(body.venue, body.symbol)
  const policy = state.policies.get(body.account)
  const instrument = state.instruments.get(key)
  const inputs: GuardInputs = { principalId: principal.id, roles: rolesText(principal.roles), account: body.account, instrument: key, policyPresent: policy !== undefined }
  if (!hasAnyRole(principal, TRADING_ROLES)) return failed('PERMISSION_DENIED', inputs)
  if (!principal.accounts.includes(body.account)) return failed('ACCOUNT_NOT_PERMITTED', inputs)
  if (policy === undefined) return failed('POLICY_MISSING', inputs)
  if (!policyValidAt(policy, input.nowMs)) return failed('POLICY_EXPIRED', { ...inputs, validFromMs: policy.validFromMs, validUntilMs: policy.validUntilMs })
  if (!newOrdersAllowedFor(policy, principal)) return failed('PRINCIPAL_KIND_NOT_ALLOWED', { ...inputs, ...kindInputs(policy, principal) })
  if (instrument === undefined) return failed('INSTRUMENT_UNKNOWN', inputs)
  if (!policy.instruments.includes(key)) return failed('SYMBOL_NOT_ALLOWED', inputs)
  if (body.type === 'market' && !policy.marketOrderInstruments.includes(key)) return failed('MARKET_ORDERS_DISABLED', { ...inputs, orderType: body.type })
  // A market order is priced from the observed reference price; with none (or none positive), guard 4 refuses it anyway.
  const referencePrice = input.market?.referencePrice ?? 0n
  const price = body.price !== undefined ? sentPrice(body.price, body.side, instrument) : referencePrice > 0n ? marketWorstPrice(referencePrice, instrument) : null
  const notional = price === null ? null : mulUnits(sentQty(body.qty, instrument), price, 'up')
  // From here the record's inputs grow in place, each step's members after the last's (one object, not one per step).
  addKindInputs(inputs, policy, principal)
  inputs.notional = notional === null ? null : formatDecimal(notional)
  inputs.maxOrderNotional = formatDecimal(policy.maxOrderNotional)
  if (notional !== null && notional > policy.maxOrderNotional) return failed('ORDER_NOTIONAL_LIMIT', inputs)
  const open = state.openOrders.get(body.account) ?? 0
  inputs.openOrders = open
  if (open >= policy.maxOpenOrders) return failed('OPEN_ORDERS_LIMIT', { ...inputs, maxOpenOrders: policy.maxOpenOrders })
  // The limit as sent (a market order has none: it crosses any open order on the other side).
  const limit = body.price === undefined ? null : sentPrice(body.price, body.side, instrument)
  const selfTrade = selfTradeCheck(state, policy, { accountId: body.account, instrumentKey: key, side: body.side, price: limit })
  const checked = selfTrade.inputs === NO_SELF_TRADE_INPUTS ? inputs : Object.assign(inputs, selfTrade.inputs)
  if (selfTrade.crosses) return failed('SELF_TRADE_PREVENTED', checked)
  return passed({ policy, instrument }, checked)
}

/**
 * The principal kind and the kinds the policy lets place new orders, for the decision record — only when the policy
 * names them: a policy without newOrdersBy decides (and records) exactly as before the field existed.
 */
export function kindInputs(policy: Policy, principal: Principal): { principalKind?: string; newOrdersBy?: string } {
  return policy.newOrdersBy === undefined ? {} : { principalKind: principalKindOf(principal), newOrdersBy: policy.newOrdersBy.join(',') }
}

/** kindInputs's members added to `inputs` (nothing when the policy names no kinds). */
function addKindInputs(inputs: GuardInputs, policy: Policy, principal: Principal): void {
  if (policy.newOrdersBy === undefined) return
  inputs.principalKind = principalKindOf(principal)
  inputs.newOrdersBy = policy.newOrdersBy.join(',')
}
