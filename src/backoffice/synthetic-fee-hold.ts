/**
 * What a sell holds in its quote asset for the fee of its synthetic quantity pending a true-up (TrackedOrder
 * .syntheticFeeHeld), as the kernel's Order.syntheticFeeHeld: a synthetic fill is booked at the order's limit with no
 * fee and credits the proceeds at once; the true-up pays the real fee from the account's quote. Each synthetic fill
 * adds the taker-fee allowance on its cash, at the recorded kernel configuration's rate (LedgerState.takerFeeBps);
 * each true-up keeps the share of what is still pending; the order's retirement releases the rest (retention.ts).
 * The amounts are the kernel's own (src/kernel/reservations.ts syntheticFeeAllowance, syntheticFeeKept).
 *
 * A section written before the hold was kept has none on any order, as the kernel's snapshot of those builds; a sell's
 * pending quantity those builds did not keep is none to take from.
 */

import type { Units } from '../domain/decimal.ts'
import type { EventOf } from '../domain/events/index.ts'
import { syntheticFeeAllowance, syntheticFeeKept } from '../kernel/reservations.ts'
import { addReserved, type ReservedHolds, type TrackedOrder } from './orders.ts'

/** A sell's synthetic fill just booked (its `order.synthetic_pending`): the allowance on its cash is held. */
export function holdSyntheticFee(order: TrackedOrder, event: EventOf<'order.synthetic_pending'>, takerFeeBps: number, reserved: ReservedHolds): void {
  if (order.side !== 'sell') return
  setFeeHeld(order, (order.syntheticFeeHeld ?? 0n) + syntheticFeeAllowance(event.qty, event.price, takerFeeBps), reserved)
}

/** A true-up took the sell's synthetic quantity pending from `pendingBefore` to what it holds now: the rest's share is kept. */
export function keepSyntheticFee(order: TrackedOrder, pendingBefore: Units | undefined, reserved: ReservedHolds): void {
  const held = order.syntheticFeeHeld
  if (held === undefined) return
  setFeeHeld(order, syntheticFeeKept(held, pendingBefore ?? 0n, order.syntheticPendingQty ?? 0n), reserved)
}

/** The order retired: a true-up of it is never booked, so what it held for the fee is released. */
export function releaseSyntheticFee(order: TrackedOrder, reserved: ReservedHolds): void {
  if (order.syntheticFeeHeld !== undefined) setFeeHeld(order, 0n, reserved)
}

function setFeeHeld(order: TrackedOrder, target: Units, reserved: ReservedHolds): void {
  const held = order.syntheticFeeHeld ?? 0n
  if (target !== held) addReserved(reserved, order.accountId, order.quoteAsset, target - held)
  if (target === 0n) delete order.syntheticFeeHeld
  else order.syntheticFeeHeld = target
}
