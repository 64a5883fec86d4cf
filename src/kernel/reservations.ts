/**
 * Reservation arithmetic. A buy holds quote cash for qty × worst price plus a taker-fee allowance, each rounded up per
 * lot; a sell holds the base position. What is held shrinks in proportion to the filled quantity and is released at a
 * terminal state, but for a buy's synthetic quantity pending its true-up (syntheticHeldFor). Rounding always favours
 * holding more, never less.
 */

import { assert } from '../domain/assert.ts'
import { maxUnits, minUnits, mulUnits, smallBigInt, type Units } from '../domain/decimal.ts'
import type { Instrument } from '../domain/instruments.ts'
import type { Order, Side } from '../domain/orders.ts'
import { isTerminal } from '../domain/states.ts'

const BPS_PER_ONE = 10_000n

export function feeAllowance(notional: Units, takerFeeBps: number): Units {
  return ceilDiv(notional * smallBigInt(takerFeeBps), BPS_PER_ONE)
}

export interface ReservationQuote {
  asset: string
  amount: Units
}

/**
 * What an order must hold: quote cash for a buy (with fees), base quantity for a sell.
 *
 * A buy holds, for each lot of its quantity, one lot's cash at the worst price rounded up plus the taker-fee allowance
 * on that rounded up: venues fill whole lots, each part's cash is rounded up and (by a venue that rounds a part's fee
 * up on its notional, as the sim venue does) so is its fee, and a rounded-up amount of k lots is never more than k
 * times one lot's rounded up. So whatever the split, the parts filled so far cost no more than their lots' share of
 * the reservation — the share a fill releases (remainingAfterFill is exact on whole lots) — and an account with no
 * more than the reservation available never goes below zero available, as long as the venue's fee rate is no higher
 * than `takerFeeBps` (specs/backoffice/reservation-split-fills.property.test.ts). Where one lot's cash and fee are
 * whole units, this is exactly qty × price plus the allowance on the whole notional.
 */
export function reservationFor(options: {
  side: Side
  qty: Units
  worstPrice: Units
  takerFeeBps: number
  instrument: Pick<Instrument, 'baseAsset' | 'quoteAsset' | 'lotSize'>
}): ReservationQuote {
  const { instrument } = options
  if (options.side === 'sell') return { asset: instrument.baseAsset, amount: options.qty }
  // A quantity off the current lot (a resend after the lot changed) counts its last part as a whole lot: more held.
  const lots = ceilDiv(options.qty, instrument.lotSize)
  const lotCash = mulUnits(instrument.lotSize, options.worstPrice, 'up')
  return { asset: instrument.quoteAsset, amount: lots * (lotCash + feeAllowance(lotCash, options.takerFeeBps)) }
}

/** What stays held after `cumQty` of `qty` has filled: the unfilled share of the total, rounded up. */
export function remainingAfterFill(total: Units, qty: Units, cumQty: Units): Units {
  assert(qty > 0n, 'order quantity must be positive')
  if (cumQty < 0n || cumQty > qty) assert(false, `cumQty ${cumQty} must be within 0..${qty}`)
  // Nothing filled (most orders, most of their life): the whole total, without a product and a division to find it. A
  // negative total still goes through ceilDiv, whose assertion refused it before this shortcut (a held amount below
  // zero would raise the available balance).
  if (cumQty === 0n && total >= 0n) return total
  return ceilDiv(total * (qty - cumQty), qty)
}

/**
 * What an order must hold now: its synthetic quantity's share (syntheticHeldFor) and, unless terminal, the unfilled
 * share of its reservation and, while an amend is requested or in flight, of the amend's too, whichever is larger —
 * until the venue answers, the order may be either, so it holds the worst case. An amend the fills have already
 * overtaken cannot apply and adds nothing.
 */
export function heldFor(order: HeldOrder): Units {
  const synthetic = syntheticHeldFor(order)
  if (isTerminal(order.status)) return synthetic
  const own = remainingAfterFill(order.reservation.total, order.qty, minUnits(order.cumQty, order.qty))
  const amend = order.amend
  if (amend === null || amend.stage === 'failed' || order.cumQty >= amend.qty) return own + synthetic
  return maxUnits(own, remainingAfterFill(amend.reservationTotal, amend.qty, order.cumQty)) + synthetic
}

export type HeldOrder = Pick<Order, 'status' | 'side' | 'reservation' | 'qty' | 'cumQty' | 'amend' | 'syntheticHeldQty' | 'syntheticHeldCash'>

/**
 * The hold rule this build decides by and records (kernel.hold_rule_adopted, at configure): a synthetic fill keeps
 * held what its true-up will pay — a buy its reservation's share beyond the synthetic cash (syntheticHeldFor), a sell
 * the fee allowance on its proceeds (syntheticFeeAllowance) — until the true-ups take its quantity. Only synthetic
 * fills applied after the log adopted it hold (Order.syntheticHeldQty): one applied before holds nothing, as the
 * builds before decided, so each part of a log replays as it was decided.
 */
export const HOLD_RULE_SYNTHETIC = 1

