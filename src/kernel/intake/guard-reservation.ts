/**
 * Guard 5 — reservation: the account must have the cash (buy: qty × worst price + taker-fee allowance) or the
 * position (sell: qty) available, i.e. not already held by other open orders.
 *
 * Why from the unrounded order: §5 fixes reservation (5) before rounding (6). Rounding only ever lowers what an order
 * can cost — the quantity rounds down to the lot, a buy price rounds down to the tick — so the unrounded worst case is
 * an upper bound of the rounded order's cost. The kernel reserves exactly this checked amount; the small excess is
 * released with the rest at the terminal state. A market order's worst price is the reference price pushed to the
 * edge of the instrument's price band.
 */

import { formatDecimal, type Units } from '../../domain/decimal.ts'
import type { Instrument } from '../../domain/instruments.ts'
import type { KernelParams } from '../../domain/kernel-config.ts'
import type { PlaceBody } from '../../domain/orders.ts'
import { ceilDiv, reservationFor, type ReservationQuote } from '../reservations.ts'
import { availableBalance, type KernelState } from '../state.ts'
import { failed, passed, type GuardResult } from './guard-result.ts'

export function reservationGuard(
  state: KernelState,
  input: { body: PlaceBody; instrument: Instrument; params: KernelParams; referencePrice: Units },
): GuardResult<ReservationQuote> {
  const { body, instrument } = input
  const worstPrice = body.price ?? ceilDiv(input.referencePrice * BigInt(10_000 + instrument.priceBandBps), 10_000n)
  const quote = reservationFor({
    side: body.side,
    qty: body.qty,
    worstPrice,
    takerFeeBps: input.params.takerFeeBps,
    baseAsset: instrument.baseAsset,
    quoteAsset: instrument.quoteAsset,
  })
  const available = availableBalance(state, body.account, quote.asset)
  const inputs = {
    side: body.side,
    reduceOnly: body.reduce_only,
    asset: quote.asset,
    amount: formatDecimal(quote.amount),
    available: formatDecimal(available),
    worstPrice: formatDecimal(worstPrice),
    takerFeeBps: input.params.takerFeeBps,
  }
  // Spot accounts hold no short positions, so a reduce-only buy can only open one.
  if (body.reduce_only && body.side === 'buy') return failed('REDUCE_ONLY_WOULD_INCREASE', inputs)
  if (available < quote.amount) return failed(body.side === 'buy' ? 'INSUFFICIENT_FUNDS' : 'INSUFFICIENT_POSITION', inputs)
  return passed(quote, inputs)
}
