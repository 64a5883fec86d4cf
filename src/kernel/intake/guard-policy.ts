/**
 * Guard 2 — permission and policy. Who asks (role, account scope), then what the account's policy allows: a missing
 * or expired policy denies, the instrument must be listed, market orders must be explicitly enabled for the account
 * and instrument (§14), and the order notional and the count of open orders must be within the policy's limits. The
 * notional is the order's as sent (sent-order.ts): rounded qty × rounded limit price, or for a market order the worst
 * price its reservation assumes (the band's upper edge).
 */

import { hasAnyRole, policyValidAt, TRADING_ROLES, type Policy, type Principal } from '../../domain/accounts.ts'
import { formatDecimal, mulUnits } from '../../domain/decimal.ts'
import { instrumentKey, type Instrument } from '../../domain/instruments.ts'
import type { MarketSnapshot } from '../../domain/market.ts'
import type { PlaceBody } from '../../domain/orders.ts'
import type { KernelState } from '../state.ts'
import { failed, passed, type GuardResult } from './guard-result.ts'
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
  const inputs = { principalId: principal.id, roles: principal.roles.join(','), account: body.account, instrument: key, policyPresent: policy !== undefined }
  if (!hasAnyRole(principal, TRADING_ROLES)) return failed('PERMISSION_DENIED', inputs)
  if (!principal.accounts.includes(body.account)) return failed('ACCOUNT_NOT_PERMITTED', inputs)
  if (policy === undefined) return failed('POLICY_MISSING', inputs)
  if (!policyValidAt(policy, input.nowMs)) return failed('POLICY_EXPIRED', { ...inputs, validFromMs: policy.validFromMs, validUntilMs: policy.validUntilMs })
  if (instrument === undefined) return failed('INSTRUMENT_UNKNOWN', inputs)
  if (!policy.instruments.includes(key)) return failed('SYMBOL_NOT_ALLOWED', inputs)
  if (body.type === 'market' && !policy.marketOrderInstruments.includes(key)) return failed('MARKET_ORDERS_DISABLED', { ...inputs, orderType: body.type })
  // A market order is priced from the observed reference price; with none (or none positive), guard 4 refuses it anyway.
  const referencePrice = input.market?.referencePrice ?? 0n
  const price = body.price !== undefined ? sentPrice(body.price, body.side, instrument) : referencePrice > 0n ? marketWorstPrice(referencePrice, instrument) : null
  const notional = price === null ? null : mulUnits(sentQty(body.qty, instrument), price, 'up')
  const limits = { ...inputs, notional: notional === null ? null : formatDecimal(notional), maxOrderNotional: formatDecimal(policy.maxOrderNotional) }
  if (notional !== null && notional > policy.maxOrderNotional) return failed('ORDER_NOTIONAL_LIMIT', limits)
  const open = state.openOrders.get(body.account) ?? 0
  if (open >= policy.maxOpenOrders) return failed('OPEN_ORDERS_LIMIT', { ...limits, openOrders: open, maxOpenOrders: policy.maxOpenOrders })
  return passed({ policy, instrument }, { ...limits, openOrders: open })
}