/**
 * Hold rule 2, which this build decides by and records: rule 1, and an ended order that still holds for synthetic
 * quantity retires once it ended at least terminalOrderRetireAfterMs ago, however few orders ended (retention.ts). Under
 * rule 1 it retired only once more than terminalOrdersKeptMax orders had ended, so on a quiet gateway a true-up that
 * never came kept the hold for good. A real fill of it after that is an orphan (REPORT_ORPHANED), as for any retired
 * order. A rule of the holds, not of retirement: it bounds how long a synthetic fill holds, and only orders holding are
 * retired by it.
 */
export const HOLD_RULE_GRACE = 2

/**
 * What a buy keeps held for its synthetic quantity pending a true-up (kernel/synthetic-cover.ts), terminal or not: its
 * reservation's share for the quantity held under the hold rule (Order.syntheticHeldQty) less the cash the synthetic
 * fills paid for it. A synthetic fill is booked at the order's limit with no fee; the real fills behind it come later
 * and their true-up pays the real fee and any cash above the synthetic (order.fill_trued_up). Released with the fill,
 * that share could be reserved by another order, and the true-up then took the account's available cash below zero.
 * It goes as the true-ups take the held quantity, and when the order retires (retention.ts: a true-up of it is never
 * booked). A sell holds its base position, which the synthetic fill moved in full; its fee allowance is held in its
 * quote asset apart (Order.syntheticFeeHeld, syntheticFeeAllowance).
 */
export function syntheticHeldFor(order: Pick<HeldOrder, 'side' | 'reservation' | 'qty' | 'cumQty' | 'syntheticHeldQty' | 'syntheticHeldCash'>): Units {
  const heldQty = order.syntheticHeldQty
  if (order.side !== 'buy' || heldQty === 0n) return 0n
  const filled = minUnits(order.cumQty, order.qty)
  const share = remainingAfterFill(order.reservation.total, order.qty, maxUnits(0n, filled - heldQty)) - remainingAfterFill(order.reservation.total, order.qty, filled)
  return maxUnits(0n, share - order.syntheticHeldCash)
}

/**
 * The synthetic quantity held under the hold rule, and its cash, after a synthetic fill (`added`: applied after the
 * log adopted the rule) or a true-up (`taken`). A true-up takes the held quantity first: the pending quantity is one
 * pool at the order's limit, and a back office restored from a section of a build before the rule knows only the held
 * part (src/backoffice/orders.ts takeSyntheticPending takes it alike). A true-up of quantity never held releases none.
 */
export function syntheticHeldAfter(
  order: Pick<Order, 'syntheticHeldQty' | 'syntheticHeldCash'>,
  change: { added: { qty: Units; cash: Units } } | { taken: { qty: Units; syntheticCash: Units } },
): { syntheticHeldQty: Units; syntheticHeldCash: Units } {
  if ('added' in change) return { syntheticHeldQty: order.syntheticHeldQty + change.added.qty, syntheticHeldCash: order.syntheticHeldCash + change.added.cash }
  const { qty, syntheticCash } = change.taken
  if (qty >= order.syntheticHeldQty) return { syntheticHeldQty: 0n, syntheticHeldCash: 0n }
  return { syntheticHeldQty: order.syntheticHeldQty - qty, syntheticHeldCash: maxUnits(0n, order.syntheticHeldCash - syntheticCash) }
}

/**
 * What a sell's synthetic fill of `qty` at `price` adds to what it holds in its quote asset for the fee
 * (Order.syntheticFeeHeld): the taker-fee allowance on its cash, rounded up. The synthetic fill is booked at the
 * order's limit with no fee and credits the proceeds at once; the true-up (order.fill_trued_up) pays the real fee from
 * the account's quote. Free, the proceeds could be reserved by another order first, and the true-up then took the
 * account's available quote below zero. Held without a funds check: the proceeds just credited cover it.
 */
export function syntheticFeeAllowance(qty: Units, price: Units, takerFeeBps: number): Units {
  return feeAllowance(mulUnits(qty, price, 'up'), takerFeeBps)
}

/**
 * What a sell keeps held for the fee once a true-up took its synthetic quantity held (Order.syntheticHeldQty) from
 * `pendingBefore` to `pendingAfter`: the share of `held` for what is still held, rounded up; none once nothing is. It
 * is released in full when the order retires (retention.ts: a true-up of it is never booked), terminal or not until
 * then.
 */
export function syntheticFeeKept(held: Units, pendingBefore: Units, pendingAfter: Units): Units {
  if (pendingAfter === 0n || pendingBefore === 0n) return 0n
  return ceilDiv(held * pendingAfter, pendingBefore)
}

export function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  assert(denominator > 0n && numerator >= 0n, 'ceilDiv takes a non-negative numerator and a positive denominator')
  // The quotient and a remainder (none made when it is zero), not (n + d − 1) / d: every non-zero bigint result is a
  // heap object, and that form made three per call.
  const quotient = numerator / denominator
  return numerator % denominator === 0n ? quotient : quotient + 1n
}
