/**
 * Self-trade prevention (spec 004 §3 `quote_protection/`, §8 quote protection), the last check of guard 2: an order
 * that would cross an open order of the same account on the same venue and symbol, on the other side, is refused
 * SELF_TRADE_PREVENTED before it reaches the venue — it could only trade with the account itself (a wash trade). A
 * buy crosses when its limit is at or above the account's lowest open sell; a sell when at or below its highest open
 * buy; a market order crosses any open order on the other side, and any order crosses an open market order there.
 * "Open" is not terminal (own-quotes.ts): queued, in flight, resting, cancel asked or pending, Unknown.
 *
 * Decided from the kernel state alone (the own-quotes index), so a replay and a snapshot restore decide the same. It
 * holds for a new order, an OCO list's legs (the second sees the first: two legs that cross would trade with each
 * other at the venue; legs on opposite sides that do not cross pass), an amend's new terms and a resend. A flatten's
 * closes bypass intake (flatten.ts), so the orders it cancels never block them. At the send itself it is not checked
 * again: no order that crosses a queued one can be accepted while that one is open, so what intake passed still holds.
 *
 * The decision record: when the account has an open order on the other side, the nearest one (`selfTradeOrderId`,
 * `selfTradePrice`, "market" for a market order), whether the order crossed it or not; nothing when it has none, so
 * an account quoting one side records what it recorded before the check existed.
 *
 * Per account (the policy's `selfTrade`): only a policy that says `reject` (this build's default) is checked. One that
 * says `allow` lets crossing orders through and records `selfTrade: "allow"`; one without the field — a policy from a
 * `kernel.configured` written before the check existed — is not checked and records nothing, so an older log is
 * re-decided (redecide, a standby) exactly as its build decided it.
 */

import { selfTradeRefused, type Policy } from '../../domain/accounts.ts'
import { formatDecimal, type Units } from '../../domain/decimal.ts'
import type { Side } from '../../domain/orders.ts'
import { nearestOwnOpposite } from '../own-quotes.ts'
import type { KernelState } from '../state.ts'
import type { GuardInputs } from './guard-result.ts'

export interface SelfTradeVerdict {
  crosses: boolean
  inputs: GuardInputs
}

/** The inputs of a check that records nothing (shared, frozen: every order with no open order opposite). */
export const NO_SELF_TRADE_INPUTS: GuardInputs = Object.freeze({})
const NOT_CHECKED: SelfTradeVerdict = Object.freeze({ crosses: false, inputs: NO_SELF_TRADE_INPUTS })
const ALLOWED: SelfTradeVerdict = Object.freeze({ crosses: false, inputs: Object.freeze({ selfTrade: 'allow' }) })

/**
 * `price` is the order's limit as it will be sent, null for a market order; `policy` the account's. The verdict and
 * its inputs may be shared (frozen) objects: the caller copies the inputs into its own.
 */
export function selfTradeCheck(state: KernelState, policy: Policy, order: { accountId: string; instrumentKey: string; side: Side; price: Units | null }): SelfTradeVerdict {
  if (!selfTradeRefused(policy)) return policy.selfTrade === 'allow' ? ALLOWED : NOT_CHECKED
  const opposite = nearestOwnOpposite(state, order)
  if (opposite === null) return NOT_CHECKED
  const inputs = { selfTradeOrderId: opposite.orderId, selfTradePrice: opposite.price === null ? 'market' : formatDecimal(opposite.price) }
  return { crosses: crosses(order.side, order.price, opposite.price), inputs }
}

/** Whether an order on `side` at `price` would trade with an opposite order at `opposite` (null: a market order). */
export function crosses(side: Side, price: Units | null, opposite: Units | null): boolean {
  if (price === null || opposite === null) return true
  return side === 'buy' ? price >= opposite : price <= opposite
}
