/**
 * Balance and reservation bookkeeping inside apply(). The only place account ledgers change; reservations are
 * asserted never to go negative (a negative reservation would be a kernel bug, not an operating condition).
 */

import { assert } from '../domain/assert.ts'
import { formatDecimal, mulUnitsTwoWays, UNIT, type Units } from '../domain/decimal.ts'
import type { Order, Side } from '../domain/orders.ts'
import type { AccountLedger, KernelState } from './state.ts'

function ledgerOf(state: KernelState, accountId: string): AccountLedger {
  let ledger = state.accounts.get(accountId)
  if (ledger === undefined) {
    ledger = { balances: new Map(), reserved: new Map() }
    state.accounts.set(accountId, ledger)
  }
  return ledger
}

export function addBalance(state: KernelState, accountId: string, asset: string, delta: Units): void {
  addTo(ledgerOf(state, accountId).balances, asset, delta)
}

function addTo(balances: Map<string, Units>, asset: string, delta: Units): void {
  balances.set(asset, (balances.get(asset) ?? 0n) + delta)
}

export function addReserved(state: KernelState, accountId: string, asset: string, delta: Units): void {
  const ledger = ledgerOf(state, accountId)
  const next = (ledger.reserved.get(asset) ?? 0n) + delta
  if (next < 0n) assert(false, `reservation of ${accountId}/${asset} would go negative (${formatDecimal(next)})`)
  if (next === 0n) ledger.reserved.delete(asset)
  else ledger.reserved.set(asset, next)
}

/** Lowers an order's held reservation to `remaining` (never raises it) and releases the difference. */
export function releaseTo(state: KernelState, order: Order, remaining: Units): void {
  const held = order.reservation.remaining
  assert(remaining >= 0n, 'a reservation cannot be negative')
  if (remaining >= held) return
  addReserved(state, order.accountId, order.reservation.asset, remaining - held)
  order.reservation.remaining = remaining
}

/**
 * Sets an order's held reservation to `target`, raising or lowering it. Raising happens only where a decision checked
 * the funds (an accepted amend) or where venue evidence says the order is bigger than egress thought (truth wins).
 */
export function holdTo(state: KernelState, order: Order, target: Units): void {
  assert(target >= 0n, 'a reservation cannot be negative')
  const held = order.reservation.remaining
  if (target === held) return
  addReserved(state, order.accountId, order.reservation.asset, target - held)
  order.reservation.remaining = target
}

/**
 * Sets what a sell holds in its quote asset for the fee of its synthetic quantity pending a true-up
 * (Order.syntheticFeeHeld), raising or lowering it: beside its reservation, which holds its base asset.
 */
export function holdSyntheticFee(state: KernelState, order: Order, target: Units): void {
  assert(target >= 0n, 'a synthetic fee hold cannot be negative')
  const held = order.syntheticFeeHeld
  if (target === held) return
  addReserved(state, order.accountId, order.quoteAsset, target - held)
  order.syntheticFeeHeld = target
}

/**
 * What a fill of `qty` at `price` books in the quote asset: the cash, rounded against the account (a buy pays it
 * rounded up, a sell receives it rounded down), and the notional, rounded half-even (Order.cumNotional).
 */
export function fillAmounts(side: Side, qty: Units, price: Units): { cash: Units; notional: Units } {
  const [cash, notional] = mulUnitsTwoWays(qty, price, side === 'buy' ? 'up' : 'down', 'half_even')
  return { cash, notional }
}

/**
 * Moves cash and position for one fill: a buy pays quote and receives base; a sell the reverse; fees are paid. A real
 * fill keeps what rounding its notional dropped (Order.cumNotionalRemainder); a synthetic one, at a guessed price, keeps
 * none: its true-up takes back its notional as booked, rounded, and puts the real fill's in (bookTrueUp).
 */
export function bookFill(state: KernelState, order: Order, fill: { lastQty: Units; lastPrice: Units; fee: Units; feeAsset: string; synthetic: boolean }): void {
  const buy = order.side === 'buy'
  // Cash rounds against the account; the order's notional rounds half-even.
  const [notional, halfEvenNotional] = mulUnitsTwoWays(fill.lastQty, fill.lastPrice, buy ? 'up' : 'down', 'half_even')
  // One account lookup for the two or three balances a fill moves.
  const balances = ledgerOf(state, order.accountId).balances
  addTo(balances, order.quoteAsset, buy ? -notional : notional)
  addTo(balances, order.baseAsset, buy ? fill.lastQty : -fill.lastQty)
  if (fill.fee !== 0n) addTo(balances, fill.feeAsset, -fill.fee)
  order.cumNotional += halfEvenNotional
  if (!fill.synthetic) order.cumNotionalRemainder += fill.lastQty * fill.lastPrice - halfEvenNotional * UNIT
}

/**
 * Books a true-up (order.fill_trued_up): the quote cash and notional the synthetic fills booked for the quantity are
 * replaced by the real fill's, and the real fee is paid. The base asset moved with the synthetic fill already. What
 * rounding the real notional dropped is kept (Order.cumNotionalRemainder): `notional` is the real fill's for `qty` at
 * `lastPrice`, rounded (synthetic-cover.ts emitTrueUp); the synthetic notional taken back is as it was booked, rounded,
 * so once every real fill has come the order's exact notional is theirs.
 */
export function bookTrueUp(state: KernelState, order: Order, trueUp: { qty: Units; lastPrice: Units; cash: Units; notional: Units; syntheticCash: Units; syntheticNotional: Units; fee: Units; feeAsset: string }): void {
  const balances = ledgerOf(state, order.accountId).balances
  const cashDelta = trueUp.cash - trueUp.syntheticCash
  if (cashDelta !== 0n) addTo(balances, order.quoteAsset, order.side === 'buy' ? -cashDelta : cashDelta)
  if (trueUp.fee !== 0n) addTo(balances, trueUp.feeAsset, -trueUp.fee)
  order.cumNotional += trueUp.notional - trueUp.syntheticNotional
  order.cumNotionalRemainder += trueUp.qty * trueUp.lastPrice - trueUp.notional * UNIT
}
