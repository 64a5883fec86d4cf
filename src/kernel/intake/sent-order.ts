/**
 * The order as it will be sent, for every guard that prices it. Guard 6 rounds the price to the tick (a buy down, a
 * sell up: never more aggressive than asked) and the quantity down to the lot; the guards before it (policy's max
 * notional, data health's band, the reservation) look at these same rounded values, so what they pass is what goes
 * out — a sell priced just inside a limit or the band cannot round up past it, and nothing is held for the part of an
 * order rounding takes off. A market order has no price: its worst case is the reference price pushed to the upper
 * edge of the instrument's band, the highest price the gateway assumes it can fill at (a buy pays at most that; a
 * sell's notional is at most qty × that).
 */

import { roundToStep, type Units } from '../../domain/decimal.ts'
import type { Instrument } from '../../domain/instruments.ts'
import type { Side } from '../../domain/orders.ts'
import { ceilDiv } from '../reservations.ts'

/** The limit price as sent: rounded to the tick, a buy's down and a sell's up. */
export function sentPrice(price: Units, side: Side, instrument: Instrument): Units {
  return roundToStep(price, instrument.tickSize, side === 'buy' ? 'down' : 'up')
}

/** The quantity as sent: rounded down to the lot. */
export function sentQty(qty: Units, instrument: Instrument): Units {
  return roundToStep(qty, instrument.lotSize, 'down')
}

/** A market order's worst price: the reference price at the upper edge of the band, rounded up. */
export function marketWorstPrice(referencePrice: Units, instrument: Instrument): Units {
  return ceilDiv(referencePrice * BigInt(10_000 + instrument.priceBandBps), 10_000n)
}

/** The price an order is priced at by the guards: its limit as sent, or a market order's worst price. */
export function guardPrice(order: { price: Units | null; side: Side }, instrument: Instrument, referencePrice: Units): Units {
  return order.price === null ? marketWorstPrice(referencePrice, instrument) : sentPrice(order.price, order.side, instrument)
}
