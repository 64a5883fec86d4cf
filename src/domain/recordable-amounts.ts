/**
 * The amounts a log record can hold, and the bound on the venue figures the kernel multiplies together.
 *
 * A record holds an amount of at most 20 whole digits and 8 places (decimal.ts parseDecimal reads no more), and the
 * log's writer asserts on anything larger (events/binary-writer.ts): that is a kernel bug, never a venue's doing. So
 * every figure a venue states is bounded on the way in (src/runtime/report-check.ts, read-back-check.ts), and so is
 * what the kernel derives from them and records:
 * - a fill's cash and notional, quantity × price (order.fill_trued_up `cash`, `notional`: a share of one fill's
 *   quantity at its price). A fill whose whole cash fits has every share of it fit, so the check is one product per
 *   fill, `fillCashRecordable`. The bound is on the product, not on each figure's digits: a split of the 20 digits
 *   between quantity and price (say 11 and 9) would refuse real markets at either end — a meme coin's quantity in the
 *   hundreds of billions, Bitcoin priced in rupiah at ten digits — while no real fill comes near 10^20 in cash.
 * - the quantities of one read-back's trades added up (the running venue cumulative quantity, order.fill_covered
 *   `venueCumQty`): each running total must be `isRecordableUnits`.
 * What no single report or answer shows — synthetic cash summed over several read-backs (order.fill_trued_up
 * `syntheticCash`) — is checked where the kernel adds it up (kernel/reconcile.ts syntheticFill).
 */

import { UNIT, type Units } from './decimal.ts'

/** The largest amount a record holds: 99,999,999,999,999,999,999.99999999 (20 whole digits, 8 places). */
export const RECORD_UNITS_MAX: Units = 10n ** 28n - 1n

/** The largest quantity × price (units × units) whose cash, rounded up to units, a record holds: ⌈product ÷ UNIT⌉ ≤ RECORD_UNITS_MAX. */
export const FILL_PRODUCT_MAX = RECORD_UNITS_MAX * UNIT

/** Whether a record can hold `amount` (either sign). */
export function isRecordableUnits(amount: Units): boolean {
  return amount <= RECORD_UNITS_MAX && amount >= -RECORD_UNITS_MAX
}

/**
 * Whether the cash and notional of a fill of `qty` at `price` (both positive), and of any part of it, fit a record:
 * rounded either way, each is at most ⌈qty × price ÷ UNIT⌉.
 */
export function fillCashRecordable(qty: Units, price: Units): boolean {
  return qty * price <= FILL_PRODUCT_MAX
}
