/**
 * Guard 2 — permission and policy. Who asks (role, account scope), then what the account's policy allows: a missing
 * or expired policy denies, the instrument must be listed, market orders must be explicitly enabled for the account
 * and instrument (§14), and the order notional and the count of open orders must be within the policy's limits.
 */

import { hasAnyRole, policyValidAt, TRADING_ROLES, type Policy, type Principal } from '../../domain/accounts.ts'
import { formatDecimal, mulUnits, roundToStep, type Units } from '../../domain/decimal.ts'
import { instrumentKey, type Instrument } from '../../domain/instruments.ts'
import type { MarketSnapshot } from '../../domain/market.ts'
import type { PlaceBody, Side } from '../../domain/orders.ts'
import type { KernelState } from '../state.ts'
import { failed, passed, type GuardResult } from './guard-result.ts'

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
  const inputs = { principalId: principal.id, roles: principal.roles.join(','), account: body.account, instrument: key, policyPresent: policy !== undefined }
  if (!hasAnyRole(principal, TRADING_ROLES)) return failed('PERMISSION_DENIED', inputs)
  if (!principal.accounts.includes(body.account)) return failed('ACCOUNT_NOT_PERMITTED', inputs)
  if (policy === undefined) return failed('POLICY_MISSING', inputs)
  if (!policyValidAt(policy, input.nowMs)) return failed('POLICY_EXPIRED', { ...inputs, validFromMs: policy.validFromMs, validUntilMs: policy.validUntilMs })
  if (instrument === undefined) return failed('INSTRUMENT_UNKNOWN', inputs)
  if (!policy.instruments.includes(key)) return failed('SYMBOL_NOT_ALLOWED', inputs)
  if (body.type === 'market' && !policy.marketOrderInstruments.includes(key)) return failed('MARKET_ORDERS_DISABLED', { ...inputs, orderType: body.type })
  // A market order's notional is estimated from the observed reference price; with none, guard 4 refuses it anyway.
  const price = body.price === undefined ? (input.market?.referencePrice ?? null) : sentPriceBound(body.price, body.side, instrument)
  const notional = price === null ? null : mulUnits(body.qty, price, 'up')
  const limits = { ...inputs, notional: notional === null ? null : formatDecimal(notional), maxOrderNotional: formatDecimal(policy.maxOrderNotional) }
  if (notional !== null && notional > policy.maxOrderNotional) return failed('ORDER_NOTIONAL_LIMIT', limits)
  const open = state.openOrders.get(body.account) ?? 0
  if (open >= policy.maxOpenOrders) return failed('OPEN_ORDERS_LIMIT', { ...limits, openOrders: open, maxOpenOrders: policy.maxOpenOrders })
  return passed({ policy, instrument }, { ...limits, openOrders: open })
}

/**
 * The highest limit price the order can be sent at: guard 6 rounds a sell's price up to the tick (a buy's down), so
 * the max-notional check, which runs before rounding, must use the rounded-up sell price or a sell priced just under
 * the limit would be sent just over it.
 */
export function sentPriceBound(price: Units, side: Side, instrument: Instrument): Units {
  return side === 'sell' ? roundToStep(price, instrument.tickSize, 'up') : price
}
